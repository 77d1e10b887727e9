import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/core/errors.js';
import type { TaskRouterManager } from '../../src/ports/task-manager-port.js';
import type { TaskManager } from '../../src/manager/task-manager.js';
import { createTaskRouter, type TaskRouterOptions } from '../../src/ui/create-task-router.js';
import { csrfFor, hostApp, recordingLogger, useStartedManager } from './helpers.js';

let manager: TaskManager;

useStartedManager((started) => ({ manager } = started));

describe('option checks at construction', () => {
  it.each<[string, unknown]>([
    ['an unknown key', { pollInterval: 1000 }],
    ['options that are not an object', 'fast'],
    ['an empty title', { title: '  ' }],
    ['a non-string heading', { heading: 3 }],
    ['a non-string run hint', { runHint: null }],
    ['kinds that are not a list', { kinds: 'quick' }],
    ['kinds that are not strings', { kinds: ['quick', 4] }],
    ['a fractional polling interval', { pollIntervalMs: 2.5 }],
    ['a polling interval under 100 ms', { pollIntervalMs: 10 }],
    ['a page size over 500', { pageSize: 501 }],
    ['a non-function authorize', { authorize: true }],
    ['a non-boolean readOnly', { readOnly: 'yes' }],
    ['a zero body limit', { bodyLimit: 0 }],
    ['an unparseable body limit', { bodyLimit: 'lots' }],
    ['a short CSRF secret', { csrf: { secret: 'short' } }],
    ['a cookie name with a semicolon', { csrf: { cookieName: 'a;b' } }],
    ['an unknown csrf key', { csrf: { sameSite: 'lax' } }],
    ['csrf: true', { csrf: true }],
    ['a logger without error()', { logger: {} }],
    ['a non-function getUser', { getUser: 'me' }],
    ['a non-function layout', { layout: '<nav></nav>' }],
  ])('throws ConfigurationError for %s', (_name, options) => {
    expect(() => createTaskRouter(manager, options as TaskRouterOptions)).toThrow(ConfigurationError);
  });

  it('names the bad option in the message', () => {
    expect(() => createTaskRouter(manager, { pollIntervalMs: -5 })).toThrow(/pollIntervalMs/);
  });

  it('throws ConfigurationError for something that is not a manager', () => {
    expect(() => createTaskRouter({} as TaskRouterManager)).toThrow(ConfigurationError);
    expect(() => createTaskRouter(null as unknown as TaskRouterManager)).toThrow(ConfigurationError);
  });

  it('accepts sizes as strings and numbers', () => {
    expect(() => createTaskRouter(manager, { bodyLimit: '2kb', pollIntervalMs: 100, pageSize: 500, runHint: '' })).not.toThrow();
    expect(() => createTaskRouter(manager, { bodyLimit: 1024 })).not.toThrow();
  });
});

describe('layout', () => {
  it('wraps the page and the detail view in the host layout, handing it this response\'s nonce', async () => {
    const seen: string[] = [];
    const app = hostApp(manager, {
      layout: ({ body, nonce, title }) => {
        seen.push(title);
        return `<style nonce="${nonce}">.host-nav{color:teal}</style><nav class="host-nav">Host</nav><div class="host-main">${body}</div>`;
      },
    });
    const page = await request(app).get('/tasks/').set('Accept', 'text/html');
    const nonce = /'nonce-([^']+)'/.exec(page.headers['content-security-policy'])![1];
    expect(page.text).toContain(`<style nonce="${nonce}">.host-nav{color:teal}</style><nav class="host-nav">Host</nav><div class="host-main"><main`);
    const launched = await manager.launch('quick');
    const detail = await request(app).get(`/tasks/${launched.id}/`).set('Accept', 'text/html');
    expect(detail.status).toBe(200);
    expect(detail.text).toContain('<nav class="host-nav">Host</nav>');
    expect(seen).toEqual(['Tasks', expect.stringContaining('· Tasks')]);
  });
});

describe('authorize', () => {
  it('is asked for each route with the action and task id', async () => {
    const calls: string[] = [];
    const app = hostApp(manager, {
      authorize: (req, action, context) => {
        if (context.purpose === 'request') calls.push(`${req.method} ${action} ${context.taskId ?? '-'}`);
        return Promise.resolve(true);
      },
    });
    const csrf = await csrfFor(app);
    const run = await request(app).post('/tasks/run/').set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token).send({ kind: 'hold' });
    const id = run.body.id as string;
    await request(app).get('/tasks/status/');
    await request(app).get(`/tasks/${id}/`);
    await request(app).post(`/tasks/${id}/cancel/`).set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token);
    expect(calls).toEqual([
      'GET view -',
      'POST run -',
      'GET view -',
      `GET view ${id}`,
      `POST cancel ${id}`,
    ]);
  });

  it('refuses with 403 FORBIDDEN when it answers false, per action', async () => {
    const secret = 'one-secret-for-both-routers';
    const app = hostApp(manager, { authorize: (_req, action) => action === 'view', csrf: { secret } });
    const running = await manager.launch('hold');
    // This page shows no controls and hands out no token, so take a valid one from a sibling router.
    expect((await request(app).get('/tasks/')).headers['set-cookie']).toBeUndefined();
    const csrf = await csrfFor(hostApp(manager, { csrf: { secret } }));
    const run = await request(app).post('/tasks/run/').set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token).send({});
    expect(run.status).toBe(403);
    expect(run.body).toEqual({ error: { code: 'FORBIDDEN', message: 'You may not do this.' } });
    const cancel = await request(app).post(`/tasks/${running.id}/cancel/`).set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token);
    expect(cancel.status).toBe(403);
    expect((await request(app).get('/tasks/status/')).status).toBe(200);
  });

  it('refuses every route when view is refused', async () => {
    const running = await manager.launch('hold');
    const app = hostApp(manager, { authorize: () => false });
    for (const path of ['/tasks/', '/tasks/status/', `/tasks/${running.id}/`]) {
      const res = await request(app).get(path).set('Accept', 'text/html');
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body.error.code).toBe('FORBIDDEN');
    }
  });

  it("answers 401 UNAUTHENTICATED for 'unauthenticated', before the CSRF check", async () => {
    const app = hostApp(manager, { authorize: (req) => Promise.resolve(req.get('authorization') ? true : 'unauthenticated') });
    const page = await request(app).get('/tasks/');
    expect(page.status).toBe(401);
    expect(page.body.error.code).toBe('UNAUTHENTICATED');
    const run = await request(app).post('/tasks/run/').send({});
    expect(run.status).toBe(401);
    expect((await request(app).get('/tasks/status/').set('Authorization', 'Bearer hay')).status).toBe(200);
  });

  it('fails closed when it returns something other than true', async () => {
    const app = hostApp(manager, { authorize: (() => undefined) as unknown as TaskRouterOptions['authorize'] });
    expect((await request(app).get('/tasks/status/')).status).toBe(403);
  });

  it('answers a clean, logged 500 when it throws', async () => {
    const logger = recordingLogger();
    const app = hostApp(manager, {
      logger,
      authorize: () => {
        throw new Error('session store down at /srv/secret/path.js:12');
      },
    });
    const res = await request(app).get('/tasks/status/');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'INTERNAL', message: 'Internal error.' } });
    expect(res.text).not.toContain('secret');
    expect(logger.errors).toHaveLength(1);
    expect((logger.errors[0]?.[1] as Error).message).toContain('session store down');
    expect(app.escaped).toEqual([]);
  });
});

describe('readOnly', () => {
  it('refuses run and cancel with 403 READ_ONLY but serves the read routes', async () => {
    const running = await manager.launch('hold');
    const app = hostApp(manager, { readOnly: true });
    const run = await request(app).post('/tasks/run/').send({ kind: 'quick' });
    expect(run.status).toBe(403);
    expect(run.body.error.code).toBe('READ_ONLY');
    const cancel = await request(app).post(`/tasks/${running.id}/cancel/`);
    expect(cancel.status).toBe(403);
    expect(cancel.body.error.code).toBe('READ_ONLY');
    expect((await manager.getTask(running.id))?.status).not.toBe('CANCELLED');
    expect((await request(app).get('/tasks/status/')).status).toBe(200);
    expect((await request(app).get(`/tasks/${running.id}/`)).status).toBe(200);
  });
});

describe('server faults', () => {
  function brokenManager(): TaskRouterManager {
    const fail = (): Promise<never> =>
      Promise.reject(new TypeError("Cannot read properties of undefined (reading 'rows') at Store.list (/app/store.js:1:1)"));
    return { kinds: ['quick'], launch: fail, cancel: fail, getTask: fail, listTasks: fail };
  }

  it('answers every route with a clean 500 JSON and logs the error', async () => {
    const logger = recordingLogger();
    const app = hostApp(brokenManager() as unknown as TaskManager, { logger });
    const responses = [
      await request(app).get('/tasks/'),
      await request(app).get('/tasks/status/'),
      await request(app).get('/tasks/abc/'),
    ];
    for (const res of responses) {
      expect(res.status).toBe(500);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.body).toEqual({ error: { code: 'INTERNAL', message: 'Internal error.' } });
      expect(res.text).not.toMatch(/store\.js|TypeError|at /);
    }
    expect(logger.errors).toHaveLength(3);
    expect(app.escaped).toEqual([]);
  });

  it('survives a logger that throws', async () => {
    const app = hostApp(brokenManager() as unknown as TaskManager, {
      logger: {
        error: () => {
          throw new Error('logger down');
        },
      },
    });
    const res = await request(app).get('/tasks/status/');
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('INTERNAL');
  });
});

describe('hostile requests', () => {
  it('never answers 500 or leaks a stack for malformed client input', async () => {
    const running = await manager.launch('hold');
    const app = hostApp(manager);
    const csrf = await csrfFor(app);
    const attempts: (() => request.Test)[] = [
      () => request(app).get('/tasks/status/?status[]=DONE'),
      () => request(app).get('/tasks/status/?limit=1e3'),
      () => request(app).get('/tasks/status/?before=%00%ff'),
      () => request(app).get('/tasks/%ZZ/'),
      () => request(app).get('/tasks/%00/'),
      () => request(app).get(`/tasks/${running.id}/`).set('Accept', '*/*;q=abc'),
      () => request(app).get('/tasks/status/').set('If-None-Match', '*,,,W/'),
      () => request(app).post('/tasks/run/').set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token).set('Content-Type', 'application/json; charset=koi8-r').send('{}'),
      () => request(app).post('/tasks/run/').set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token).set('Content-Type', 'application/json').set('Content-Encoding', 'br-nope').send('{}'),
      () => request(app).post('/tasks/run/').set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token).set('Content-Type', 'application/json').send('{"kind": {"$ne": 1}}'),
      () => request(app).post('/tasks/run/').set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token).set('Content-Type', 'text/plain').send('hello'),
      () => request(app).post('/tasks/run/').set('Cookie', `${csrf.cookie}; stablehand_csrf="`).set(csrf.headerName, 'x'.repeat(5000)).send({}),
      () => request(app).post(`/tasks/${running.id}/cancel/`).set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token).set('Content-Type', 'application/json').send('{not json'),
      () => request(app).options('/tasks/run/'),
    ];
    for (const [index, attempt] of attempts.entries()) {
      const res = await attempt();
      expect(res.status, `attempt #${index}`).toBeGreaterThanOrEqual(200);
      expect(res.status, `attempt #${index}`).toBeLessThan(500);
      expect(res.text).not.toMatch(/\bat .+:\d+:\d+/);
      if (res.status >= 400) expect(res.body.error.code).toMatch(/^[A-Z_]+$/);
    }
    expect(app.escaped).toEqual([]);
  });
});
