import { spawnSync } from 'node:child_process';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelTrackingTaskManager, QueueUnavailableError } from '../../src/index.js';
import { BullMqRunner } from '../../src/bullmq.js';
import { sqlite } from '../helpers/data-sources.js';
import { OwnRedis } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { csrfFor, hostApp, recordingLogger } from '../ui/helpers.js';

const noServer = spawnSync('redis-server', ['--version']).status === 0 ? null
  : 'redis-server is not on the PATH, so the Redis outage suite is skipped';
if (noServer) console.warn(`[stablehand tests] ${noServer}`);

// Not the machine's Redis: one of the test's own, stopped and started again mid-run.
describe.skipIf(noServer)('BullMQ execution while Redis goes away and comes back', () => {
  let redis: OwnRedis;
  let web: ModelTrackingTaskManager;
  let worker: ModelTrackingTaskManager;
  const redisLog = recordingLogger();

  beforeAll(async () => {
    redis = await OwnRedis.start();
    const dataSource = await sqlite.open();
    const runner = (concurrency: number) => new BullMqRunner({
      // A host's plain settings: ioredis keeps commands while it reconnects, so the timeout decides.
      connection: { url: redis.url }, concurrency, enqueueTimeoutMs: 1_000, logger: redisLog,
    });
    web = new ModelTrackingTaskManager({ dataSource, runner: runner(0), logger: recordingLogger(), instanceId: 'web' });
    worker = new ModelTrackingTaskManager({ dataSource, runner: runner(2), logger: recordingLogger(), instanceId: 'worker' });
    for (const manager of [web, worker]) manager.define('report', { label: 'Report', run: ({ input }) => ({ echoed: input }) });
    await web.start();
    await worker.start();
  });

  afterAll(async () => {
    await web.stop({ graceMs: 100 });
    await worker.stop({ graceMs: 100 });
    await redis.stop();
  });

  const done = (id: string) => waitFor(async () => (await web.getTask(id))?.status === 'DONE', 15_000, `task ${id} to run`);

  it('runs tasks while Redis is up', async () => {
    const { id } = await web.launch('report', { n: 1 });
    await done(id);
    expect(await web.getTask(id)).toMatchObject({ result: { echoed: { n: 1 } }, owner: 'worker' });
  });

  it('refuses launches with a clear 503 while Redis is down, never acknowledging a task it lost', async () => {
    await redis.stop();
    const error = await web.launch('report', { n: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueUnavailableError);
    expect(error).toMatchObject({ code: 'QUEUE_UNAVAILABLE' });
    const failed = await waitFor(async () => (await web.listTasks({ status: 'FAILED' })).tasks[0], 5_000, 'the refused task\'s record');
    expect(failed.error).toBe('Could not be queued: Redis did not answer within 1000 ms to take the job');

    const app = hostApp(web, { kinds: ['report'] });
    const csrf = await csrfFor(app);
    const res = await request(app).post('/tasks/run/').set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token).send({});
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: { code: 'QUEUE_UNAVAILABLE', message: 'The task queue is unavailable; try again shortly.' } });
    expect(app.escaped).toEqual([]);
    // The page and its workers strip still answer: the worker count is unknown, not an error.
    const fleet = await request(app).get('/tasks/fleet/');
    expect(fleet.status).toBe(200);
    expect(fleet.body).toMatchObject({ workers: null });
    await waitFor(() => redisLog.lines.some((line) => line.includes('ECONNREFUSED')), 5_000, 'the outage to be logged');
  });

  it('takes work again once Redis is back', async () => {
    await redis.resume();
    const { id } = await waitFor(() => web.launch('report', { n: 3 }).catch(() => null), 15_000, 'a launch to be taken');
    await done(id);
    expect(await web.getTask(id)).toMatchObject({ result: { echoed: { n: 3 } } });
  });
});
