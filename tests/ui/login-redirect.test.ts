import type { Request } from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createTaskRouter } from '../../src/ui/create-task-router.js';
import type { TaskManager } from '../../src/manager/task-manager.js';
import { hostApp, recordingLogger, useStartedManager } from './helpers.js';

let manager: TaskManager;

useStartedManager((started) => ({ manager } = started));

describe('a signed-out browser', () => {
  const signedOut = () => 'unauthenticated' as const;
  const loginUrl = (req: Request) => `/login?next=${encodeURIComponent(req.originalUrl)}`;

  it('is sent to the host\'s login page from the page and a detail view; JSON clients still get 401', async () => {
    const app = hostApp(manager, { authorize: signedOut, loginUrl });
    const page = await request(app).get('/tasks/').set('Accept', 'text/html');
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/login?next=%2Ftasks%2F');
    const detail = await request(app).get('/tasks/some-task/').set('Accept', 'text/html');
    expect(detail.status).toBe(303);
    expect(detail.headers.location).toBe('/login?next=%2Ftasks%2Fsome-task%2F');
    for (const path of ['/tasks/status/', '/tasks/some-task/']) {
      const json = await request(app).get(path).set('Accept', 'application/json');
      expect(json.status, path).toBe(401);
      expect(json.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: 'Sign in to use this page.' } });
    }
    const post = await request(app).post('/tasks/run/').set('Accept', 'text/html');
    expect(post.status).toBe(401);
  });

  it('gets a 401 when loginUrl gives no URL, or one no header can carry (logged)', async () => {
    const logger = recordingLogger();
    for (const url of [undefined, 'https://login.example/\r\nSet-Cookie: x=1', '']) {
      const app = hostApp(manager, { authorize: signedOut, loginUrl: () => url, logger });
      expect((await request(app).get('/tasks/').set('Accept', 'text/html')).status).toBe(401);
    }
    expect(logger.errors).toHaveLength(2);
  });

  it('refuses a loginUrl that is not a function when the router is built', () => {
    expect(() => createTaskRouter(manager, { loginUrl: '/login' as never })).toThrow(/loginUrl/);
  });
});
