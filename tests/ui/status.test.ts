import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { TaskManager } from '../../src/manager/task-manager.js';
import { hostApp, useStartedManager, waitFor, type ControlledTasks } from './helpers.js';

let manager: TaskManager;
let tasks: ControlledTasks;

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

useStartedManager((started) => ({ manager, tasks } = started));

async function settle(id: string, status: string): Promise<void> {
  await waitFor(async () => (await manager.getTask(id))?.status === status, 3000, `${id} to be ${status}`);
}

describe('GET /status/', () => {
  it('answers {"tasks": []} when there are none', async () => {
    const res = await request(hostApp(manager)).get('/tasks/status/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body).toEqual({
      tasks: [], next_cursor: null, prev_cursor: null, counts: { ALL: 0, PENDING: 0, RUNNING: 0, DONE: 0, FAILED: 0, CANCELLED: 0 },
    });
  });

  it('lists tasks newest first in the documented shape, with ISO 8601 UTC timestamps', async () => {
    const done = await manager.launch('quick');
    const failed = await manager.launch('broken');
    const running = await manager.launch('hold');
    await waitFor(() => tasks.started.has(running.id));
    await settle(done.id, 'DONE');
    await settle(failed.id, 'FAILED');

    const res = await request(hostApp(manager)).get('/tasks/status');
    expect(res.status).toBe(200);
    const list = res.body.tasks as Record<string, unknown>[];
    expect(list.map((t) => t.id)).toEqual([running.id, failed.id, done.id]);
    for (const task of list) {
      expect(Object.keys(task)).toEqual(expect.arrayContaining([
        'id', 'label', 'status', 'result', 'duration', 'created_at', 'completed_at', 'progress', 'message',
      ]));
      expect(task.created_at).toMatch(ISO_UTC);
    }
    const [r, f, d] = list;
    expect(r).toMatchObject({ status: 'RUNNING', label: 'Restocking hay loft', result: null, duration: null, completed_at: null });
    expect(r.started_at).toMatch(ISO_UTC);
    expect(f).toMatchObject({ status: 'FAILED', label: 'Polishing tack room brass', result: 'The brass polish ran out' });
    expect(f.completed_at).toMatch(ISO_UTC);
    expect(d).toMatchObject({ status: 'DONE', result: 'Routine complete: every stall passed inspection.' });
    expect(d.duration).toBeGreaterThan(0.03);
    expect(d.duration).toBeLessThan(5);
    expect(d.completed_at).toMatch(ISO_UTC);
  });

  it('reports progress as a percentage, reading percent from an object payload', async () => {
    const launched = await manager.launch('progress');
    await waitFor(async () => (await manager.getTask(launched.id))?.progress !== null);
    const res = await request(hostApp(manager)).get('/tasks/status/');
    expect(res.body.tasks[0]).toMatchObject({ id: launched.id, progress: 40, message: 'Tin 4 of 10' });
  });

  it('filters by one status, by comma-separated statuses and by repeated parameters', async () => {
    const done = await manager.launch('quick');
    const failed = await manager.launch('broken');
    const running = await manager.launch('hold');
    await settle(done.id, 'DONE');
    await settle(failed.id, 'FAILED');
    const app = hostApp(manager);
    const ids = async (query: string): Promise<string[]> =>
      ((await request(app).get(`/tasks/status/?${query}`)).body.tasks as { id: string }[]).map((t) => t.id);
    expect(await ids('status=DONE')).toEqual([done.id]);
    expect(await ids('status=done,failed')).toEqual([failed.id, done.id]);
    expect(await ids('status=RUNNING&status=DONE')).toEqual([running.id, done.id]);
    expect(await ids('status=CANCELLED')).toEqual([]);
  });

  it('pages with limit, next_cursor and before', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await manager.launch('quick')).id);
    const newestFirst = [...ids].reverse();
    const app = hostApp(manager);
    const first = await request(app).get('/tasks/status/?limit=2');
    expect(first.body.tasks.map((t: { id: string }) => t.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.body.next_cursor).toBe(newestFirst[1]);
    const second = await request(app).get(`/tasks/status/?limit=2&before=${encodeURIComponent(first.body.next_cursor as string)}`);
    expect(second.body.tasks.map((t: { id: string }) => t.id)).toEqual(newestFirst.slice(2, 4));
    const third = await request(app).get(`/tasks/status/?limit=2&before=${encodeURIComponent(second.body.next_cursor as string)}`);
    expect(third.body.tasks.map((t: { id: string }) => t.id)).toEqual(newestFirst.slice(4));
    expect(third.body.next_cursor).toBeNull();
  });

  it('uses a default limit of 50 and accepts up to 500', async () => {
    for (let i = 0; i < 55; i++) await manager.launch('quick');
    const app = hostApp(manager);
    const byDefault = await request(app).get('/tasks/status/');
    expect(byDefault.body.tasks).toHaveLength(50);
    expect(byDefault.body.next_cursor).not.toBeNull();
    const max = await request(app).get('/tasks/status/?limit=500');
    expect(max.status).toBe(200);
    expect(max.body.tasks).toHaveLength(55);
  });

  it.each([
    ['status=SLEEPING', 'an unknown status'],
    ['status=', 'an empty status'],
    ['status=DONE,', 'a trailing comma'],
    ['limit=0', 'a zero limit'],
    ['limit=501', 'a limit over 500'],
    ['limit=-1', 'a negative limit'],
    ['limit=2.5', 'a fractional limit'],
    ['limit=ten', 'a word for a limit'],
    ['limit=1&limit=2', 'a repeated limit'],
    ['before=', 'an empty cursor'],
    [`before=${'x'.repeat(300)}`, 'an absurdly long cursor'],
    [`before=${'x'.repeat(100)}`, 'a cursor the manager refuses'],
  ])('answers 400 INVALID_QUERY for %s (%s)', async (query) => {
    const app = hostApp(manager);
    const res = await request(app).get(`/tasks/status/?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_QUERY');
    expect(typeof res.body.error.message).toBe('string');
    expect(app.escaped).toEqual([]);
  });

  it('ignores unknown query parameters such as cache busters', async () => {
    const res = await request(hostApp(manager)).get('/tasks/status/?_=12345');
    expect(res.status).toBe(200);
  });

  describe('ETag', () => {
    it('answers a matching If-None-Match with a bodiless 304', async () => {
      const running = await manager.launch('hold');
      await waitFor(() => tasks.started.has(running.id));
      const app = hostApp(manager);
      const first = await request(app).get('/tasks/status/');
      const etag = first.headers.etag;
      expect(etag).toMatch(/^"[\w-]+"$/);
      expect(first.headers['cache-control']).toBe('private, no-cache');
      const again = await request(app).get('/tasks/status/').set('If-None-Match', etag);
      expect(again.status).toBe(304);
      expect(again.text).toBe('');
      expect(again.headers.etag).toBe(etag);
      // A proxy may weaken the tag, or send several.
      expect((await request(app).get('/tasks/status/').set('If-None-Match', `W/${etag}`)).status).toBe(304);
      expect((await request(app).get('/tasks/status/').set('If-None-Match', `"other", ${etag}`)).status).toBe(304);
      expect((await request(app).get('/tasks/status/').set('If-None-Match', '"other"')).status).toBe(200);
    });

    it('changes the ETag when a task changes status or reports progress', async () => {
      const launched = await manager.launch('progress');
      const app = hostApp(manager);
      await waitFor(async () => (await manager.getTask(launched.id))?.progress !== null);
      const before = (await request(app).get('/tasks/status/')).headers.etag;
      tasks.release(launched.id);
      await settle(launched.id, 'DONE');
      const after = await request(app).get('/tasks/status/').set('If-None-Match', before);
      expect(after.status).toBe(200);
      expect(after.body.tasks[0].status).toBe('DONE');
      expect(after.headers.etag).not.toBe(before);
    });

    it('gives different queries different tags', async () => {
      await manager.launch('hold');
      const app = hostApp(manager);
      const all = (await request(app).get('/tasks/status/')).headers.etag;
      const done = (await request(app).get('/tasks/status/?status=DONE')).headers.etag;
      expect(all).not.toBe(done);
    });
  });

  it('answers HEAD with the headers and no body', async () => {
    await manager.launch('hold');
    const res = await request(hostApp(manager)).head('/tasks/status/');
    expect(res.status).toBe(200);
    expect(res.headers.etag).toMatch(/^"/);
    // The text may be unset for a HEAD answer.
    expect((res.text as string | undefined) ?? '').toBe('');
  });

  it('answers 405 for other methods', async () => {
    const res = await request(hostApp(manager)).delete('/tasks/status/');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });
});
