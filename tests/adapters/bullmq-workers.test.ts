import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ModelTrackingTaskManager } from '../../src/index.js';
import { BullMqRunner } from '../../src/bullmq.js';
import { postgres, sqlite, tableName, tempDir } from '../helpers/data-sources.js';
import { suiteNamespace } from '../helpers/namespaces.js';
import { recordingLogger, waitFor } from '../helpers/wait.js';

const REDIS_URL = process.env.STABLEHAND_TEST_REDIS_URL;
if (!REDIS_URL) console.warn('[stablehand tests] STABLEHAND_TEST_REDIS_URL is not set, so the BullMQ worker suite is skipped');
const SCRIPT = fileURLToPath(new URL('../fixtures/worker.ts', import.meta.url));
const PREFIX = `sh-test-${suiteNamespace()}`;

/** A worker child process and what it reported. */
class WorkerProcess {
  readonly ran: string[] = [];
  readonly events: Record<string, unknown>[] = [];
  readonly child: ChildProcess;
  exited = false;
  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    this.child.once('exit', () => { this.exited = true; });
    if (this.child.stdout) {
      createInterface({ input: this.child.stdout }).on('line', (line) => {
        const event = JSON.parse(line) as Record<string, unknown>;
        this.events.push(event);
        if (event.event === 'ran') this.ran.push(String(event.id));
      });
    }
  }
  ready(): Promise<unknown> {
    return waitFor(() => this.events.find((e) => e.event === 'ready'), 30_000, 'a worker to start');
  }
}

for (const engine of [sqlite, postgres]) describe.skipIf(!REDIS_URL || engine.skipReason)(`web and worker processes on BullMQ and one ${engine.name} database`, () => {
  let dataSource: DataSource;
  let env: Record<string, string>;
  const workers: WorkerProcess[] = [];
  const queueName = `work-${engine.name}-${process.pid}`;
  const webManager = (queue = queueName) => new ModelTrackingTaskManager({
    dataSource, instanceId: 'web', logger: recordingLogger(),
    runner: new BullMqRunner({ connection: { url: REDIS_URL }, prefix: PREFIX, queueName: queue, concurrency: 0 }),
  });

  beforeAll(async () => {
    const file = join(tempDir(), 'cluster.db');
    dataSource = await engine.open([], { file });
    const database: Record<string, string> = engine.name === 'sqlite' ? { SH_DB_FILE: file }
      : { SH_DB_URL: process.env.STABLEHAND_TEST_POSTGRES_URL ?? '', SH_DB_SCHEMA: suiteNamespace() };
    env = { ...database, SH_REDIS_URL: REDIS_URL ?? '', SH_PREFIX: PREFIX, SH_QUEUE: queueName };
  });

  // A test that fails half-way must not leave its workers taking the next test's jobs.
  afterEach(() => {
    for (const worker of workers.splice(0)) if (!worker.exited) worker.child.kill('SIGKILL');
  });

  afterAll(async () => {
    for (const worker of workers) if (!worker.exited) worker.child.kill('SIGKILL');
    await dataSource.destroy();
    const redis = new Redis(REDIS_URL ?? '');
    const keys = await redis.keys(`${PREFIX}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  const counts = async (): Promise<Partial<Record<string, number>>> => {
    const rows = await dataSource.query<{ status: string; n: number | string }[]>(`SELECT status, COUNT(*) AS n FROM ${tableName(dataSource, 'stablehand_task')} GROUP BY status`);
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
  };

  it('runs 1,000 tasks on two workers through a worker SIGKILL and a web restart: every task ends, none runs twice', async () => {
    const start = (taskMs: string) => {
      const worker = new WorkerProcess({ ...env, SH_CONCURRENCY: '4', SH_TASK_MS: taskMs });
      workers.push(worker);
      return worker;
    };
    const [doomed, survivor] = [start('20'), start('5')];
    await Promise.all([doomed.ready(), survivor.ready()]);
    let web = webManager();
    web.define('work', { label: 'Work', run: () => null });
    await web.start();
    const ids: string[] = [];
    for (let n = 0; n < 500; n++) ids.push((await web.launch('work', { n })).id);
    await waitFor(() => doomed.ran.length >= 20, 30_000, 'the doomed worker to get going');
    doomed.child.kill('SIGKILL');
    // The web process restarts mid-run; what it queued stays queued.
    await web.stop();
    web = webManager();
    web.define('work', { label: 'Work', run: () => null });
    await web.start();
    for (let n = 500; n < 1_000; n++) ids.push((await web.launch('work', { n })).id);
    await waitFor(async () => {
      const byStatus = await counts();
      return (byStatus.DONE ?? 0) + (byStatus.FAILED ?? 0) === 1_000;
    }, 90_000, 'every task to end');
    const byStatus = await counts();
    expect(byStatus.PENDING ?? 0).toBe(0);
    expect(byStatus.RUNNING ?? 0).toBe(0);
    // Only tasks the killed worker held can have failed, each saying its worker stopped responding.
    const failed = await dataSource.query<{ id: string; error: string }[]>(`SELECT id, error FROM ${tableName(dataSource, 'stablehand_task')} WHERE status = 'FAILED'`);
    expect(failed.length).toBeLessThanOrEqual(4);
    for (const row of failed) expect(row.error).toMatch(/^Worker .+ stopped responding/);
    const ranTwice = survivor.ran.filter((id) => doomed.ran.includes(id));
    expect(ranTwice).toEqual([]);
    expect(new Set(survivor.ran).size).toBe(survivor.ran.length);
    expect(byStatus.DONE).toBe(1_000 - failed.length);
    await web.stop();
    survivor.child.kill('SIGTERM');
    await waitFor(() => survivor.exited, 15_000, 'the surviving worker to stop');
  }, 150_000);

  it('runs the tasks of a killed worker again on another when their kind has an attempt left: BullMQ gives the jobs back, the record keeps one history', async () => {
    // BullMQ notices the dead worker's expired locks within about 2 s here (30 s by default). A
    // queue of its own: the earlier test's workers hold the queue's stalled check for 30 s.
    const queue = `${queueName}-retries`;
    const doomed = new WorkerProcess({ ...env, SH_QUEUE: queue, SH_CONCURRENCY: '3', SH_TASK_MS: '120000', SH_LOCK_MS: '1000' });
    workers.push(doomed);
    await doomed.ready();
    const web = webManager(queue);
    web.define('work-twice', { label: 'Work', attempts: 2, run: () => null });
    await web.start();
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) ids.push((await web.launch('work-twice', { n })).id);
    await waitFor(async () => {
      const records = await Promise.all(ids.map((id) => web.getTask(id)));
      return records.every((record) => record?.status === 'RUNNING');
    }, 15_000, 'the tasks to run on the doomed worker');
    const survivor = new WorkerProcess({ ...env, SH_QUEUE: queue, SH_CONCURRENCY: '3', SH_TASK_MS: '5', SH_LOCK_MS: '1000' });
    workers.push(survivor);
    await survivor.ready();
    doomed.child.kill('SIGKILL');
    for (const [n, id] of ids.entries()) {
      const record = await waitFor(async () => {
        const found = await web.getTask(id);
        return found?.status === 'DONE' ? found : null;
      }, 30_000, `task ${n} to run again and finish`);
      expect(record).toMatchObject({ attempt: 2, maxAttempts: 2, result: { n, pid: survivor.child.pid } });
      expect(record.attemptErrors).toEqual([{ attempt: 1, error: expect.stringMatching(/^Worker .+ stopped/), at: expect.any(String) }]);
    }
    expect([...survivor.ran].sort()).toEqual([...ids].sort());
    await web.stop();
    survivor.child.kill('SIGTERM');
    await waitFor(() => survivor.exited, 15_000, 'the surviving worker to stop');
  }, 90_000);

  /** A worker process whose tasks take `taskMs`, a web process, and one task running on the worker. */
  async function oneTaskOnAWorker(taskMs: string) {
    const worker = new WorkerProcess({ ...env, SH_CONCURRENCY: '2', SH_TASK_MS: taskMs });
    workers.push(worker);
    await worker.ready();
    const web = webManager();
    web.define('work', { label: 'Work', run: () => null });
    await web.start();
    const { id } = await web.launch('work', { n: 1 });
    await waitFor(async () => (await web.getTask(id))?.status === 'RUNNING', 10_000, 'the task to start on the worker');
    return { worker, web, id };
  }

  it('carries a cancel from the web process to the worker process running the task within a second', async () => {
    const { worker, web, id } = await oneTaskOnAWorker('120000');
    const asked = Date.now();
    expect(await web.cancel(id, { user: 'ops' })).toEqual({ id, status: 'CANCELLING' });
    const record = await waitFor(async () => {
      const found = await web.getTask(id);
      return found?.status === 'CANCELLED' ? found : null;
    }, 10_000, 'the worker to record the cancel');
    // The worker's heartbeat (every 200 ms here, 5 s by default) is not what brought it: the signal on the queue did.
    expect(Date.now() - asked).toBeLessThan(1_000 + 500);
    expect(record).toMatchObject({ message: 'Cancelled', cancelRequestedBy: 'ops', owner: expect.stringContaining(`:${worker.child.pid ?? 0}:`) });
    expect(worker.events.some((e) => e.event === 'aborted' && e.id === id)).toBe(true);
    await web.stop();
    worker.child.kill('SIGTERM');
    await waitFor(() => worker.exited, 15_000, 'the worker to stop');
  }, 60_000);

  it('stops a worker gracefully on SIGTERM: its running tasks finish and are recorded', async () => {
    const { worker, web, id } = await oneTaskOnAWorker('800');
    worker.child.kill('SIGTERM');
    await waitFor(() => worker.exited, 15_000, 'the worker to exit');
    expect(worker.events.some((e) => e.event === 'stopped')).toBe(true);
    expect(await web.getTask(id)).toMatchObject({ status: 'DONE', result: { n: 1, pid: worker.child.pid } });
    await web.stop();
  }, 60_000);
});
