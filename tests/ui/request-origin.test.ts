import type { AddressInfo } from 'node:net';
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createTaskRouter } from '../../src/ui/create-task-router.js';
import type { TaskManager } from '../../src/manager/task-manager.js';
import { csrfPoster, hostApp, useStartedManager } from './helpers.js';

let manager: TaskManager;

useStartedManager((started) => ({ manager } = started));

describe('where a state-changing request comes from', () => {
  it('refuses a post another site\'s page makes, by its Origin or Sec-Fetch-Site, before anything runs', async () => {
    const app = hostApp(manager, { kinds: ['quick'] });
    const post = await csrfPoster(app);
    const before = (await manager.listTasks()).tasks.length;
    for (const [name, value] of [['Origin', 'https://evil.example'], ['Origin', 'null'], ['Sec-Fetch-Site', 'cross-site'], ['Sec-Fetch-Site', 'same-site']]) {
      const res = await post('/tasks/run/').set(name, value).send({ kind: 'quick' });
      expect(res.status, `${name}: ${value}`).toBe(403);
      expect(res.body).toEqual({ error: { code: 'CROSS_ORIGIN', message: 'This request comes from another site.' } });
    }
    const cancel = await post('/tasks/some-task/cancel/').set('Sec-Fetch-Site', 'cross-site');
    expect(cancel.status).toBe(403);
    expect((await manager.listTasks()).tasks.length).toBe(before);
  });

  it('takes a post from the page\'s own origin, from a typed request, from a client that says nothing, and from trusted origins', async () => {
    const app = hostApp(manager, { kinds: ['quick'], trustedOrigins: ['https://admin.example.com'] });
    const post = await csrfPoster(app);
    const own = await post('/tasks/run/').set('Host', 'tasks.example.com').set('Origin', 'https://tasks.example.com')
      .set('Sec-Fetch-Site', 'same-origin').send({ kind: 'quick' });
    expect(own.status).toBe(201);
    expect((await post('/tasks/run/').set('Sec-Fetch-Site', 'none').send({ kind: 'quick' })).status).toBe(201);
    expect((await post('/tasks/run/').send({ kind: 'quick' })).status).toBe(201);
    const trusted = await post('/tasks/run/').set('Origin', 'https://admin.example.com').set('Sec-Fetch-Site', 'cross-site').send({ kind: 'quick' });
    expect(trusted.status).toBe(201);
  });

  it('refuses trusted origins that are not origins, when the router is built', () => {
    for (const bad of [['admin.example.com'], ['https://admin.example.com/path'], ['ftp://x.example'], 'https://a.example', [42]]) {
      expect(() => createTaskRouter(manager, { trustedOrigins: bad as never })).toThrow(/trustedOrigins/);
    }
  });
});

describe('bodies', () => {
  it('refuses JSON that is not an object with INVALID_BODY', async () => {
    const app = hostApp(manager, { kinds: ['quick'] });
    const post = await csrfPoster(app);
    for (const body of ['"str"', '123', 'null', '[]', 'true']) {
      const res = await post('/tasks/run/').set('Content-Type', 'application/json').send(body);
      expect(res.status, body).toBe(400);
      expect((res.body as { error: { code: string } }).error.code, body).toBe('INVALID_BODY');
    }
  });

  it('answers 413 on a declared length over the limit at once, without waiting for the body', async () => {
    const app = hostApp(manager, { kinds: ['quick'] });
    const post = await csrfPoster(app);
    // The cookie and token a real client would send; only the headers go out.
    const probe = post('/tasks/run/');
    const headers = { ...(probe as unknown as { header: Record<string, string> }).header };
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({
          host: '127.0.0.1', port, path: '/tasks/run/', method: 'POST',
          headers: { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(50 * 1024 * 1024) },
        }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        // Headers only: a parser that waited for the 50 MB would never answer.
        req.flushHeaders();
        setTimeout(() => reject(new Error('no answer within 3 s')), 3_000).unref();
      });
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
