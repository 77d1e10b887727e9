import fc from 'fast-check';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelTrackingTaskManager } from '../../src/index.js';
import { engines } from '../helpers/data-sources.js';
import { csrfFor, hostApp, recordingLogger } from './helpers.js';

// Pieces a prober strings together: encoded NULs and controls, traversal, overlong and invalid
// UTF-8, very long segments, and the router's own words.
const piece = fc.oneof(
  fc.constantFrom('%00', '%0a', '%1f', '..', '%2e%2e', '%2f', '%5c', '%c0%af', '%ed%a0%80', '%ff', '%e2%80%ae', '~', ';', '%25',
    'status', 'run', 'fleet', 'cancel', '01a232b0-c92f-7000-aec7-9f8a7c99ba88', 'x'.repeat(300)),
  fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '_', '.', '!', '$', '(', "'"), maxLength: 12 }),
);
const path = fc.array(piece, { minLength: 0, maxLength: 4 }).map((parts) => `/tasks/${parts.join('/')}`);
const query = fc.array(fc.tuple(
  fc.constantFrom('status', 'status[]', 'limit', 'limit[]', 'before', 'before[a]', 'x'),
  fc.oneof(piece, fc.constantFrom('DONE', 'RUNNING,FAILED', '1', '500', '501', '-1', '')),
), { maxLength: 4 }).map((pairs) => pairs.map(([key, value]) => `${key}=${value}`).join('&'));

for (const engine of engines) {
  describe.skipIf(engine.skipReason)(`every route under hostile paths and parameters on ${engine.name}`, () => {
    let dataSource: DataSource;
    let manager: ModelTrackingTaskManager;
    const logger = recordingLogger();

    beforeAll(async () => {
      dataSource = await engine.open();
      manager = new ModelTrackingTaskManager({ dataSource, logger });
      manager.define('quick', { run: () => 'ok' });
      await manager.start();
      await manager.launch('quick');
    });

    afterAll(async () => {
      await manager.stop({ graceMs: 0 });
      await dataSource.destroy();
    });

    it('never answers 5xx, and answers every error in JSON', async () => {
      const app = hostApp(manager, { logger, statusCacheMs: 0, kinds: ['quick'] });
      const csrf = await csrfFor(app);
      await fc.assert(fc.asyncProperty(path, query, fc.constantFrom('GET', 'POST', 'DELETE'), fc.boolean(), async (url, search, method, html) => {
        const target = search ? `${url}?${search}` : url;
        let call = method === 'GET' ? request(app).get(target) : method === 'POST' ? request(app).post(target) : request(app).delete(target);
        call = call.set('Accept', html ? 'text/html' : 'application/json');
        if (method === 'POST') call = call.set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token).send({ kind: 'quick' });
        const res = await call;
        expect(res.status, `${method} ${target}`).toBeLessThan(500);
        if (res.status >= 400) {
          expect(res.headers['content-type'], `${method} ${target}`).toMatch(/^application\/json/);
          expect((res.body as { error?: { code?: unknown } }).error?.code, `${method} ${target}`).toEqual(expect.any(String));
        }
      }), { numRuns: 150 });
      expect(app.escaped).toEqual([]);
      expect(logger.errors).toEqual([]);
    }, 120_000);
  });
}
