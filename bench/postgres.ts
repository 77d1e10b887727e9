/**
 * PostgreSQL write-path benchmark (`npm run bench:postgres`, with STABLEHAND_TEST_POSTGRES_URL set).
 * Prints, from one run on one machine:
 * - tasks/s of the library: N tasks launched through a ModelTrackingTaskManager (at most 1,000
 *   launches in flight, each awaited until its PENDING record is committed), each reporting progress
 *   once and returning a small result, timed until every record is terminal and committed;
 * - tasks/s of the raw floor: node-postgres running the same per-task statements (insert, running,
 *   progress, done; each its own transaction) for 20 tasks in flight on a pool of 20 connections,
 *   measured before and after every library run because the machine drifts;
 * - their ratio.
 * Both sides write the same table, emptied before each run, in a schema of their own (sh_bench)
 * whose tables are dropped at the end.
 */
import { createRequire } from 'node:module';
import 'reflect-metadata';
import { DataSource } from 'typeorm';
// The built package, as a host runs it (`npm run bench:postgres` builds it first).
import { stablehandEntities, stablehandMigrations } from '../dist/index.js';
import { fmt, median, runLibrary, type LibraryRun } from './support.js';

const URL = process.env.STABLEHAND_TEST_POSTGRES_URL;
const SCHEMA = 'sh_bench';
const TABLE = `"${SCHEMA}"."stablehand_task"`;
const N = Number(process.env.BENCH_TASKS ?? 10_000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 1_000);
const FLOOR_IN_FLIGHT = 20;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

interface PgResult {
  rows: Record<string, unknown>[];
}
interface PgPool {
  query(sql: string, params?: unknown[]): Promise<PgResult>;
  end(): Promise<void>;
}
const { Pool } = createRequire(import.meta.url)('pg') as {
  Pool: new (options: { connectionString: string; max: number }) => PgPool;
};

async function floor(pool: PgPool): Promise<number> {
  await empty(pool);
  // The same columns the library writes when it creates a record; the rest stay NULL.
  const insert = `INSERT INTO ${TABLE} (id, task_name, label, status, user_label, affected, input, cleaned_up, created_at, ` +
    'updated_at, owner, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)';
  const running = `UPDATE ${TABLE} SET status = $1, started_at = $2, updated_at = $3 WHERE id = $4`;
  const progress = `UPDATE ${TABLE} SET progress = $1, updated_at = $2 WHERE id = $3`;
  // The library folds the cleanup mark into its terminal update; so does the floor.
  const done = `UPDATE ${TABLE} SET status = $1, result = $2, completed_at = $3, duration = $4, updated_at = $5, ` +
    'cleaned_up = $6 WHERE id = $7';
  let next = 0;
  // What a hand-written tracker does: one statement per lifecycle step, each committed on its own
  // with its own timestamp, a task's steps one after another.
  const worker = async () => {
    while (next < N) {
      const id = `floor-${String(next++).padStart(10, '0')}`;
      const created = new Date();
      await pool.query(insert, [id, 'bench', 'Bench task', 'PENDING', 'Anonymous', null, null, false, created, created, 'bench', created]);
      const startedAt = new Date();
      await pool.query(running, ['RUNNING', startedAt, startedAt, id]);
      await pool.query(progress, [50, new Date(), id]);
      const doneAt = new Date();
      await pool.query(done, ['DONE', JSON.stringify({ ok: true }), doneAt, 0.001, doneAt, true, id]);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: FLOOR_IN_FLIGHT }, worker));
  return N / ((performance.now() - started) / 1000);
}

async function library(dataSource: DataSource, pool: PgPool): Promise<LibraryRun> {
  await empty(pool);
  return runLibrary(dataSource, N, IN_FLIGHT, () => terminalCount(pool));
}

async function terminalCount(pool: PgPool): Promise<number> {
  const { rows } = await pool.query(`SELECT COUNT(*) AS n FROM ${TABLE} WHERE status IN ('DONE', 'FAILED', 'CANCELLED')`);
  return Number(rows[0].n);
}

async function empty(pool: PgPool): Promise<void> {
  await pool.query(`TRUNCATE ${TABLE}, "${SCHEMA}"."stablehand_task_lock"`);
}

async function dropTables(pool: PgPool): Promise<void> {
  for (const table of ['stablehand_task_key', 'stablehand_task_lock', 'stablehand_task', 'migrations']) await pool.query(`DROP TABLE IF EXISTS "${SCHEMA}"."${table}"`);
}

async function main(url: string): Promise<void> {
  const pool = new Pool({ connectionString: url, max: FLOOR_IN_FLIGHT });
  await pool.query(`CREATE SCHEMA IF NOT EXISTS "${SCHEMA}"`);
  await dropTables(pool);
  const dataSource = new DataSource({
    type: 'postgres', url, schema: SCHEMA, entities: stablehandEntities, migrations: stablehandMigrations, logging: false,
  });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations();
    console.log(`stablehand PostgreSQL write-path benchmark: ${fmt(N)} tasks; library ${fmt(IN_FLIGHT)} launches in flight, ` +
      `raw pg ${FLOOR_IN_FLIGHT} tasks in flight on ${FLOOR_IN_FLIGHT} connections; schema ${SCHEMA}`);
    // Warm-up, so that both sides are measured with their code optimised.
    await library(dataSource, pool);
    await library(dataSource, pool);
    await floor(pool);
    // The library runs ROUNDS times, each between two floor runs; its median is divided by the
    // mean of every floor run around it.
    const floors = [await floor(pool)];
    const runs: LibraryRun[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      runs.push(await library(dataSource, pool));
      floors.push(await floor(pool));
    }
    const floorMean = floors.reduce((a, b) => a + b, 0) / floors.length;
    const libraryMedian = median(runs.map((run) => run.rate));
    console.log(`raw pg runs:         ${floors.map((f) => fmt(f)).join(', ')} tasks/s (mean ${fmt(floorMean)})`);
    console.log(`library runs:        ${runs.map((r) => fmt(r.rate)).join(', ')} tasks/s (median ${fmt(libraryMedian)})`);
    console.log(`launch latency p50:  ${fmt(median(runs.map((r) => r.launchP50)), 1)} ms (resolves once the PENDING record is committed)`);
    console.log(`ratio library/raw pg PostgreSQL write path: ${fmt(libraryMedian / floorMean, 2)} (target >= 2.5)`);
  } finally {
    await dataSource.destroy();
    await dropTables(pool);
    // Left in place if anything else was put in it.
    await pool.query(`DROP SCHEMA IF EXISTS "${SCHEMA}"`).catch(() => undefined);
    await pool.end();
  }
}

if (URL) {
  await main(URL);
} else {
  console.error('STABLEHAND_TEST_POSTGRES_URL is not set: point it at a PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/test');
  process.exitCode = 1;
}
