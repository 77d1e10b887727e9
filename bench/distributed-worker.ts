/**
 * A worker process of `npm run bench:distributed` (`node --import tsx`), started twice per side by
 * bench/distributed.ts. It takes jobs from one BullMQ queue until SIGTERM, running the benchmark's
 * handler (progress once, a small result) either through stablehand or on bare BullMQ:
 *   env: SH_MODE (`stablehand` or `bullmq`), SH_REDIS_URL, SH_PREFIX, SH_QUEUE, SH_CONCURRENCY,
 *        SH_POSTGRES_URL, SH_SCHEMA and SH_APPLICATION_NAME (stablehand only)
 *   IPC: sends `{ event: 'ready' }` once it takes jobs; answers `'cpu'` with
 *        `{ event: 'cpu', micros }` (user + system CPU time of this process so far).
 */
import 'reflect-metadata';
import { Worker } from 'bullmq';
import { DataSource } from 'typeorm';
// The built package, as a host runs it (`npm run bench:distributed` builds it first).
import { BullMqRunner } from '../dist/bullmq.js';
import { ModelTrackingTaskManager, runWorker, stablehandEntities } from '../dist/index.js';
import { BENCH_TASK } from './support.js';

const mode = process.env.SH_MODE;
const connection = { url: process.env.SH_REDIS_URL };
const prefix = process.env.SH_PREFIX ?? '';
const queueName = process.env.SH_QUEUE ?? '';
const concurrency = Number(process.env.SH_CONCURRENCY ?? 50);

const send = (message: Record<string, unknown>): void => {
  process.send?.(message);
};
process.on('message', (message: unknown) => {
  if (message !== 'cpu') return;
  const { user, system } = process.cpuUsage();
  send({ event: 'cpu', micros: user + system });
});
// An orphan (the benchmark died) stops as if it had been asked to.
process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));

/** stablehand: a manager on the shared PostgreSQL schema with a BullMqRunner, run by runWorker. */
async function stablehand(): Promise<() => Promise<void>> {
  const dataSource = new DataSource({
    type: 'postgres', url: process.env.SH_POSTGRES_URL, schema: process.env.SH_SCHEMA, applicationName: process.env.SH_APPLICATION_NAME,
    entities: stablehandEntities, logging: false,
  });
  await dataSource.initialize();
  const runner = new BullMqRunner({ connection, prefix, queueName, concurrency });
  const manager = new ModelTrackingTaskManager({ dataSource, runner });
  manager.define('bench', BENCH_TASK);
  // runWorker's own SIGTERM handler stops the manager; this process waits for it below. Its one
  // warning says that SIGTERM came, which the benchmark sends itself.
  const worker = await runWorker(manager, { graceMs: 5_000, logger: { warn: () => undefined } });
  return async () => {
    await worker.stopped;
    await runner.closed();
    await dataSource.destroy();
  };
}

/** Bare BullMQ: a Worker with the same handler, progress in Redis instead of a record. */
async function bare(): Promise<() => Promise<void>> {
  const worker = new Worker(queueName, async (job) => {
    await job.updateProgress(50);
    return { ok: true };
  }, { connection, prefix, concurrency });
  worker.on('error', (error) => console.error(error));
  await worker.waitUntilReady();
  const stopped = new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  return async () => {
    await stopped;
    await worker.close();
  };
}

if (mode !== 'stablehand' && mode !== 'bullmq') throw new Error(`SH_MODE must be stablehand or bullmq; got ${String(mode)}`);
const finish = mode === 'stablehand' ? await stablehand() : await bare();
send({ event: 'ready' });
await finish();
process.exit(0);
