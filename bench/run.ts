/**
 * Write-path benchmark (`npm run bench`). Prints, from one run on one machine:
 * - tasks/s of the library: N tasks launched through the public API (at most 1,000 launches in
 *   flight), each reporting progress once and returning a small result, timed until every record
 *   is terminal in a SQLite file;
 * - tasks/s of the raw floor: better-sqlite3 running the same per-task statements (insert,
 *   running, progress, done) in 500-statement transactions, measured before and after the library
 *   because the floor alone drifts by up to 1.5x within one process;
 * - their ratio, and heap growth across 100,000 finished tasks.
 */
// The built package, as a host runs it (`npm run bench` builds it first).
import { fmt, freshDataSource, median, runLibrary, type LibraryRun } from './support.js';

const N = Number(process.env.BENCH_TASKS ?? 10_000);
const IN_FLIGHT = 1_000;
const HEAP_TASKS = Number(process.env.BENCH_HEAP_TASKS ?? 100_000);

interface NativeDb {
  prepare(sql: string): { run(...params: unknown[]): unknown };
  exec(sql: string): void;
}

async function floor(): Promise<number> {
  const dataSource = await freshDataSource('floor');
  const db = (dataSource.driver as unknown as { databaseConnection: NativeDb }).databaseConnection;
  // The same columns the library writes when it creates a record; the rest stay NULL.
  const insert = db.prepare(
    'INSERT INTO stablehand_task (id, task_name, label, status, user_label, affected, input, cleaned_up, created_at, updated_at, owner, heartbeat_at) ' +
    'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const running = db.prepare('UPDATE stablehand_task SET status = ?, started_at = ?, updated_at = ? WHERE id = ?');
  const progress = db.prepare('UPDATE stablehand_task SET progress = ?, updated_at = ? WHERE id = ?');
  const done = db.prepare('UPDATE stablehand_task SET status = ?, result = ?, completed_at = ?, duration = ?, updated_at = ? WHERE id = ?');
  // What a naive hand-written tracker does: one statement per lifecycle step, each with its own
  // timestamp in TypeORM's SQLite format and the result serialised, 500 statements a transaction.
  const stamp = () => new Date().toISOString().replace('T', ' ').slice(0, 23);
  const started = performance.now();
  let statements = 0;
  const step = () => {
    if (++statements % 500 === 0) {
      db.exec('COMMIT');
      db.exec('BEGIN');
    }
  };
  db.exec('BEGIN');
  for (let i = 0; i < N; i++) {
    const id = `floor-${String(i).padStart(10, '0')}`;
    const created = stamp();
    insert.run(id, 'bench', 'Bench task', 'PENDING', 'Anonymous', null, null, 0, created, created, 'bench-host:1:abcdef', created);
    step();
    const startedAt = stamp();
    running.run('RUNNING', startedAt, startedAt, id);
    step();
    progress.run(50, stamp(), id);
    step();
    const doneAt = stamp();
    done.run('DONE', JSON.stringify({ ok: true }), doneAt, 0.001, doneAt, id);
    step();
  }
  db.exec('COMMIT');
  const rate = N / ((performance.now() - started) / 1000);
  await dataSource.destroy();
  return rate;
}

async function library(tasks: number, onProgress?: (done: number) => void): Promise<LibraryRun> {
  const dataSource = await freshDataSource('library');
  const terminal = async () => Number((await dataSource.query<{ n: number | string }[]>(
    "SELECT COUNT(*) AS n FROM stablehand_task WHERE status IN ('DONE', 'FAILED', 'CANCELLED')",
  ))[0].n);
  const run = await runLibrary(dataSource, tasks, IN_FLIGHT, terminal, onProgress);
  await dataSource.destroy();
  return run;
}

function heapMb(): number {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

async function heapGrowth(): Promise<{ at10k: number; atEnd: number } | null> {
  if (!globalThis.gc || HEAP_TASKS < 20_000) return null;
  const samples: number[] = [];
  await library(HEAP_TASKS, () => samples.push(heapMb()));
  return { at10k: samples[0], atEnd: samples[samples.length - 1] };
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

async function main(): Promise<void> {
  console.log(`stablehand write-path benchmark: ${fmt(N)} tasks, ${fmt(IN_FLIGHT)} launches in flight, SQLite file (better-sqlite3 through TypeORM)`);
  // Warm-up, so that both sides are measured with their code optimised (the first runs of each
  // are markedly slower on these machines).
  await library(N);
  await library(N);
  await floor();
  await floor();
  // Shared machines drift: the library runs ROUNDS times, each between two floor runs, and its
  // median is divided by the mean of every floor run around it.
  const floors = [await floor()];
  const runs: LibraryRun[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    runs.push(await library(N));
    floors.push(await floor());
  }
  const floorMean = floors.reduce((a, b) => a + b, 0) / floors.length;
  const libraryMedian = median(runs.map((run) => run.rate));
  console.log(`raw floor runs:      ${floors.map((f) => fmt(f)).join(', ')} tasks/s (mean ${fmt(floorMean)})`);
  console.log(`library runs:        ${runs.map((r) => fmt(r.rate)).join(', ')} tasks/s (median ${fmt(libraryMedian)})`);
  console.log(`launch latency p50:  ${fmt(median(runs.map((r) => r.launchP50)), 1)} ms (resolves once the PENDING record is durable)`);
  console.log(`ratio library/floor: ${fmt(libraryMedian / floorMean, 2)} (target >= 1.00)`);
  const heap = await heapGrowth();
  if (heap) {
    console.log(`heap after 10,000 finished tasks: ${fmt(heap.at10k, 1)} MiB; after ${fmt(HEAP_TASKS)}: ${fmt(heap.atEnd, 1)} MiB; ` +
      `growth ${fmt(heap.atEnd - heap.at10k, 1)} MiB (${fmt(((heap.atEnd - heap.at10k) * 2 ** 20) / (HEAP_TASKS - 10_000), 1)} bytes/task)`);
  } else {
    console.log(globalThis.gc ? `heap growth: skipped (BENCH_HEAP_TASKS=${HEAP_TASKS} is under 20,000)` : 'heap growth: skipped (run with node --expose-gc)');
  }
}

await main();
