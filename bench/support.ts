import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ModelTrackingTaskManager, stablehandEntities, stablehandMigrations } from '../dist/index.js';

// One directory per process, removed on exit: a listener per data source would trip Node's
// too-many-listeners warning.
let benchDir: string | null = null;
let files = 0;

/** A fresh SQLite file with the bundled tables, opened through TypeORM as a host would. */
export async function freshDataSource(name: string): Promise<DataSource> {
  if (!benchDir) {
    const dir = mkdtempSync(join(tmpdir(), 'stablehand-bench-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    benchDir = dir;
  }
  const dir = benchDir;
  name = `${name}-${++files}`;
  const dataSource = new DataSource({
    type: 'better-sqlite3',
    database: join(dir, `${name}.db`),
    enableWAL: true,
    entities: stablehandEntities,
    migrations: stablehandMigrations,
  });
  await dataSource.initialize();
  await dataSource.runMigrations();
  return dataSource;
}

/** Formats a number with thousands separators. */
export function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** The median of `values` (the mean of the middle two when their count is even). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** What one library run measured. */
export interface LibraryRun {
  rate: number;
  launchP50: number;
}

/** The task every benchmark runs: one progress report, a small result. */
export const BENCH_TASK = {
  label: 'Bench task',
  run: ({ progress }: { progress: (percent: number) => void }) => {
    progress(50);
    return { ok: true };
  },
};

/**
 * The library side of a write-path benchmark: `tasks` launches through a ModelTrackingTaskManager
 * on `dataSource`, at most `inFlight` at once, each task reporting progress once and returning a
 * small result, timed until `terminalCount()` (committed terminal records) reaches `tasks`.
 */
export async function runLibrary(
  dataSource: DataSource, tasks: number, inFlight: number, terminalCount: () => Promise<number>, onProgress?: (done: number) => void,
): Promise<LibraryRun> {
  const manager = new ModelTrackingTaskManager({ dataSource, concurrency: 64 });
  manager.define('bench', BENCH_TASK);
  await manager.start();
  let finished = 0;
  manager.on('cleanup', () => {
    finished++;
    if (onProgress && finished % 10_000 === 0) onProgress(finished);
  });
  const started = performance.now();
  let launched = 0;
  const latencies: number[] = [];
  const worker = async () => {
    while (launched < tasks) {
      launched++;
      const begun = performance.now();
      await manager.launch('bench');
      latencies.push(performance.now() - begun);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  // Counting rows is not free, so the database is asked only once every task has cleaned up; the
  // count sees committed rows only.
  while (finished < tasks) await new Promise((resolve) => setTimeout(resolve, 1));
  while ((await terminalCount()) < tasks) await new Promise((resolve) => setTimeout(resolve, 1));
  const rate = tasks / ((performance.now() - started) / 1000);
  await manager.stop();
  return { rate, launchP50: median(latencies) };
}
