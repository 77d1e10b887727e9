import { createRequire } from 'node:module';
import { join } from 'node:path';
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  InProcessRunner, ModelTrackingTaskManager, stablehandEntities, type LifecycleEventName, type TaskManager, type TaskRunner,
} from '../../src/index.js';
import { BullMqRunner } from '../../src/bullmq.js';
import { suiteNamespace } from '../helpers/namespaces.js';
import { tempDir } from '../helpers/data-sources.js';
import { deferred, recordingLogger, waitFor } from '../helpers/wait.js';
import { SharedQueueBroker } from './shared-queue-runner.js';
import { taskRunnerContract } from './task-runner.contract.js';

taskRunnerContract({ name: 'InProcessRunner', create: (concurrency) => new InProcessRunner({ concurrency }), dropsQueuedOnStop: true });
taskRunnerContract({
  name: 'a distributed runner (shared queue, delivery on a later tick)',
  create: (concurrency) => new SharedQueueBroker().runner(concurrency),
  dropsQueuedOnStop: false,
});

const REDIS_URL = process.env.STABLEHAND_TEST_REDIS_URL;
if (!REDIS_URL) console.warn('[stablehand tests] STABLEHAND_TEST_REDIS_URL is not set, so the BullMQ runner suites are skipped');
// Every queue of this file lives under its own key prefix, removed at the end.
const PREFIX = `sh-test-${suiteNamespace()}`;
let queues = 0;
const bullmq = (concurrency: number) => new BullMqRunner({ connection: { url: REDIS_URL }, prefix: PREFIX, queueName: `q${++queues}-${process.pid}`, concurrency });
if (REDIS_URL) {
  taskRunnerContract({ name: 'BullMqRunner on Redis', create: bullmq, dropsQueuedOnStop: false });
  afterAll(async () => {
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${PREFIX}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });
}

const POSTGRES_URL = process.env.STABLEHAND_TEST_POSTGRES_URL;
if (!POSTGRES_URL) console.warn('[stablehand tests] STABLEHAND_TEST_POSTGRES_URL is not set, so the BullMQ-on-PostgreSQL runner suites are skipped');
// BullMQ's PostgreSQL backend keeps this file's queues in a schema of their own, dropped at the end.
const BULLMQ_SCHEMA = `${suiteNamespace()}_bullmq`;
const bullmqOnPostgres = (concurrency: number, queueName = `q${++queues}-${process.pid}`) => new BullMqRunner({
  backend: 'postgres', connection: { connectionString: POSTGRES_URL, schema: BULLMQ_SCHEMA, migrate: true }, queueName, concurrency,
});
if (POSTGRES_URL) {
  taskRunnerContract({ name: 'BullMqRunner on PostgreSQL', create: (concurrency) => bullmqOnPostgres(concurrency), dropsQueuedOnStop: false });
  afterAll(async () => {
    const { Client } = createRequire(import.meta.url)('pg') as {
      Client: new (options: { connectionString: string }) => { connect(): Promise<void>; query(sql: string): Promise<unknown>; end(): Promise<void> };
    };
    const client = new Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${BULLMQ_SCHEMA}" CASCADE`);
    await client.end();
  });
}

/** How a suite gets runners that share one queue between its "processes". */
interface DistributedRunners {
  name: string;
  skipReason: string | null;
  /** A new queue, and a function making runners on it. */
  queue(): (concurrency: number) => TaskRunner;
}

const distributed: DistributedRunners[] = [
  {
    name: 'a shared-queue stand-in',
    skipReason: null,
    queue: () => {
      const broker = new SharedQueueBroker();
      return (concurrency) => broker.runner(concurrency);
    },
  },
  {
    name: 'BullMQ on Redis',
    skipReason: REDIS_URL ? null : 'no Redis',
    queue: () => {
      const queueName = `cluster${++queues}-${process.pid}`;
      return (concurrency) => new BullMqRunner({ connection: { url: REDIS_URL }, prefix: PREFIX, queueName, concurrency });
    },
  },
  {
    name: 'BullMQ on PostgreSQL',
    skipReason: POSTGRES_URL ? null : 'no PostgreSQL',
    queue: () => {
      const queueName = `cluster${++queues}-${process.pid}`;
      return (concurrency) => bullmqOnPostgres(concurrency, queueName);
    },
  },
];

for (const runners of distributed) describe.skipIf(runners.skipReason)(`managers on ${runners.name}: a job runs on a manager that did not launch it`, () => {
  const managers: TaskManager[] = [];
  const sources: DataSource[] = [];
  afterEach(async () => {
    for (const manager of managers.splice(0)) await manager.stop({ graceMs: 100 });
    for (const source of sources.splice(0)) if (source.isInitialized) await source.destroy();
  });

  /** Two "processes": each its own connection to one SQLite file, its own manager, one broker between them. */
  async function cluster(webConcurrency: number, workerConcurrency: number, defineOnWorker = true) {
    const file = join(tempDir(), 'cluster.db');
    const runnerOnQueue = runners.queue();
    const make = async (concurrency: number) => {
      const source = new DataSource({ type: 'better-sqlite3', database: file, enableWAL: true, entities: stablehandEntities, synchronize: true });
      await source.initialize();
      sources.push(source);
      const runner = runnerOnQueue(concurrency);
      const manager = new ModelTrackingTaskManager({ dataSource: source, runner, progressIntervalMs: 0, reconcileOnStart: false, logger: recordingLogger() });
      managers.push(manager);
      return { manager, runner };
    };
    const web = await make(webConcurrency);
    const worker = await make(workerConcurrency);
    const ran: { id: string; on: string }[] = [];
    const gate = deferred();
    for (const [name, node] of [['web', web], ['worker', worker]] as const) {
      if (name === 'worker' && !defineOnWorker) continue;
      node.manager.define('export', {
        label: 'Export orders',
        run: async ({ id, input, progress, signal }) => {
          ran.push({ id, on: name });
          progress(50, `half of ${JSON.stringify(input)}`);
          await Promise.race([gate.promise, new Promise((_resolve, reject) => {
            signal.addEventListener('abort', () => { reject(signal.reason as Error); }, { once: true });
          })]);
          return { exported: (input as { n: number }).n };
        },
      });
    }
    await web.manager.start();
    await worker.manager.start();
    return { web, worker, ran, gate };
  }

  it('runs tasks launched by a web process that runs nothing itself, records them and emits their events there', async () => {
    const { web, worker, ran, gate } = await cluster(0, 3);
    const events: { event: LifecycleEventName; id: string }[] = [];
    for (const event of ['start', 'progress', 'complete', 'cleanup'] as const) worker.manager.on(event, (payload) => events.push({ event, id: payload.id }));
    const launched = [];
    for (let n = 0; n < 6; n++) launched.push(await web.manager.launch('export', { n }, { user: 'ann', affected: [`order:${n}`] }));
    await waitFor(() => ran.length === 3, 5_000, 'three tasks to start on the worker');
    gate.resolve();
    for (const [n, task] of launched.entries()) {
      const record = await waitFor(async () => {
        const found = await web.manager.getTask(task.id);
        return found?.status === 'DONE' ? found : null;
      }, 5_000, `task ${n} to finish`);
      expect(record).toMatchObject({
        label: 'Export orders', user: 'ann', affected: `order:${n}`, input: { n }, result: { exported: n },
        progress: 50, message: `half of {"n":${n}}`,
      });
    }
    expect(ran.map((run) => run.on)).toEqual(Array(6).fill('worker'));
    expect(new Set(ran.map((run) => run.id)).size).toBe(6);
    expect(events.filter((e) => e.event === 'complete').map((e) => e.id).sort()).toEqual(launched.map((t) => t.id).sort());
  });

  it('shares the work between processes that both run tasks, each task once', async () => {
    const { web, ran, gate } = await cluster(1, 1);
    gate.resolve();
    const ids = [];
    for (let n = 0; n < 20; n++) ids.push((await web.manager.launch('export', { n })).id);
    for (const id of ids) {
      await waitFor(async () => (await web.manager.getTask(id))?.status === 'DONE', 5_000, `task ${id}`);
    }
    expect(ran.map((run) => run.id).sort()).toEqual([...ids].sort());
    expect(new Set(ran.map((run) => run.on))).toEqual(new Set(['web', 'worker']));
  });

  it('fails a job whose kind the receiving process does not define, saying so', async () => {
    const { web } = await cluster(0, 1, false);
    const { id } = await web.manager.launch('export', { n: 1 });
    const record = await waitFor(async () => {
      const found = await web.manager.getTask(id);
      return found?.status === 'FAILED' ? found : null;
    }, 5_000, 'the task to fail');
    expect(record.error).toBe('No handler for task kind "export" is defined in the process that received it');
  });

  it('cancels a task running in another process within a second, when the runner carries the signal', async (context) => {
    const { web, ran } = await cluster(0, 1);
    if (!web.runner.signalCancel) context.skip();
    const { id } = await web.manager.launch('export', { n: 1 });
    await waitFor(() => ran.length === 1, 5_000, 'the task to start on the worker');
    const asked = Date.now();
    expect(await web.manager.cancel(id, { user: 'ann' })).toEqual({ id, status: 'CANCELLING' });
    const record = await waitFor(async () => {
      const found = await web.manager.getTask(id);
      return found?.status === 'CANCELLED' ? found : null;
    }, 5_000, 'the worker to record the cancel');
    // The worker's heartbeat (every 5 s by default) would be too late: the runner's signal did it.
    expect(Date.now() - asked).toBeLessThan(1_500);
    expect(record).toMatchObject({ message: 'Cancelled', cancelRequestedBy: 'ann' });
  });

  /** A kind whose first `failures` runs throw, defined on both processes of a cluster. */
  function defineFlaky(nodes: { manager: TaskManager }[], failures: number, attempts: number, backoff: number) {
    const runs: { id: string; attempt: number }[] = [];
    for (const node of nodes) {
      node.manager.define('flaky', {
        label: 'Flaky sync', attempts, backoff,
        run: ({ id }) => {
          const attempt = runs.filter((run) => run.id === id).length + 1;
          runs.push({ id, attempt });
          if (attempt <= failures) throw new Error(`refused ${attempt}`);
          return { attempt };
        },
      });
    }
    return runs;
  }

  it('runs a failing task again after its backoff, wherever the queue sends it, keeping its attempt history', async () => {
    const { web, worker } = await cluster(0, 2);
    const runs = defineFlaky([web, worker], 2, 3, 400);
    const { id } = await web.manager.launch('flaky');
    // Between attempts the task is PENDING and held by nobody: the queue keeps it for any worker.
    const waiting = await waitFor(async () => {
      const found = await web.manager.getTask(id);
      return found?.status === 'PENDING' && found.retryAt ? found : null;
    }, 5_000, 'the wait before attempt 2');
    expect(waiting).toMatchObject({ owner: null, attempt: 1, maxAttempts: 3, message: 'attempt 1 of 3 failed: refused 1' });
    // On BullMQ, the job waits in the delayed set (it moves there once the record says so).
    const { runner } = web;
    if (runner instanceof BullMqRunner) {
      await waitFor(async () => (await (await runner.queue.getJob(id))?.getState()) === 'delayed', 2_000, 'the job to be delayed');
    }
    const record = await waitFor(async () => {
      const found = await web.manager.getTask(id);
      return found?.status === 'DONE' ? found : null;
    }, 10_000, 'the third attempt to succeed');
    expect(record).toMatchObject({ result: { attempt: 3 }, attempt: 3, retryAt: null });
    expect(record.attemptErrors?.map((entry) => [entry.attempt, entry.error])).toEqual([[1, 'refused 1'], [2, 'refused 2']]);
    expect(runs.map((run) => run.attempt)).toEqual([1, 2, 3]);
  });

  it('fails a task once its attempts are spent, and cancels one waiting for its next attempt', async () => {
    const { web, worker } = await cluster(0, 2);
    const runs = defineFlaky([web, worker], 10, 2, 0);
    const spent = await web.manager.launch('flaky');
    const failed = await waitFor(async () => {
      const found = await web.manager.getTask(spent.id);
      return found?.status === 'FAILED' ? found : null;
    }, 10_000, 'the task to fail');
    expect(failed).toMatchObject({ error: 'refused 2 (attempt 2 of 2)', attempt: 2 });
    expect(failed.attemptErrors?.map((entry) => entry.error)).toEqual(['refused 1', 'refused 2']);

    worker.manager.define('patient', { attempts: 3, backoff: 60_000, run: () => { throw new Error('not now'); } });
    web.manager.define('patient', { attempts: 3, backoff: 60_000, run: () => { throw new Error('not now'); } });
    const waiting = await web.manager.launch('patient');
    await waitFor(async () => (await web.manager.getTask(waiting.id))?.retryAt != null, 5_000, 'the wait before attempt 2');
    expect(await web.manager.cancel(waiting.id, { user: 'ops' })).toEqual({ id: waiting.id, status: 'CANCELLED' });
    expect(await web.manager.getTask(waiting.id)).toMatchObject({ status: 'CANCELLED', attempt: 1, cancelRequestedBy: 'ops' });
    expect(runs.filter((run) => run.id === spent.id)).toHaveLength(2);
  });

  it('never runs a task cancelled while it waited in the queue', async () => {
    const { web, worker, ran, gate } = await cluster(0, 1);
    const first = await web.manager.launch('export', { n: 1 });
    await waitFor(() => ran.length === 1, 5_000, 'the first task to start');
    const second = await web.manager.launch('export', { n: 2 });
    expect(await web.manager.cancel(second.id)).toEqual({ id: second.id, status: 'CANCELLED' });
    gate.resolve();
    await waitFor(async () => (await web.manager.getTask(first.id))?.status === 'DONE', 5_000, 'the first task');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ran.map((run) => run.id)).toEqual([first.id]);
    expect(await worker.manager.getTask(second.id)).toMatchObject({ status: 'CANCELLED' });
  });
});
