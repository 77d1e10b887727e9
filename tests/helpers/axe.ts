import { createRequire } from 'node:module';
import type { AxeResults, ImpactValue, RunOptions } from 'axe-core';
import type { Page } from 'playwright-core';

/** One axe rule that failed, flattened so an assertion message reads without a debugger. */
export interface AxeViolationSummary {
  id: string;
  impact: ImpactValue | undefined;
  help: string;
  /** One line per failing element: its selector, its opening markup and why it failed. */
  nodes: string[];
}

export interface AxeOptions {
  /** Rule tags to run; by default WCAG 2.0/2.1 A and AA plus axe's best practices. */
  tags?: string[];
}

const DEFAULT_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
// The plain package, not @axe-core/playwright (which needs Node 22): its source is injected as is.
const AXE_SOURCE = (createRequire(import.meta.url)('axe-core') as { source: string }).source;

function shorten(text: string, max = 120): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * Runs axe over the page and returns its violations. The page's CSP refuses inline scripts
 * without its nonce, so the page must come from a context created with `bypassCSP: true`:
 * that loosens the test browser only, never the policy the library sends.
 */
export async function axeViolations(page: Page, options: AxeOptions = {}): Promise<AxeViolationSummary[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE_SOURCE });
  const runOptions: RunOptions = { runOnly: { type: 'tag', values: options.tags ?? DEFAULT_TAGS } };
  const results = await page.evaluate(
    (run) => (window as unknown as Window & { axe: { run(context: Document, options: RunOptions): Promise<AxeResults> } }).axe.run(document, run),
    runOptions,
  );
  return results.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    nodes: violation.nodes.map((node) => {
      // The check messages carry the useful numbers, e.g. a contrast ratio and both colours.
      const why = [...node.any, ...node.all, ...node.none].map((check) => check.message).join('; ');
      return `${node.target.join(' ')} ${shorten(node.html)} — ${why}`;
    }),
  }));
}

/** The violations as a readable block, for an assertion message. */
export function formatViolations(violations: AxeViolationSummary[]): string {
  return violations
    .map((v) => [`${v.id} (${v.impact ?? 'no impact'}): ${v.help}`, ...v.nodes.map((node) => `  - ${node}`)].join('\n'))
    .join('\n');
}
