import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'reflect-metadata';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stablehandMigrations } from '../../src/index.js';
import { stablehandEntities } from '../../src/adapters/typeorm/task-record-entity.js';
import { ModelTrackingTaskManager } from '../../src/adapters/typeorm/model-tracking-task-manager.js';
import { ControlledTasks, XSS_RESULT, csrfFor, hostApp, recordingLogger, waitFor } from './helpers.js';

let dir: string;
let dataSource: DataSource;
let manager: ModelTrackingTaskManager;
let tasks: ControlledTasks;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stablehand-ui-'));
  dataSource = new DataSource({
    type: 'better-sqlite3',
    database: join(dir, 'tasks.db'),
    entities: stablehandEntities,
    migrations: stablehandMigrations,
  });
  await dataSource.initialize();
  await dataSource.runMigrations();
  manager = new ModelTrackingTaskManager({ dataSource, cancelGraceMs: 100, progressIntervalMs: 10, logger: recordingLogger() });
  tasks = new ControlledTasks();
  tasks.define(manager);
  await manager.start();
});

afterAll(async () => {
  for (const id of tasks.gates.keys()) tasks.release(id);
  await manager.stop({ graceMs: 0 });
  await dataSource.destroy();
  rmSync(dir, { recursive: true, force: true });
});

async function statusOf(app: ReturnType<typeof hostApp>, id: string, mount = '/tasks'): Promise<string | undefined> {
  const res = await request(app).get(`${mount}/${id}/`);
  return res.body.status as string | undefined;
}

describe('the router over ModelTrackingTaskManager on a SQLite file', () => {
  it('runs, lists, shows and finishes tasks through HTTP', async () => {
    const app = hostApp(manager, {}, '/stable');
    const csrf = await csrfFor(app, '/stable');
    const post = (path: string, body?: object) => {
      const req = request(app).post(path).set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token);
      return body ? req.send(body) : req;
    };

    const done = await post('/stable/run/', { kind: 'quick' });
    const failed = await post('/stable/run/', { kind: 'broken' });
    expect(done.status).toBe(201);
    expect(done.body).toEqual({ id: expect.any(String), label: 'Brushing parade manes', status: 'PENDING' });
    await waitFor(async () => (await statusOf(app, done.body.id, '/stable')) === 'DONE', 5000, 'DONE over SQLite');
    await waitFor(async () => (await statusOf(app, failed.body.id, '/stable')) === 'FAILED', 5000, 'FAILED over SQLite');

    const list = await request(app).get('/stable/status/');
    expect(list.status).toBe(200);
    expect(list.body.tasks.map((t: { id: string }) => t.id)).toEqual([failed.body.id, done.body.id]);
    expect(list.body.tasks[0]).toMatchObject({ status: 'FAILED', result: 'The brass polish ran out' });
    expect(list.body.tasks[1]).toMatchObject({ status: 'DONE', result: 'Routine complete: every stall passed inspection.' });
    expect(list.body.tasks[1].completed_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(list.body.tasks[1].duration).toBeGreaterThan(0);

    const page = await request(app).get('/stable/');
    expect(page.text).toContain(`<a class="sh-name" href="/stable/${done.body.id}/">Brushing parade manes</a>`);
  });

  it('cancels a running task (202), then refuses with 409, and 404s an unknown id', async () => {
    const app = hostApp(manager);
    const csrf = await csrfFor(app);
    const launched = await manager.launch('hold');
    await waitFor(() => tasks.started.has(launched.id));
    const cancel = () => request(app).post(`/tasks/${launched.id}/cancel/`).set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token);
    expect((await cancel()).status).toBe(202);
    await waitFor(async () => (await statusOf(app, launched.id)) === 'CANCELLED', 5000, 'CANCELLED over SQLite');
    const again = await cancel();
    expect(again.status).toBe(409);
    const unknown = await request(app).post('/tasks/0190b5a0-0000-7000-8000-000000000000/cancel/').set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token);
    expect(unknown.status).toBe(404);
  });

  it('filters, pages and answers idle polls with 304', async () => {
    const app = hostApp(manager);
    for (let i = 0; i < 3; i++) await manager.launch('quick');
    await waitFor(async () => (await manager.listTasks({ status: ['PENDING', 'RUNNING'] })).tasks.length === 0, 5000, 'quick tasks');
    const first = await request(app).get('/tasks/status/?status=DONE&limit=2');
    expect(first.body.tasks).toHaveLength(2);
    expect(first.body.next_cursor).toBe(first.body.tasks[1].id);
    const second = await request(app).get(`/tasks/status/?status=DONE&limit=2&before=${first.body.next_cursor}`);
    expect(second.body.tasks.length).toBeGreaterThan(0);
    expect(second.body.tasks[0].id < first.body.tasks[1].id).toBe(true);

    const etag = first.headers.etag;
    const idle = await request(app).get('/tasks/status/?status=DONE&limit=2').set('If-None-Match', etag);
    expect(idle.status).toBe(304);
    await manager.launch('quick');
    await waitFor(async () => (await manager.listTasks({ status: ['PENDING', 'RUNNING'] })).tasks.length === 0, 5000, 'one more');
    const changed = await request(app).get('/tasks/status/?status=DONE&limit=2').set('If-None-Match', etag);
    expect(changed.status).toBe(200);
  });

  it('escapes stored markup in the detail view', async () => {
    const launched = await manager.launch('xss', undefined, { user: { name: '<b>Spike</b>' } });
    await waitFor(async () => (await manager.getTask(launched.id))?.status === 'DONE', 5000, 'xss over SQLite');
    const res = await request(hostApp(manager)).get(`/tasks/${launched.id}/`).set('Accept', 'text/html');
    expect(res.text).toContain('&lt;b&gt;Spike&lt;/b&gt;');
    expect(res.text).not.toContain('<b>');
    const json = await request(hostApp(manager)).get(`/tasks/${launched.id}/`);
    expect(json.body.result).toBe(XSS_RESULT);
  });
});

describe('rows in a status the host wrote itself', () => {
  it('render quietly in the page, the detail view and the JSON instead of failing the page', async () => {
    const id = '01a20000-0000-7000-8000-00000000abcd';
    await dataSource.query(
      "INSERT INTO stablehand_task (id, task_name, label, status, cleaned_up, created_at, updated_at) VALUES (?, 'legacy', 'Old import', 'archived', 1, '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000')",
      [id],
    );
    try {
      const app = hostApp(manager);
      const page = await request(app).get('/tasks/').set('Accept', 'text/html');
      expect(page.status).toBe(200);
      expect(page.text).toContain('Old import');
      const detail = await request(app).get(`/tasks/${id}/`).set('Accept', 'text/html');
      expect(detail.status).toBe(200);
      expect(detail.text).toContain('Old import');
      const status = await request(app).get('/tasks/status/');
      expect(status.body.tasks.find((t: { id: string }) => t.id === id)).toMatchObject({ status: 'archived', label: 'Old import' });
      expect(app.escaped).toEqual([]);
    } finally {
      await dataSource.query('DELETE FROM stablehand_task WHERE id = ?', [id]);
    }
  });
});
