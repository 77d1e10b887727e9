/**
 * A/B comparison of two builds of the write path, for tuning on noisy machines:
 *   tsx bench/compare-builds.ts <a/index.js> <b/index.js> [rounds]
 * (e.g. copy `dist` aside, change the code, `npm run build`, compare). Both builds run in this one
 * process, alternating rounds of 10,000 tasks, so a drift of the machine hits both alike; it prints
 * each build's rounds and the median of B/A per round. Differences under about 10% are noise: run it both ways round.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import 'reflect-metadata';
import { DataSource } from 'typeorm';

interface Build {
  name: string;
  manager: { launch(kind: string): Promise<unknown>; stop(): Promise<void> };
  finished: () => number;
  times: number[];
}

const [pathA, pathB] = process.argv.slice(2);
const rounds = Number(process.argv[4] ?? 10);
if (!pathA || !pathB) {
  console.error('usage: tsx bench/compare-builds.ts <a/index.js> <b/index.js> [rounds]');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'stablehand-compare-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));

async function load(name: string, path: string): Promise<Build> {
  // Another build of this library: typed as the current source, whose API the bench uses.
  const lib = (await import(resolve(path))) as typeof import('../src/index.js');
  const dataSource = new DataSource({
    type: 'better-sqlite3', database: join(dir, `${name}.db`), enableWAL: true,
    entities: lib.stablehandEntities, migrations: [lib.CreateStablehandTables1732000000000],
  });
  await dataSource.initialize();
  await dataSource.runMigrations();
  const manager = new lib.ModelTrackingTaskManager({ dataSource, concurrency: 64 });
  manager.define('bench', { label: 'Bench', run: ({ progress }) => { progress(50); return { ok: true }; } });
  let finished = 0;
  manager.on('cleanup', () => { finished++; });
  await manager.start();
  return { name, manager, finished: () => finished, times: [] };
}

async function round(build: Build, tasks: number): Promise<number> {
  const target = build.finished() + tasks;
  let launched = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: 1_000 }, async () => {
    while (launched < tasks) {
      launched++;
      await build.manager.launch('bench');
    }
  }));
  while (build.finished() < target) await new Promise((done) => setTimeout(done, 1));
  return performance.now() - started;
}

const builds = [await load('A', pathA), await load('B', pathB)];
for (let r = 0; r < rounds; r++) {
  for (const build of r % 2 ? [...builds].reverse() : builds) build.times.push(await round(build, 10_000));
}
const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
// The first two rounds warm the code up and are left out.
for (const build of builds) console.log(`${build.name}: median ${median(build.times.slice(2)).toFixed(0)} ms; rounds ${build.times.map((t) => t.toFixed(0)).join(' ')}`);
const ratios = builds[0].times.map((a, i) => builds[1].times[i] / a).slice(2);
console.log(`B/A, median per round: ${median(ratios).toFixed(3)} (below 1 means B is faster)`);
for (const build of builds) await build.manager.stop();
