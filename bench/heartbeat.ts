/**
 * Heartbeat cost (`npm run bench:heartbeat`): one manager holding 1,000 running tasks on a SQLite
 * file, its statements counted at the driver while nothing happens but heartbeats. Prints the
 * statements per heartbeat interval (target: at most 1, whatever the number of tasks) and per
 * second, then the same for an idle manager (target: 0).
 */
import { ModelTrackingTaskManager } from '../dist/index.js';
import { fmt, freshDataSource } from './support.js';

const TASKS = Number(process.env.BENCH_HEARTBEAT_TASKS ?? 1_000);
const INTERVAL_MS = 200;
const INTERVALS = 10;

interface NativeStatement {
  run(...args: unknown[]): unknown;
  all(...args: unknown[]): unknown;
}
interface NativeDb {
  prepare(sql: string): NativeStatement;
}

/** Counts every statement the library's connection runs. */
function countStatements(db: NativeDb): { count: number } {
  const counter = { count: 0 };
  const prepare = db.prepare.bind(db);
  db.prepare = (sql: string): NativeStatement => {
    const statement = prepare(sql);
    const run = statement.run.bind(statement);
    const all = statement.all.bind(statement);
    statement.run = (...args: unknown[]) => {
      counter.count++;
      return run(...args);
    };
    statement.all = (...args: unknown[]) => {
      counter.count++;
      return all(...args);
    };
    return statement;
  };
  return counter;
}

async function measure(tasks: number): Promise<number> {
  const dataSource = await freshDataSource('heartbeat');
  const counter = countStatements((dataSource.driver as unknown as { databaseConnection: NativeDb }).databaseConnection);
  // The sweep looks for silent owners once per stale window / 4: make it rarer than the window
  // measured, so only heartbeats are counted.
  const manager = new ModelTrackingTaskManager({
    dataSource, concurrency: Math.max(1, tasks), heartbeatIntervalMs: INTERVAL_MS, staleAfterMs: 400 * INTERVAL_MS * INTERVALS,
  });
  let started = 0;
  const release: (() => void)[] = [];
  manager.define('hold', { label: 'Held', run: () => new Promise<void>((resolve) => { started++; release.push(resolve); }) });
  await manager.start();
  for (let i = 0; i < tasks; i++) await manager.launch('hold');
  while (started < tasks) await new Promise((resolve) => setTimeout(resolve, 10));
  // Let the start writes land, then count a whole number of intervals.
  await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 2));
  const before = counter.count;
  await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * INTERVALS));
  const statements = counter.count - before;
  for (const resolve of release) resolve();
  await manager.stop();
  await dataSource.destroy();
  return statements / INTERVALS;
}

const busy = await measure(TASKS);
const idle = await measure(0);
console.log(`stablehand heartbeat benchmark: one manager, heartbeat every ${INTERVAL_MS} ms, SQLite file`);
console.log(`statements per second: ${fmt(busy * (1000 / INTERVAL_MS), 1)} with ${fmt(TASKS)} running tasks; ${fmt(idle * (1000 / INTERVAL_MS), 1)} idle`);
console.log(`ratio heartbeat statements per process per interval (${fmt(TASKS)} running tasks): ${fmt(busy, 2)} (target <= 1)`);
console.log(`ratio heartbeat statements per interval (idle): ${fmt(idle, 2)} (target <= 0)`);
