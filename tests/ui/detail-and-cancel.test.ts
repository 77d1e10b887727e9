import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { TaskManager } from '../../src/manager/task-manager.js';
import { XSS_RESULT, csrfFor, hostApp, pageData, startManager, useStartedManager, waitFor, type ControlledTasks } from './helpers.js';

let manager: TaskManager;
let tasks: ControlledTasks;

useStartedManager((started) => ({ manager, tasks } = started));

async function settle(id: string, status: string): Promise<void> {
  await waitFor(async () => (await manager.getTask(id))?.status === status, 3000, `${id} to be ${status}`);
}

describe('GET /:id/', () => {
  it('answers JSON with every field of the task', async () => {
    const launched = await manager.launch('quick', undefined, { user: { name: 'Rarity' }, affected: ['Stall 4', 'Stall 5'] });
    await settle(launched.id, 'DONE');
    const res = await request(hostApp(manager)).get(`/tasks/${launched.id}/`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers.vary).toBe('Accept');
    expect(res.body).toMatchObject({
      id: launched.id,
      kind: 'quick',
      label: 'Brushing parade manes',
      status: 'DONE',
      result: 'Routine complete: every stall passed inspection.',
      error: null,
      user: 'Rarity',
      affected: 'Stall 4, Stall 5',
    });
    for (const key of ['created_at', 'started_at', 'updated_at', 'completed_at']) {
      expect(res.body[key]).toMatch(/Z$/);
    }
    expect(res.body).not.toHaveProperty('input');
  });

  it('answers without the trailing slash and revalidates with ETag', async () => {
    const launched = await manager.launch('hold');
    const app = hostApp(manager);
    const first = await request(app).get(`/tasks/${launched.id}`);
    expect(first.status).toBe(200);
    const second = await request(app).get(`/tasks/${launched.id}`).set('If-None-Match', first.headers.etag);
    expect(second.status).toBe(304);
  });

  it('renders the detail view for clients that accept HTML', async () => {
    const launched = await manager.launch('broken', undefined, { user: 'Fluttershy', affected: 'Tack room' });
    await settle(launched.id, 'FAILED');
    const res = await request(hostApp(manager))
      .get(`/tasks/${launched.id}/`)
      .set('Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toMatch(/script-src 'nonce-/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.text).toContain('<h1 class="sh-detail-title">Polishing tack room brass</h1>');
    expect(res.text).toContain('<span class="sh-badge sh-badge--failed">Failed</span>');
    expect(res.text).toContain('<pre class="sh-pre" data-field="error">The brass polish ran out</pre>');
    expect(res.text).toContain('<span data-field="user">Fluttershy</span>');
    expect(res.text).toContain('<span data-field="affected">Tack room</span>');
    for (const field of ['created_at', 'started_at', 'updated_at', 'completed_at', 'failed_at']) {
      expect(res.text).toMatch(new RegExp(`data-field="${field}">\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} UTC<`));
    }
    expect(res.text).toMatch(/data-field="duration">(\d\.\d|&lt; 0\.1) s</);
    expect(res.text).toContain('<a href="/tasks/">← Tasks</a>');
    // A finished task has nothing to cancel.
    expect(res.text).toMatch(/class="sh-cancel"[^>]* hidden>/);
    expect(pageData(res.text).taskUrl).toBe(`/tasks/${launched.id}/`);
  });

  it('shows progress and a cancel button for a running task', async () => {
    const launched = await manager.launch('progress');
    await waitFor(async () => (await manager.getTask(launched.id))?.progress !== null);
    const res = await request(hostApp(manager)).get(`/tasks/${launched.id}/`).set('Accept', 'text/html');
    expect(res.text).toContain('<span data-field="progress">40%</span>');
    expect(res.text).toContain('<span data-field="message">Tin 4 of 10</span>');
    expect(res.text).toMatch(/<button type="button" class="sh-cancel" aria-label="Cancel Counting sugar-cube tins">Cancel<\/button>/);
    expect(res.headers['set-cookie']).toBeDefined();
  });

  it('escapes task strings in the detail view', async () => {
    const launched = await manager.launch('xss', undefined, { user: '<i>Discord</i>' });
    await settle(launched.id, 'DONE');
    const res = await request(hostApp(manager)).get(`/tasks/${launched.id}/`).set('Accept', 'text/html');
    expect(res.text).toContain('&lt;script&gt;window.__pwned = 1&lt;/script&gt;');
    expect(res.text).toContain('&lt;i&gt;Discord&lt;/i&gt;');
    expect(res.text).not.toContain('<i>');
    expect(res.text.match(/<script/g)).toHaveLength(2);
    expect((pageData(res.text).task as { result: string }).result).toBe(XSS_RESULT);
  });

  it('answers 404 for an unknown id, in JSON even for browsers', async () => {
    const app = hostApp(manager);
    const json = await request(app).get('/tasks/0190b5a0-0000-7000-8000-000000000000/');
    expect(json.status).toBe(404);
    expect(json.body).toEqual({ error: { code: 'TASK_NOT_FOUND', message: 'No task with that id.' } });
    const html = await request(app).get('/tasks/nope/').set('Accept', 'text/html');
    expect(html.status).toBe(404);
    expect(html.headers['content-type']).toMatch(/^application\/json/);
    const long = await request(app).get(`/tasks/${'a'.repeat(5000)}/`);
    expect(long.status).toBe(404);
  });

  it('answers 400 for a path that cannot be decoded', async () => {
    const app = hostApp(manager);
    const res = await request(app).get('/tasks/%E0%A4%A/');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_PATH');
    expect(app.escaped).toEqual([]);
  });

  it('answers 405 for other methods', async () => {
    const res = await request(hostApp(manager)).put('/tasks/abc/');
    expect(res.status).toBe(405);
  });
});

describe('POST /:id/cancel/', () => {
  async function cancelViaHttp(app: ReturnType<typeof hostApp>, id: string): Promise<request.Response> {
    const csrf = await csrfFor(app);
    return request(app).post(`/tasks/${encodeURIComponent(id)}/cancel/`).set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token);
  }

  it('answers 202 for a running task, which then ends CANCELLED', async () => {
    const launched = await manager.launch('hold');
    await waitFor(() => tasks.started.has(launched.id));
    const res = await cancelViaHttp(hostApp(manager), launched.id);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: launched.id, status: 'CANCELLING' });
    await settle(launched.id, 'CANCELLED');
  });

  it('answers 202 CANCELLED for a queued task', async () => {
    const { manager: single, tasks: singleTasks } = await startManager({ concurrency: 1 });
    try {
      const first = await single.launch('hold');
      const queued = await single.launch('hold');
      const res = await cancelViaHttp(hostApp(single), queued.id);
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ id: queued.id, status: 'CANCELLED' });
      expect((await single.getTask(queued.id))?.status).toBe('CANCELLED');
      singleTasks.release(first.id);
    } finally {
      await single.stop({ graceMs: 0 });
    }
  });

  it('answers without the trailing slash too', async () => {
    const launched = await manager.launch('hold');
    const app = hostApp(manager);
    const csrf = await csrfFor(app);
    const res = await request(app).post(`/tasks/${launched.id}/cancel`).set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token);
    expect(res.status).toBe(202);
  });

  it('answers 404 for an unknown id and 409 for a finished task', async () => {
    const app = hostApp(manager);
    const unknown = await cancelViaHttp(app, '0190b5a0-0000-7000-8000-000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('TASK_NOT_FOUND');
    const tooLong = await cancelViaHttp(app, 'x'.repeat(1000));
    expect(tooLong.status).toBe(404);

    const done = await manager.launch('quick');
    await settle(done.id, 'DONE');
    const finished = await cancelViaHttp(app, done.id);
    expect(finished.status).toBe(409);
    expect(finished.body).toEqual({ error: { code: 'TASK_FINISHED', message: 'The task already finished.' } });
  });

  it('refuses without a CSRF token', async () => {
    const launched = await manager.launch('hold');
    const res = await request(hostApp(manager)).post(`/tasks/${launched.id}/cancel/`);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('CSRF_FAILED');
    expect((await manager.getTask(launched.id))?.status).not.toBe('CANCELLED');
  });

  it('answers 405 for other methods', async () => {
    const res = await request(hostApp(manager)).get('/tasks/abc/cancel/');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
  });
});
