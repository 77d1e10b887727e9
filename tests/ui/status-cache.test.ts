import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { TaskManager } from '../../src/manager/task-manager.js';
import { createTaskRouter } from '../../src/ui/create-task-router.js';
import type { ListTasksOptions } from '../../src/core/list-query.js';
import type { TaskRouterManager } from '../../src/ports/task-manager-port.js';
import { hostApp, sleep, useStartedManager, waitFor, type ControlledTasks } from './helpers.js';

let manager: TaskManager;
let tasks: ControlledTasks;

useStartedManager((started) => ({ manager, tasks } = started));

/** The real manager, counting store reads; `withEvents: false` hides `on` like a foreign manager. */
function counting(real: TaskManager, withEvents = true): TaskRouterManager & { reads: number } {
  const wrapper = {
    reads: 0,
    get kinds() {
      return real.kinds;
    },
    launch: real.launch.bind(real),
    cancel: real.cancel.bind(real),
    getTask: real.getTask.bind(real),
    listTasks(query?: ListTasksOptions) {
      wrapper.reads++;
      return real.listTasks(query);
    },
    ...(withEvents ? { on: real.on.bind(real) } : {}),
  };
  return wrapper;
}

describe('status answers cache', () => {
  it('serves repeated identical polls from one store read, and concurrent ones too', async () => {
    await manager.launch('hold');
    const wrapped = counting(manager);
    const app = hostApp(wrapped as unknown as TaskManager);
    const first = await request(app).get('/tasks/status/');
    const etag = first.headers.etag;
    const polls = await Promise.all(Array.from({ length: 10 }, () => request(app).get('/tasks/status/').set('If-None-Match', etag)));
    expect(polls.map((res) => res.status)).toEqual(Array(10).fill(304));
    expect(wrapped.reads).toBe(1);
    // A different query is a different entry.
    await request(app).get('/tasks/status/?status=RUNNING');
    expect(wrapped.reads).toBe(2);
  });

  it('drops cached answers on every lifecycle event, so changes show on the next poll', async () => {
    const held = await manager.launch('hold');
    await waitFor(() => tasks.started.has(held.id));
    const wrapped = counting(manager);
    const app = hostApp(wrapped as unknown as TaskManager, { statusCacheMs: 60_000 });
    const before = await request(app).get('/tasks/status/');
    expect(before.body.tasks[0].status).toBe('RUNNING');
    tasks.release(held.id);
    await waitFor(async () => (await manager.getTask(held.id))?.status === 'DONE');
    const after = await request(app).get('/tasks/status/').set('If-None-Match', before.headers.etag);
    expect(after.status).toBe(200);
    expect(after.body.tasks[0].status).toBe('DONE');
    expect(wrapped.reads).toBe(2);
  });

  it('bounds staleness by statusCacheMs when no event announces a change', async () => {
    const wrapped = counting(manager, false);
    const app = hostApp(wrapped as unknown as TaskManager, { statusCacheMs: 150 });
    expect((await request(app).get('/tasks/status/')).body.tasks).toEqual([]);
    // Written behind the router's back, as another process sharing the database would.
    await manager.launch('hold');
    expect((await request(app).get('/tasks/status/')).body.tasks).toEqual([]);
    await sleep(200);
    expect((await request(app).get('/tasks/status/')).body.tasks).toHaveLength(1);
    expect(wrapped.reads).toBe(2);
  });

  it('reads the store on every request with statusCacheMs: 0', async () => {
    const wrapped = counting(manager);
    const app = hostApp(wrapped as unknown as TaskManager, { statusCacheMs: 0 });
    for (let i = 0; i < 3; i++) await request(app).get('/tasks/status/');
    expect(wrapped.reads).toBe(3);
  });

  it('does not keep a failed read', async () => {
    let fail = true;
    const wrapped = counting(manager);
    const flaky = { ...wrapped, listTasks: (query?: ListTasksOptions) => (fail ? Promise.reject(new Error('db down')) : wrapped.listTasks(query)) };
    const app = hostApp(flaky as unknown as TaskManager, { logger: { error: () => undefined } });
    expect((await request(app).get('/tasks/status/')).status).toBe(500);
    fail = false;
    expect((await request(app).get('/tasks/status/')).status).toBe(200);
  });

  it('rejects a cache time out of range', () => {
    expect(() => createTaskRouter(manager, { statusCacheMs: -1 })).toThrow(/statusCacheMs/);
    expect(() => createTaskRouter(manager, { statusCacheMs: 60_001 })).toThrow(/statusCacheMs/);
  });
});
