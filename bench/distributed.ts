/**
 * Distributed benchmark (`npm run bench:distributed`, with STABLEHAND_TEST_POSTGRES_URL and
 * STABLEHAND_TEST_REDIS_URL set): stablehand on BullMQ with the PostgreSQL record store against
 * bare BullMQ, on the same processes. Prints, from one run on one machine:
 * - tasks/s of stablehand: this process is the web process, a ModelTrackingTaskManager on
 *   PostgreSQL with a producer-only BullMqRunner (concurrency 0) launching BENCH_TASKS tasks
 *   (10,000; at most BENCH_IN_FLIGHT, 1,000, launches in flight, each awaited until its PENDING
 *   record is committed and its job is in Redis); two worker processes
 *   (bench/distributed-worker.ts), each a ModelTrackingTaskManager on the same database started by
 *   runWorker with a BullMqRunner taking BENCH_WORKER_CONCURRENCY (50) jobs at once, run every
 *   task (progress once, a small result); timed from the first launch until every record is DONE
 *   and committed;
 * - tasks/s of bare BullMQ: this process adds as many jobs with Queue.add (the same data and
 *   options as BullMqRunner's jobs, removeOnComplete and removeOnFail 1000, with BullMQ's own job
 *   ids; as many adds in flight, each awaited), two worker processes run a BullMQ Worker with the
 *   same concurrency whose handler reports progress once (job.updateProgress) and returns the
 *   same small result; timed from the first add until every job has completed in Redis;
 * - CPU time per task of each side, so that a gap can be placed (the machine is usually the limit):
 *   this process, the workers, Redis (its INFO), PostgreSQL (its processes, read from /proc when
 *   the server runs on this machine) and the rest of the machine;
 * - their ratio: the median stablehand run over the median bare run (and, for reference, the
 *   ratio of their CPU time per task, which drifts less when the machine is the limit).
 * The four worker processes start (and say they are ready) before anything is timed and live
 * through the whole run; both sides run once for warm-up, then BENCH_ROUNDS (3) times each,
 * alternating which goes first. Records live in a schema of their own (sh_bench_dist), emptied
 * before each stablehand run and dropped at the end; Redis keys live under a prefix unique to the
 * run, deleted at the end (nothing else in Redis is touched).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import 'reflect-metadata';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
// The built package, as a host runs it (`npm run bench:distributed` builds it first).
import { BullMqRunner } from '../dist/bullmq.js';
import { ModelTrackingTaskManager, stablehandEntities, stablehandMigrations } from '../dist/index.js';
import { BENCH_TASK, fmt, median } from './support.js';

const POSTGRES_URL = process.env.STABLEHAND_TEST_POSTGRES_URL;
const REDIS_URL = process.env.STABLEHAND_TEST_REDIS_URL;
const SCHEMA = 'sh_bench_dist';
const TABLE = `"${SCHEMA}"."stablehand_task"`;
const N = Number(process.env.BENCH_TASKS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 1_000);
const CONCURRENCY = Number(process.env.BENCH_WORKER_CONCURRENCY ?? 50);
const WORKERS = 2;
// Unique per run, so that nothing of another run (or of anything else on this Redis) is touched.
const PREFIX = `sh-bench-dist-${process.pid}-${randomBytes(4).toString('hex')}`;
// Names this benchmark's PostgreSQL sessions, so that only their CPU time is counted.
const APPLICATION_NAME = 'stablehand-bench-distributed';
const STABLEHAND_QUEUE = 'stablehand';
const BARE_QUEUE = 'bare';
// How often the end of a run is looked for, on both sides alike. Not more often: on the stablehand
// side each look is a COUNT over the table, whose CPU would be counted as the library's and would
// take a core's share from the workers (at 5 ms it was about a fifth of a core). 25 ms is at most
// about 1 % of a run.
const POLL_MS = 25;
// Job states that mean "not finished yet" (the jobs are removed once completed).
const UNFINISHED = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

interface PgPool {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
}
const { Pool } = createRequire(import.meta.url)('pg') as {
  Pool: new (options: { connectionString: string; max: number; application_name: string }) => PgPool;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A worker process, ready to take jobs. */
interface Child {
  process: ChildProcess;
  /** Its CPU time so far, in microseconds. */
  cpu(): Promise<number>;
}

const children: ChildProcess[] = [];
// Whatever happens to this process, its workers do not outlive it.
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

async function startWorker(name: string, mode: 'stablehand' | 'bullmq', queue: string, postgresUrl: string, redisUrl: string): Promise<Child> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'distributed-worker.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: {
      ...process.env, SH_MODE: mode, SH_REDIS_URL: redisUrl, SH_PREFIX: PREFIX, SH_QUEUE: queue, SH_CONCURRENCY: String(CONCURRENCY),
      SH_POSTGRES_URL: postgresUrl, SH_SCHEMA: SCHEMA, SH_APPLICATION_NAME: APPLICATION_NAME,
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.push(child);
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line) console.error(`[${name}] ${line}`);
    });
  }
  const cpuWaiters: ((micros: number) => void)[] = [];
  await new Promise<void>((resolve, reject) => {
    child.on('message', (message: { event?: string; micros?: number }) => {
      if (message.event === 'ready') resolve();
      if (message.event === 'cpu') cpuWaiters.shift()?.(message.micros ?? 0);
    });
    child.once('exit', (code) => {
      reject(new Error(`worker ${name} exited (code ${String(code)}) before it was ready`));
    });
  });
  return {
    process: child,
    cpu: () => new Promise((resolve) => {
      cpuWaiters.push(resolve);
      child.send('cpu');
    }),
  };
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** CPU time used so far, in microseconds. */
interface CpuSnapshot {
  producer: number;
  workers: number;
  redis: number;
  /** By process id; null when the server's processes cannot be read here. */
  postgres: Map<number, number> | null;
  machine: number;
}

/** CPU time per task of one run, in microseconds; `postgres` null when it could not be read. */
interface CpuPerTask {
  producer: number;
  workers: number;
  redis: number;
  postgres: number | null;
  rest: number;
}

/** One side of the comparison. */
interface Side {
  workers: Child[];
  /** The queue its jobs go through, as this process sees it. */
  queue: Queue;
  /** Empties what the previous run left. */
  reset(): Promise<void>;
  /** Launches one task; resolves when the side's launch does. */
  launch(): Promise<unknown>;
  /** After the queue is drained: resolves once every task's outcome is committed, and checks they all succeeded. */
  settled(): Promise<void>;
}

interface Run {
  rate: number;
  cpu: CpuPerTask;
}

/**
 * The CPU time of the server's own processes and of the backends serving this benchmark (by their
 * application_name), by process id, when the server runs on this machine (Linux, where /proc
 * counts it in ticks of 10 ms); otherwise null.
 */
async function postgresCpu(pool: PgPool): Promise<Map<number, number> | null> {
  const { rows } = await pool.query(
    `SELECT pid FROM pg_stat_activity WHERE application_name = $1 OR backend_type <> 'client backend'`, [APPLICATION_NAME],
  );
  const cpu = new Map<number, number>();
  for (const row of rows) {
    const pid = Number(row.pid);
    let stat: string;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') return null;
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      // Ended since it was listed, or not a process of this machine.
      continue;
    }
    // utime and stime, the 14th and 15th fields; the 2nd, the name in parentheses, may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    cpu.set(pid, (Number(fields[11]) + Number(fields[12])) * 10_000);
  }
  return cpu.size > 0 ? cpu : null;
}

async function cpuSnapshot(side: Side, redis: Redis, pool: PgPool): Promise<CpuSnapshot> {
  const { user, system } = process.cpuUsage();
  const workers = await Promise.all(side.workers.map((worker) => worker.cpu()));
  const info = await redis.info('cpu');
  const seconds = (key: string) => Number(new RegExp(`^${key}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  const machine = cpus().reduce((sum, cpu) => sum + cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq, 0);
  return {
    producer: user + system,
    workers: workers.reduce((a, b) => a + b, 0),
    redis: (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6,
    postgres: await postgresCpu(pool),
    machine: machine * 1e3,
  };
}

/** CPU time per task between two snapshots; a PostgreSQL process that ended in between is missed. */
function cpuPerTask(before: CpuSnapshot, after: CpuSnapshot): CpuPerTask {
  const producer = (after.producer - before.producer) / N;
  const workers = (after.workers - before.workers) / N;
  const redis = (after.redis - before.redis) / N;
  let postgres: number | null = null;
  if (before.postgres && after.postgres) {
    let sum = 0;
    for (const [pid, micros] of after.postgres) sum += micros - (before.postgres.get(pid) ?? 0);
    postgres = sum / N;
  }
  const machine = (after.machine - before.machine) / N;
  return { producer, workers, redis, postgres, rest: Math.max(0, machine - producer - workers - redis - (postgres ?? 0)) };
}

async function unfinished(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts(...UNFINISHED);
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

async function run(side: Side, redis: Redis, pool: PgPool): Promise<Run> {
  await side.reset();
  const before = await cpuSnapshot(side, redis, pool);
  const started = performance.now();
  let launched = 0;
  const launcher = async () => {
    while (launched < N) {
      launched++;
      await side.launch();
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, N) }, launcher));
  // Every job was added before this point, so an empty queue means every job has finished.
  while ((await unfinished(side.queue)) > 0) await sleep(POLL_MS);
  await side.settled();
  const rate = N / ((performance.now() - started) / 1000);
  return { rate, cpu: cpuPerTask(before, await cpuSnapshot(side, redis, pool)) };
}

async function dropTables(pool: PgPool): Promise<void> {
  for (const table of ['stablehand_task_key', 'stablehand_task_lock', 'stablehand_task', 'migrations']) await pool.query(`DROP TABLE IF EXISTS "${SCHEMA}"."${table}"`);
}

/** Deletes every key under this run's prefix, and only those. */
async function deleteKeys(redis: Redis): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}:*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

function cpuLine(runs: Run[]): string {
  const of = (key: keyof CpuPerTask) => fmt(median(runs.map((r) => r.cpu[key] ?? 0)));
  const postgres = runs.every((r) => r.cpu.postgres !== null) ? `PostgreSQL ${of('postgres')}, rest of the machine` : 'PostgreSQL and the rest';
  return `producer ${of('producer')}, workers ${of('workers')}, Redis ${of('redis')}, ${postgres} ${of('rest')}`;
}

async function main(postgresUrl: string, redisUrl: string): Promise<void> {
  const pool = new Pool({ connectionString: postgresUrl, max: 2, application_name: APPLICATION_NAME });
  const redis = new Redis(redisUrl);
  await pool.query(`CREATE SCHEMA IF NOT EXISTS "${SCHEMA}"`);
  await dropTables(pool);
  const dataSource = new DataSource({
    type: 'postgres', url: postgresUrl, schema: SCHEMA, applicationName: APPLICATION_NAME, entities: stablehandEntities,
    migrations: stablehandMigrations, logging: false,
  });
  await dataSource.initialize();
  const connection = { url: redisUrl };
  const runner = new BullMqRunner({ connection, prefix: PREFIX, queueName: STABLEHAND_QUEUE, concurrency: 0 });
  const manager = new ModelTrackingTaskManager({ dataSource, runner });
  const bareQueue = new Queue(BARE_QUEUE, { connection, prefix: PREFIX });
  try {
    await dataSource.runMigrations();
    // The web process launches the kind, so it defines it too; its handler runs in the workers.
    manager.define('bench', BENCH_TASK);
    await manager.start();
    const start = (mode: 'stablehand' | 'bullmq', queue: string) => Promise.all(Array.from(
      { length: WORKERS }, (_, i) => startWorker(`${mode}-${i + 1}`, mode, queue, postgresUrl, redisUrl),
    ));
    const stablehand: Side = {
      workers: await start('stablehand', STABLEHAND_QUEUE),
      queue: runner.queue as Queue,
      reset: async () => {
        await pool.query(`TRUNCATE ${TABLE}, "${SCHEMA}"."stablehand_task_lock"`);
      },
      launch: () => manager.launch('bench'),
      settled: async () => {
        const count = async (statuses: string) => {
          const { rows } = await pool.query(`SELECT COUNT(*) AS n FROM ${TABLE} WHERE status IN (${statuses})`);
          return Number(rows[0].n);
        };
        while ((await count(`'DONE', 'FAILED', 'CANCELLED'`)) < N) await sleep(POLL_MS);
        const done = await count(`'DONE'`);
        if (done !== N) throw new Error(`${fmt(N - done)} of ${fmt(N)} stablehand tasks did not end DONE`);
      },
    };
    // The same job data and options as BullMqRunner's jobs (it adds { input } with the task id as job id).
    const jobOptions = { removeOnComplete: true, removeOnFail: 1000 };
    const bare: Side = {
      workers: await start('bullmq', BARE_QUEUE),
      queue: bareQueue,
      reset: async () => {
        await bareQueue.clean(0, 0, 'failed');
      },
      launch: () => bareQueue.add('bench', { input: null }, jobOptions),
      settled: async () => {
        const { failed } = await bareQueue.getJobCounts('failed');
        if (failed > 0) throw new Error(`${fmt(failed)} of ${fmt(N)} bare BullMQ jobs failed`);
      },
    };
    console.log(`stablehand distributed benchmark: ${fmt(N)} tasks, ${WORKERS} worker processes taking ${CONCURRENCY} jobs each, ` +
      `${fmt(IN_FLIGHT)} launches in flight; PostgreSQL schema ${SCHEMA}, Redis prefix ${PREFIX}`);
    // Warm-up, so that both sides are measured with their code optimised.
    await run(stablehand, redis, pool);
    await run(bare, redis, pool);
    const runs = new Map<Side, Run[]>([[stablehand, []], [bare, []]]);
    for (let round = 0; round < ROUNDS; round++) {
      // Alternating which side goes first, so that neither always follows the other.
      for (const side of round % 2 ? [bare, stablehand] : [stablehand, bare]) runs.get(side)?.push(await run(side, redis, pool));
    }
    const line = (side: Side) => {
      const rates = (runs.get(side) ?? []).map((r) => r.rate);
      return `${rates.map((rate) => fmt(rate)).join(', ')} tasks/s (median ${fmt(median(rates))})`;
    };
    const stablehandRuns = runs.get(stablehand) ?? [];
    const bareRuns = runs.get(bare) ?? [];
    console.log(`bare BullMQ runs:             ${line(bare)}`);
    console.log(`stablehand runs:              ${line(stablehand)}`);
    console.log(`CPU µs per task, bare:        ${cpuLine(bareRuns)}`);
    console.log(`CPU µs per task, stablehand:  ${cpuLine(stablehandRuns)}`);
    // On a machine the runs saturate, throughput follows CPU per task, which drifts less than
    // tasks/s. The rest of the machine is left out when PostgreSQL is measured: it is mostly
    // whatever else runs there.
    const measured = stablehandRuns.every((r) => r.cpu.postgres !== null) && bareRuns.every((r) => r.cpu.postgres !== null);
    const total = (r: Run) => r.cpu.producer + r.cpu.workers + r.cpu.redis + (measured ? r.cpu.postgres ?? 0 : r.cpu.rest);
    console.log(`CPU per task, bare/stablehand: ${fmt(median(bareRuns.map(total)) / median(stablehandRuns.map(total)), 2)} ` +
      `(this process, the workers, Redis and ${measured ? 'PostgreSQL' : 'the rest of the machine'})`);
    const ratio = median(stablehandRuns.map((r) => r.rate)) / median(bareRuns.map((r) => r.rate));
    console.log(`ratio stablehand on BullMQ with PostgreSQL vs bare BullMQ: ${fmt(ratio, 2)} (target >= 0.75)`);
  } finally {
    await Promise.all(children.map(stopWorker));
    await manager.stop();
    await bareQueue.close();
    await dataSource.destroy();
    await deleteKeys(redis);
    await dropTables(pool);
    // Left in place if anything else was put in it.
    await pool.query(`DROP SCHEMA IF EXISTS "${SCHEMA}"`).catch(() => undefined);
    await pool.end();
    await redis.quit();
  }
}

if (POSTGRES_URL && REDIS_URL) {
  await main(POSTGRES_URL, REDIS_URL);
} else {
  console.log('bench:distributed skipped: it needs STABLEHAND_TEST_POSTGRES_URL and STABLEHAND_TEST_REDIS_URL, e.g. ' +
    'postgres://postgres@127.0.0.1:5432/test and redis://127.0.0.1:6379');
}
