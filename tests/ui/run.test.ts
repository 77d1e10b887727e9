import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { TaskManager } from '../../src/manager/task-manager.js';
import { csrfFor, csrfPoster, hostApp, runViaHttp, useStartedManager, waitFor } from './helpers.js';

let manager: TaskManager;

useStartedManager((started) => ({ manager } = started));

describe('POST /run/', () => {
  it('launches the named kind and answers 201 with id, label and PENDING', async () => {
    const app = hostApp(manager);
    const res = await runViaHttp(app, { kind: 'hold' });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body).toEqual({ id: expect.any(String), label: 'Restocking hay loft', status: 'PENDING' });
    expect(res.headers.location).toBe(`/tasks/${res.body.id}/`);
    const record = await manager.getTask(res.body.id as string);
    expect(record?.taskName).toBe('hold');
  });

  it('answers without the trailing slash too', async () => {
    const app = hostApp(manager);
    const csrf = await csrfFor(app);
    const res = await request(app).post('/tasks/run').set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token).send({ kind: 'quick' });
    expect(res.status).toBe(201);
  });

  it('runs the only offered kind when no kind is given, with no body or an empty one', async () => {
    const app = hostApp(manager, { kinds: ['quick'] });
    const csrf = await csrfFor(app);
    for (const send of [false, true]) {
      const post = request(app).post('/tasks/run/').set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token);
      const res = send ? await post.send({}) : await post;
      expect(res.status).toBe(201);
      expect((await manager.getTask(res.body.id as string))?.taskName).toBe('quick');
    }
  });

  it('asks for a kind, launching nothing, when several are offered and none is named', async () => {
    const app = hostApp(manager, { kinds: ['quick', 'broken'] });
    const res = await runViaHttp(app, {});
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'KIND_REQUIRED', message: 'Name the kind to run, as {"kind": "..."}: one of quick, broken.' } });
    expect(await manager.listTasks()).toEqual({ tasks: [], nextCursor: null, prevCursor: null });
  });

  it('starts nothing when the router offers no kinds: no run bar, and POST run/ answers 403 RUN_DISABLED', async () => {
    for (const options of [{ kinds: undefined }, { kinds: [] }]) {
      const app = hostApp(manager, options);
      const page = await request(app).get('/tasks/').set('Accept', 'text/html');
      expect(page.text).not.toContain('id="sh-run"');
      const res = await runViaHttp(app, { kind: 'quick' });
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: { code: 'RUN_DISABLED', message: 'This page starts no tasks: the router offers no kinds (its kinds option).' } });
    }
    expect(await manager.listTasks()).toEqual({ tasks: [], nextCursor: null, prevCursor: null });
  });

  it('refuses an unknown kind, and a defined kind that is not offered, with 400', async () => {
    const app = hostApp(manager, { kinds: ['quick'] });
    const unknown = await runViaHttp(app, { kind: 'teleport' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({ error: { code: 'UNKNOWN_KIND', message: 'Unknown task kind. Offered kinds: quick.' } });
    const notOffered = await runViaHttp(app, { kind: 'hold' });
    expect(notOffered.status).toBe(400);
    expect(notOffered.body.error.code).toBe('UNKNOWN_KIND');
    expect(await manager.listTasks()).toEqual({ tasks: [], nextCursor: null, prevCursor: null });
  });

  it('answers 400 when an offered kind is not defined by the manager, without listing defined kinds', async () => {
    const app = hostApp(manager, { kinds: ['ghost'] });
    const res = await runViaHttp(app, {});
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('UNKNOWN_KIND');
    expect(res.body.error.message).not.toContain('hold');
  });

  it('rejects malformed JSON with 400', async () => {
    const app = hostApp(manager);
    const post = await csrfPoster(app);
    const res = await post('/tasks/run/')
      .set('Content-Type', 'application/json')
      .send('{"kind": "quick"');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'INVALID_JSON', message: 'The request body is not valid JSON.' } });
    expect(app.escaped).toEqual([]);
  });

  it.each([
    ['an array', '[]'],
    ['a string', '"quick"'],
    ['null', 'null'],
    ['a number kind', '{"kind": 3}'],
    ['an empty kind', '{"kind": ""}'],
  ])('rejects %s as the body with 400', async (_name, body) => {
    const app = hostApp(manager);
    const post = await csrfPoster(app);
    const res = await post('/tasks/run/')
      .set('Content-Type', 'application/json')
      .send(body);
    expect(res.status).toBe(400);
    expect(['INVALID_BODY', 'INVALID_JSON']).toContain(res.body.error.code);
  });

  it('rejects a body over the limit with 413, honouring the bodyLimit option', async () => {
    const app = hostApp(manager, { bodyLimit: 64 });
    const post = await csrfPoster(app);
    const ok = await post('/tasks/run/').send({ kind: 'quick' });
    expect(ok.status).toBe(201);
    const big = await post('/tasks/run/')
      .send({ kind: 'quick', padding: 'x'.repeat(100) });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('PAYLOAD_TOO_LARGE');

    const defaultLimit = hostApp(manager);
    const postDefault = await csrfPoster(defaultLimit);
    const huge = await postDefault('/tasks/run/')
      .send({ kind: 'quick', padding: 'x'.repeat(5000) });
    expect(huge.status).toBe(413);
  });

  it('rejects a non-JSON body with 415', async () => {
    const app = hostApp(manager);
    const post = await csrfPoster(app);
    const res = await post('/tasks/run/')
      .type('form')
      .send('kind=quick');
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('accepts a JSON body already parsed by the host', async () => {
    const express = (await import('express')).default;
    const { createTaskRouter } = await import('../../src/ui/create-task-router.js');
    const app = express();
    app.use(express.json());
    app.use('/tasks', createTaskRouter(manager, { kinds: ['hold'] }));
    const csrf = await csrfFor(app);
    const res = await request(app).post('/tasks/run/').set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token).send({ kind: 'hold' });
    expect(res.status).toBe(201);
    expect((await manager.getTask(res.body.id as string))?.taskName).toBe('hold');
  });

  describe('CSRF', () => {
    it('refuses a POST without a token with 403', async () => {
      const res = await request(hostApp(manager)).post('/tasks/run/').send({ kind: 'quick' });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('CSRF_FAILED');
      expect(await manager.listTasks()).toEqual({ tasks: [], nextCursor: null, prevCursor: null });
    });

    it('refuses a header without the cookie, and a cookie without the header', async () => {
      const app = hostApp(manager);
      const csrf = await csrfFor(app);
      const headerOnly = await request(app).post('/tasks/run/').set(csrf.headerName, csrf.token).send({});
      const cookieOnly = await request(app).post('/tasks/run/').set('Cookie', csrf.cookie).send({});
      expect(headerOnly.status).toBe(403);
      expect(cookieOnly.status).toBe(403);
    });

    it('refuses mismatched tokens and a matching pair the server did not sign', async () => {
      const app = hostApp(manager);
      const a = await csrfFor(app);
      const b = await csrfFor(app);
      const mismatched = await request(app).post('/tasks/run/').set('Cookie', a.cookie).set(a.headerName, b.token).send({});
      expect(mismatched.status).toBe(403);
      const forged = 'AAAAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
      const planted = await request(app).post('/tasks/run/').set('Cookie', `stablehand_csrf=${forged}`).set(a.headerName, forged).send({});
      expect(planted.status).toBe(403);
      // A token signed by another router instance (another secret) is refused as well.
      const other = await csrfFor(hostApp(manager));
      const foreign = await request(app).post('/tasks/run/').set('Cookie', other.cookie).set(other.headerName, other.token).send({});
      expect(foreign.status).toBe(403);
    });

    it('accepts tokens across instances that share a secret', async () => {
      const secret = 'shared-secret-of-the-barn';
      const one = hostApp(manager, { csrf: { secret } });
      const two = hostApp(manager, { csrf: { secret } });
      const csrf = await csrfFor(one);
      const res = await request(two).post('/tasks/run/').set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token).send({ kind: 'quick' });
      expect(res.status).toBe(201);
    });
  });

  it('passes the user from getUser to the launch', async () => {
    const app = hostApp(manager, { getUser: (req) => ({ name: req.get('x-user') ?? 'nobody' }) });
    const post = await csrfPoster(app);
    const res = await post('/tasks/run/')
      .set('X-User', 'Applejack')
      .send({ kind: 'quick' });
    expect(res.status).toBe(201);
    expect((await manager.getTask(res.body.id as string))?.user).toBe('Applejack');
  });

  it('answers 503 when the manager has stopped', async () => {
    const app = hostApp(manager);
    const csrf = await csrfFor(app);
    await manager.stop({ graceMs: 0 });
    const res = await request(app).post('/tasks/run/').set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token).send({ kind: 'quick' });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('MANAGER_STOPPED');
  });

  it('answers 405 with Allow for other methods', async () => {
    const res = await request(hostApp(manager)).get('/tasks/run/');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.body.error.code).toBe('METHOD_NOT_ALLOWED');
  });

  it('runs the launched task to completion', async () => {
    const app = hostApp(manager);
    const res = await runViaHttp(app, { kind: 'quick' });
    const done = await waitFor(async () => {
      const record = await manager.getTask(res.body.id as string);
      return record?.status === 'DONE' ? record : null;
    });
    expect(done.result).toBe('Routine complete: every stall passed inspection.');
  });
});
