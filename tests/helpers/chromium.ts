import { existsSync } from 'node:fs';
import { describe } from 'vitest';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** Debian's Chromium (or `CHROMIUM_PATH`), when this machine has it. */
export const chromiumPath = CANDIDATES.find((path): path is string => Boolean(path && existsSync(path)));

/** `describe`, skipped without Chromium with a line saying which tests it skips and why. */
export function describeWithBrowser(what: string): ReturnType<typeof describe.skipIf> {
  if (!chromiumPath) console.warn(`[e2e] skipping ${what}: no Chromium found (set CHROMIUM_PATH or install the chromium package).`);
  return describe.skipIf(!chromiumPath);
}
