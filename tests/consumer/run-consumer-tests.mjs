#!/usr/bin/env node
// Proof that the package installs: packs it, installs the tarball into throwaway host apps in a
// temp folder, starts each, launches a task through the router and reads it back.
// Run with `npm run test:consumer` (after `npm run build`). Needs the npm registry.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const work = mkdtempSync(join(tmpdir(), 'stablehand-consumer-'));
const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

const HOSTS = [
  {
    name: 'esm-typeorm1',
    deps: ['typeorm@^1.1.1', 'better-sqlite3@^12.6.2', 'express@^5.1.0', 'reflect-metadata@^0.2.2', 'typescript@~6.0.3', '@types/express@^5', '@types/node@^20'],
    allowScripts: { 'better-sqlite3': true },
    build: true,
  },
  {
    name: 'esm-servers',
    // express's types too: the package's declarations name them (the router's), even for a host that
    // mounts no router, when it checks library types (skipLibCheck: false).
    deps: ['typeorm@^1.1.1', 'pg@^8.13.0', 'mysql2@^3.11.0', 'reflect-metadata@^0.2.2', 'typescript@~6.0.3', '@types/node@^20', '@types/express@^5'],
    allowScripts: {},
    build: true,
  },
  {
    name: 'cjs-typeorm03',
    deps: ['typeorm@^0.3.20', 'sqlite3@^5.1.7', 'express@^5.1.0', 'reflect-metadata@^0.2.2'],
    allowScripts: { sqlite3: true },
    build: false,
  },
];

let passed = 0;
let failed = 0;
function check(name, fn) {
  try {
    fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (error) {
    failed++;
    console.log(`FAIL ${name}\n${error.stdout ?? ''}${error.message}`);
  }
}

const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', work], root))[0];
const tarball = join(work, packed.filename);

check('npm pack ships only dist, the guides, README, CHANGELOG, LICENSE and package.json', () => {
  // The guides travel with the package, so the README's links and screenshot work on npm too.
  const allowed = /^(dist\/.+|docs\/[\w-]+\.(md|png)|README\.md|CHANGELOG\.md|LICENSE|package\.json)$/;
  const stray = packed.files.map((f) => f.path).filter((path) => !allowed.test(path));
  if (stray.length) throw new Error(`unexpected files in the package: ${stray.join(', ')}`);
  for (const needed of ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts', 'README.md', 'CHANGELOG.md', 'LICENSE', 'docs/getting-started.md', 'docs/stable-routines.png']) {
    if (!packed.files.some((f) => f.path === needed)) throw new Error(`${needed} is missing from the package`);
  }
});

cpSync(join(here, 'hosts', 'check-router.mjs'), join(work, 'hosts', 'check-router.mjs'));
for (const host of HOSTS) {
  const dir = join(work, 'hosts', host.name);
  cpSync(join(here, 'hosts', host.name), dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...manifest, allowScripts: host.allowScripts }, null, 2));
  check(`${host.name}: installs, starts, launches a task through the router and reads it back`, () => {
    console.log(`---- ${host.name}: npm install (native modules compile from source; this takes a minute)`);
    npm(['install', '--no-audit', '--no-fund', tarball, ...host.deps], dir);
    if (host.build) npm(['run', 'build'], dir);
    const out = npm(['start'], dir);
    if (!/: OK \(task /.test(out)) throw new Error(`the host did not report OK:\n${out}`);
    console.log(out.trim().split('\n').pop());
  });
}

if (!process.env.KEEP_CONSUMER_DIR) rmSync(work, { recursive: true, force: true });
// .ci/run adds these counts to the suite's own in its closing line.
mkdirSync(join(root, 'test-output'), { recursive: true });
writeFileSync(join(root, 'test-output', 'consumer.json'), JSON.stringify({ passed, failed }));
console.log(`consumer: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
