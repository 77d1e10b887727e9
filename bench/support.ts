import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { stablehandEntities, stablehandMigrations } from '../dist/index.js';

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
