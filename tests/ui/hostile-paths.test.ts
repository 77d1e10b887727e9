import request from 'supertest';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelTrackingTaskManager } from '../../src/index.js';
import { engines } from '../helpers/data-sources.js';
import { csrfFor, hostApp, recordingLogger } from './helpers.js';

// What a prober sends: ids and cursors no record can have, paths that name nothing, parameters
// given as lists. Each database must answer alike, with a JSON 4xx, before any query can fail.
for (const engine of engines) {
  describe.skipIf(engine.skipReason)(`hostile paths and parameters on ${engine.name}`, () => {
    let dataSource: DataSource;
    let manager: ModelTrackingTaskManager;
    let app: ReturnType<typeof hostApp>;
    const logger = recordingLogger();

    beforeAll(async () => {
      dataSource = await engine.open();
      manager = new ModelTrackingTaskManager({ dataSource, logger });
      manager.define('quick', { label: 'Quick', run: () => 'ok' });
      await manager.start();
      app = hostApp(manager, { logger, statusCacheMs: 0 });
    });

    afterAll(async () => {
      await manager.stop({ graceMs: 0 });
      await dataSource.destroy();
    });

    const expectJsonError = (res: request.Response, status: number, code: string) => {
      expect(res.status, res.text).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect((res.body as { error: { code: string } }).error.code).toBe(code);
    };

    it('answers an id no record can have with a 404, and such a cursor with a 400', async () => {
      for (const id of ['%00', 'a%00b', '%1F', 'x'.repeat(201)]) {
        expectJsonError(await request(app).get(`/tasks/${id}/`), 404, 'TASK_NOT_FOUND');
      }
      // Not UTF-8 at all (a lone surrogate, an overlong encoding): the path itself is malformed.
      for (const id of ['%ED%A0%80', '%C0%AF']) expectJsonError(await request(app).get(`/tasks/${id}/`), 400, 'INVALID_PATH');
      const csrf = await csrfFor(app);
      const cancel = await request(app).post('/tasks/%00/cancel/').set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token);
      expectJsonError(cancel, 404, 'TASK_NOT_FOUND');
      for (const before of ['%00', 'abc%0A', 'x'.repeat(65)]) {
        expectJsonError(await request(app).get(`/tasks/status/?before=${before}`), 400, 'INVALID_QUERY');
      }
      expect(await manager.getTask('\u0000')).toBeNull();
      await expect(manager.cancel('a\u0000b')).rejects.toMatchObject({ code: 'TASK_NOT_FOUND' });
      await expect(manager.listTasks({ before: '\u0000' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      // Nothing reached the database to fail there.
      expect(logger.errors).toEqual([]);
    });

    it('answers every path under the mount point itself, in JSON', async () => {
      for (const path of ['status/x', 'run/x', 'fleet/x/y', 'abc/cancel/x', 'abc/cancel/x/y']) {
        expectJsonError(await request(app).get(`/tasks/${path}`), 404, 'NOT_FOUND');
      }
      expectJsonError(await request(app).post('/tasks/status/x'), 404, 'NOT_FOUND');
      expect(app.escaped).toEqual([]);
    });

    it('refuses query parameters given as lists or objects instead of ignoring them', async () => {
      for (const query of ['status[]=DONE', 'limit[]=1', 'before[a]=b', 'limit=1&limit=2']) {
        expectJsonError(await request(app).get(`/tasks/status/?${query}`), 400, 'INVALID_QUERY');
      }
      expect((await request(app).get('/tasks/status/?status=DONE&status=FAILED&limit=5')).status).toBe(200);
    });
  });
}
