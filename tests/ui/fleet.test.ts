import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryRecordStore, TaskManager } from '../../src/index.js';
import { formatFleet } from '../../src/ui/task-format.js';
import { SharedQueueBroker } from '../contracts/shared-queue-runner.js';
import { csrfFor, deferred, hostApp, recordingLogger, waitFor } from './helpers.js';

describe('the page sees which instance runs what', () => {
  const managers: TaskManager[] = [];
  afterEach(async () => {
    for (const manager of managers.splice(0)) await manager.stop({ graceMs: 50 });
  });

  /** Two managers on one store, as two app instances on one database. */
  async function twoInstances() {
    const store = new MemoryRecordStore();
    const gate = deferred();
    const signals: AbortSignal[] = [];
    const make = async (instanceId: string) => {
      const manager = new TaskManager({ store, instanceId, heartbeatIntervalMs: 20, staleAfterMs: 200, cancelGraceMs: 5_000, logger: recordingLogger() });
      // A handler that notices its cancel only when the gate opens, so "Cancelling…" can be seen.
      manager.define('stubborn', {
        label: 'Stubborn export',
        run: ({ signal }) => {
          signals.push(signal);
          return gate.promise.then(() => 'done');
        },
      });
      await manager.start();
      managers.push(manager);
      return manager;
    };
    return { worker: await make('worker-1'), web: await make('web-1'), gate, signals };
  }

  it('shows the owner and heartbeat of a running task, and "Cancelling…" until its owner acknowledges', async () => {
    const { worker, web, gate, signals } = await twoInstances();
    const { id } = await worker.launch('stubborn');
    await waitFor(async () => (await web.getTask(id))?.status === 'RUNNING');
    const app = hostApp(web, { statusCacheMs: 0 });
    const status = await request(app).get('/tasks/status/');
    expect(status.body.tasks[0]).toMatchObject({ id, owner: 'worker-1', heartbeat_at: expect.any(String), cancel_requested_at: null });
    expect((await request(app).get('/tasks/')).text).toMatch(/<p class="sh-worker">worker-1 · heartbeat (just now|\d+ s ago)<\/p>/);

    const csrf = await csrfFor(app);
    const cancel = await request(app).post(`/tasks/${id}/cancel/`).set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token);
    expect(cancel.status).toBe(202);
    expect(cancel.body).toEqual({ id, status: 'CANCELLING' });
    const page = await request(app).get('/tasks/');
    expect(page.text).toContain('<span class="sh-badge sh-badge--running">Cancelling…</span>');
    const detail = await request(app).get(`/tasks/${id}/`).set('Accept', 'text/html');
    expect(detail.text).toMatch(/Cancel asked<\/dt><dd><span data-field="cancel_requested">Anonymous, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    // The owner acknowledges at its next heartbeat by aborting the handler's signal.
    await waitFor(() => signals[0]?.aborted, 2_000, 'the owner to abort the handler');
    gate.resolve();
    await waitFor(async () => (await web.getTask(id))?.status === 'CANCELLED', 5_000, 'the owner to record the cancel');
  });

  it('reads "not responding" once the heartbeat is older than the stale window', async () => {
    const { worker, web } = await twoInstances();
    const { id } = await worker.launch('stubborn');
    await waitFor(async () => (await web.getTask(id))?.status === 'RUNNING');
    const app = hostApp(web, { statusCacheMs: 0 });
    const html = (await request(app).get('/tasks/')).text;
    const data = JSON.parse(/<script type="application\/json" id="sh-data">([^<]*)<\/script>/.exec(html)?.[1] ?? '{}') as { staleAfterMs: number };
    expect(data.staleAfterMs).toBe(200);
    // The page computes freshness against the server's clock: an old heartbeat reads as silent.
    const { formatWorker } = await import('../../src/ui/task-format.js');
    const task = (await request(app).get('/tasks/status/')).body.tasks[0];
    expect(formatWorker(task, Date.parse(task.heartbeat_at) + 201, data.staleAfterMs)).toBe('worker-1 · not responding');
  });

  it('lists the instances holding tasks, with their counts and heartbeats, in GET fleet/ and the page', async () => {
    const { worker, web } = await twoInstances();
    await worker.launch('stubborn');
    await worker.launch('stubborn');
    await web.launch('stubborn');
    await waitFor(async () => (await web.listTasks({ status: 'RUNNING' })).tasks.length === 3);
    const app = hostApp(web, { statusCacheMs: 0 });
    const fleet = await request(app).get('/tasks/fleet/');
    expect(fleet.status).toBe(200);
    expect(fleet.body).toMatchObject({
      instances: [
        { id: 'worker-1', running: 2, queued: 0, heartbeat_at: expect.any(String) },
        { id: 'web-1', running: 1, queued: 0, heartbeat_at: expect.any(String) },
      ],
      waiting: 0, workers: null, stale_after_ms: 200,
    });
    const html = (await request(app).get('/tasks/')).text;
    expect(html).toMatch(/<section class="sh-fleet" id="sh-fleet" aria-label="Workers"><ul class="sh-fleet-list" id="sh-fleet-list"><li>worker-1 · 2 running · heartbeat (just now|\d+ s ago)<\/li><li>web-1 · 1 running/);
    expect(html).toContain('<p class="sh-fleet-alert" id="sh-fleet-alert" role="alert" hidden></p>');
    expect((await request(app).post('/tasks/fleet/')).status).toBe(405);
  });

  it('warns when tasks wait for a worker and the queue engine knows none alive', async () => {
    const broker = new SharedQueueBroker();
    // A producer-only runner whose engine reports no live worker.
    const runner = Object.assign(broker.runner(0), { workers: () => Promise.resolve(0) });
    const web = new TaskManager({ runner, instanceId: 'web-1', logger: recordingLogger() });
    web.define('report', { label: 'Report', run: () => 'ok' });
    await web.start();
    managers.push(web);
    await web.launch('report');
    await web.launch('report');
    const app = hostApp(web);
    expect((await request(app).get('/tasks/fleet/')).body).toEqual({ instances: [], waiting: 2, workers: 0, stale_after_ms: 30_000 });
    expect((await request(app).get('/tasks/')).text).toContain(
      '<p class="sh-fleet-alert" id="sh-fleet-alert" role="alert">2 tasks are waiting and no worker is running.</p>',
    );
    const report = formatFleet({ instances: [], waiting: 1, workers: 0, stale_after_ms: 30_000 }, Date.now());
    expect(report).toEqual({ lines: [], alert: '1 task is waiting and no worker is running.' });
    expect(formatFleet({ instances: [], waiting: 1, workers: 2, stale_after_ms: 30_000 }, Date.now()).alert).toBe('');
    const silent = formatFleet({ instances: [{ id: 'w', heartbeat_at: '2026-01-01T00:00:00.000Z', running: 1, queued: 2 }], waiting: 0, workers: null, stale_after_ms: 30_000 }, Date.parse('2026-01-01T00:00:31.000Z'));
    expect(silent.lines).toEqual(['w · 1 running, 2 queued · not responding']);
  });
});
