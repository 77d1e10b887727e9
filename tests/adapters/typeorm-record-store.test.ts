import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfigurationError, ModelTrackingTaskManager, StablehandTaskKey, StablehandTaskRecord, StoreUnavailableError, TaskConflictError, TypeOrmRecordStore, type TaskManager, type TaskRecord,
} from '../../src/index.js';
import { newTaskId } from '../../src/manager/task-id.js';
import { engines, tableName, tempDir } from '../helpers/data-sources.js';
import { ImportJob, importJobFieldMap, importJobStatusValues } from '../helpers/import-job-entity.js';
import { deferred, recordingLogger, waitFor } from '../helpers/wait.js';

for (const engine of engines) {
  describe.skipIf(engine.skipReason)(`TypeORM record store on ${engine.name}`, () => {
    const open: DataSource[] = [];
    const managers: TaskManager[] = [];
    afterEach(async () => {
      for (const manager of managers.splice(0)) await manager.stop({ graceMs: 50 });
      for (const dataSource of open.splice(0)) if (dataSource.isInitialized) await dataSource.destroy();
    });

    async function dataSourceFor(entities: Parameters<typeof engine.open>[0] = [], file?: string) {
      const dataSource = await engine.open(entities, { file });
      open.push(dataSource);
      return dataSource;
    }

    function track(manager: ModelTrackingTaskManager): ModelTrackingTaskManager {
      managers.push(manager);
      return manager;
    }

    const terminal = (manager: TaskManager, id: string) => waitFor(async () => {
      const record = await manager.getTask(id);
      return record && ['DONE', 'FAILED', 'CANCELLED'].includes(record.status) && record.cleanedUp !== false ? record : null;
    }, 10_000, `task ${id} to finish`);

    it('records the lifecycle in the bundled table, readable by the host through TypeORM', async () => {
      const dataSource = await dataSourceFor();
      const manager = track(new ModelTrackingTaskManager({ dataSource, progressIntervalMs: 0 }));
      manager.define('report', { label: 'Monthly report', run: ({ progress }) => { progress(60, 'totals'); return { pages: 4, note: 'ünïcödé ✓' }; } });
      manager.define('broken', { label: 'Broken', run: () => Promise.reject(new Error('printer on fire')) });
      await manager.start();
      const completions = new Map<string, Date>();
      manager.on('complete', (event) => completions.set(event.id, event.completedAt!));
      const ok = await manager.launch('report', { month: '2026-10' }, { user: 'ann', affected: ['report:10'] });
      const bad = await manager.launch('broken');
      const done = await terminal(manager, ok.id);
      expect(done).toMatchObject({
        status: 'DONE', label: 'Monthly report', taskName: 'report', progress: 60, message: 'totals', user: 'ann',
        affected: 'report:10', input: { month: '2026-10' }, result: { pages: 4, note: 'ünïcödé ✓' }, cleanedUp: true,
      } satisfies Partial<TaskRecord>);
      expect(done.createdAt!.getTime()).toBeLessThanOrEqual(done.startedAt!.getTime());
      expect(done.completedAt).toEqual(completions.get(ok.id)); // to the millisecond
      expect(await terminal(manager, bad.id)).toMatchObject({ status: 'FAILED', error: 'printer on fire', failedAt: expect.any(Date) });

      const row = await dataSource.getRepository('StablehandTaskRecord').findOneByOrFail({ id: ok.id });
      expect(row).toMatchObject({ status: 'DONE', cleanedUp: true, result: { pages: 4, note: 'ünïcödé ✓' } });
      expect(row.completedAt).toEqual(done.completedAt);
      const page = await manager.listTasks({ status: ['DONE', 'FAILED'] });
      expect(page.tasks.map((t) => t.id)).toEqual([bad.id, ok.id]);
    });

    it('maps a host entity with its own column names and status words', async () => {
      const dataSource = await dataSourceFor([ImportJob]);
      const manager = track(new ModelTrackingTaskManager({ dataSource, entity: ImportJob, fieldMap: importJobFieldMap, statusValues: importJobStatusValues }));
      manager.define('import', { label: 'Import', run: () => 'imported 3 rows' });
      await manager.start();
      const { id } = await manager.launch('import', { rows: 3 }, { user: 'bob' });
      await terminal(manager, id);
      const [row] = await dataSource.query(`SELECT ${['uuid', 'state', 'outcome', 'started_by'].map((c) => dataSource.driver.escape(c)).join(', ')} FROM ${tableName(dataSource, 'import_job')}`);
      expect(row).toEqual({ uuid: id, state: 'success', outcome: 'imported 3 rows', started_by: 'bob' });
    });

    it('holds locks across two managers on one database, and releases them at cleanup', async () => {
      const first = await dataSourceFor();
      const second = engine.name === 'sqlite' ? await dataSourceFor([], first.options.database as string) : await engine.open([], {});
      if (second !== first && !open.includes(second)) open.push(second);
      const gate = deferred();
      const a = track(new ModelTrackingTaskManager({ dataSource: first }));
      const b = track(new ModelTrackingTaskManager({ dataSource: second, reconcileOnStart: false }));
      for (const manager of [a, b]) manager.define('edit', { label: 'Bulk edit', run: () => gate.promise });
      await a.start();
      await b.start();
      const holder = await a.launch('edit', null, { affected: ['order:1', 'order:2'], lock: true });
      const error = await b.launch('edit', null, { affected: ['order:2', 'order:3'], lock: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TaskConflictError);
      expect(error).toMatchObject({ code: 'TASK_CONFLICT', objects: ['order:2'], heldBy: holder.id });
      expect((error as Error).message).toContain(holder.id);
      // The refused launch left nothing behind: no record, and order:3 is still free.
      expect((await b.listTasks()).tasks.map((t) => t.id)).toEqual([holder.id]);
      const free = await b.launch('edit', null, { affected: ['order:3'], lock: true });
      gate.resolve();
      await terminal(a, holder.id);
      await terminal(b, free.id);
      const again = await b.launch('edit', null, { affected: ['order:1', 'order:2'], lock: true });
      await terminal(b, again.id);
    });

    it('fails records an earlier run left unfinished, with their locks, at start', async () => {
      const dataSource = await dataSourceFor();
      // One process plays both runs, so the restart is told it is the same app instance, as a
      // replica with a stable instanceId would be (tests/manager/across-processes.test.ts kills a
      // real process instead).
      const crashed = new ModelTrackingTaskManager({ dataSource, instanceId: 'web-1' });
      crashed.define('edit', { label: 'Edit', run: () => new Promise<never>(() => undefined) });
      await crashed.start();
      const running = await crashed.launch('edit', null, { affected: ['stall:7'], lock: true });
      await waitFor(async () => (await crashed.getTask(running.id))?.status === 'RUNNING');
      // The process "dies": nothing is stopped or flushed; a new manager starts on the same database.
      const restarted = track(new ModelTrackingTaskManager({ dataSource, instanceId: 'web-1' }));
      restarted.define('edit', { label: 'Edit', run: () => 'ok' });
      await restarted.start();
      const abandoned = await restarted.getTask(running.id);
      expect(abandoned).toMatchObject({ status: 'FAILED', message: 'Abandoned — app restarted', error: 'Abandoned — app restarted' });
      expect(abandoned!.completedAt).toBeInstanceOf(Date);
      const next = await restarted.launch('edit', null, { affected: ['stall:7'], lock: true });
      expect(await terminal(restarted, next.id)).toMatchObject({ status: 'DONE' });
    });

    it('fails at start the records a version before owners left unfinished, and nobody else\'s', async () => {
      const dataSource = await dataSourceFor();
      const live = track(new ModelTrackingTaskManager({ dataSource, instanceId: 'web-live' }));
      live.define('edit', { label: 'Edit', run: () => new Promise<never>(() => undefined) });
      await live.start();
      const held = await live.launch('edit');
      await waitFor(async () => (await live.getTask(held.id))?.status === 'RUNNING');
      // Rows as 0.1 wrote them: no owner, no heartbeat.
      const old = new TypeOrmRecordStore({ dataSource, logger: recordingLogger() });
      await old.open();
      const at = new Date();
      const legacy = (status: 'PENDING' | 'RUNNING') => ({
        id: newTaskId(), taskName: 'edit', label: `Left ${status}`, status, message: null, progress: null, user: null, affected: null,
        input: null, result: null, error: null, cleanedUp: false, createdAt: at, startedAt: null, updatedAt: at, completedAt: null,
        failedAt: null, duration: null, owner: null, heartbeatAt: null, cancelRequestedAt: null, cancelRequestedBy: null, attempt: null, maxAttempts: null, retryAt: null, attemptErrors: null,
        retryOf: null, retriedAs: null, retriedBy: null, retriedAt: null, milestones: null,
      } satisfies TaskRecord);
      const running = legacy('RUNNING');
      const pending = legacy('PENDING');
      await old.create(running);
      await old.create(pending);
      await old.close();
      const restarted = track(new ModelTrackingTaskManager({ dataSource, instanceId: 'web-new' }));
      await restarted.start();
      for (const id of [running.id, pending.id]) {
        expect(await restarted.getTask(id)).toMatchObject({ status: 'FAILED', error: 'Abandoned — app restarted' });
      }
      expect(await restarted.getTask(held.id)).toMatchObject({ status: 'RUNNING', owner: 'web-live' });
    });

    it('sweeps finished work without ever changing a status', async () => {
      const dataSource = await dataSourceFor();
      const swept: string[] = [];
      const manager = track(new (class extends ModelTrackingTaskManager {
        protected override cleanupDashboardData(taskName: string): number {
          swept.push(taskName);
          return 2;
        }
      })({ dataSource }));
      manager.define('ok', { label: 'Ok', run: () => 'ok' });
      manager.define('bad', { label: 'Bad', run: () => { throw new Error('bad'); } });
      await manager.start();
      const ids = [(await manager.launch('ok')).id, (await manager.launch('bad')).id];
      for (const id of ids) await terminal(manager, id);
      const before = await manager.listTasks();
      // Everything already cleaned up at its own cleanup event: nothing newly marked.
      expect(await manager.cleanupCompletedTasks({ olderThanMs: 0 })).toEqual({ locksReleased: 0, recordsMarked: 0, recordsDeleted: 0, dashboardDataRemoved: 0 });
      expect((await manager.listTasks()).tasks.map((t) => [t.id, t.status])).toEqual(before.tasks.map((t) => [t.id, t.status]));
      expect(await manager.cleanupCompletedTasks({ olderThanMs: 60_000, deleteRecords: true })).toMatchObject({ recordsDeleted: 0 });
      const summary = await manager.cleanupCompletedTasks({ olderThanMs: 0, deleteRecords: true });
      expect(summary).toEqual({ locksReleased: 0, recordsMarked: 0, recordsDeleted: 2, dashboardDataRemoved: 4 });
      expect(swept.sort()).toEqual(['bad', 'ok']);
      expect((await manager.listTasks()).tasks).toEqual([]);
    });

    it('keeps a host transaction and the task writes apart', async () => {
      const dataSource = await dataSourceFor([ImportJob]);
      const manager = track(new ModelTrackingTaskManager({ dataSource }));
      manager.define('note', { label: 'Note', run: ({ progress }) => { progress(50); return 'written'; } });
      await manager.start();
      const host = dataSource.createQueryRunner();
      await host.connect();
      await host.startTransaction();
      const hostRepo = host.manager.getRepository(ImportJob);
      const hostRow = (n: number) => ({ uuid: `host-${n}`, kind: 'host', state: 'pending', created: new Date() });
      await hostRepo.insert(hostRow(1));
      const launches = Array.from({ length: 20 }, () => manager.launch('note'));
      for (let n = 2; n <= 5; n++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        await hostRepo.insert(hostRow(n));
      }
      await host.rollbackTransaction();
      await host.release();
      const ids = (await Promise.all(launches)).map((t) => t.id);
      for (const id of ids) expect(await terminal(manager, id)).toMatchObject({ status: 'DONE', result: 'written' });
      expect(await dataSource.getRepository(ImportJob).count()).toBe(0);
      expect(Number((await dataSource.query(`SELECT COUNT(*) AS n FROM ${tableName(dataSource, 'stablehand_task')}`))[0].n)).toBe(20);
    });

    it.runIf(engine.name === 'sqlite')('warns when the app holds a transaction open on the shared connection for long', async () => {
      const dataSource = await dataSourceFor();
      const logger = recordingLogger();
      const manager = track(new ModelTrackingTaskManager({ dataSource, logger }));
      manager.define('ok', { label: 'Ok', run: () => 'ok' });
      await manager.start();
      const host = dataSource.createQueryRunner();
      await host.startTransaction();
      const launch = manager.launch('ok');
      await waitFor(() => logger.lines.some((l) => l.includes('awaiting launch() inside that transaction would wait for ever')), 5_000, 'the warning');
      await host.commitTransaction();
      await host.release();
      const { id } = await launch;
      expect(await terminal(manager, id)).toMatchObject({ status: 'DONE' });
    });

    it('lands a terminal state written while the database was failing, once it is back', async () => {
      const dataSource = await dataSourceFor();
      const logger = recordingLogger();
      const manager = track(new ModelTrackingTaskManager({ dataSource, logger }));
      const gate = deferred<string>();
      manager.define('slow', { label: 'Slow', run: () => gate.promise });
      await manager.start();
      const { id } = await manager.launch('slow');
      await waitFor(async () => (await manager.getTask(id))?.status === 'RUNNING');
      const q = (name: string) => dataSource.driver.escape(name);
      await dataSource.query(`ALTER TABLE ${tableName(dataSource, 'stablehand_task')} RENAME TO ${q('stablehand_task_away')}`);
      gate.resolve('finished during the outage');
      await waitFor(() => logger.lines.some((l) => l.includes('writing task records failed')), 5_000, 'a logged write failure');
      const refused = await manager.launch('slow').catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(StoreUnavailableError);
      await dataSource.query(`ALTER TABLE ${tableName(dataSource, 'stablehand_task_away')} RENAME TO ${q('stablehand_task')}`);
      expect(await terminal(manager, id)).toMatchObject({ status: 'DONE', result: 'finished during the outage', cleanedUp: true });
      await waitFor(() => logger.lines.some((l) => l.includes('recovered after')), 5_000, 'the recovery line');
      expect((await manager.listTasks()).tasks.map((t) => t.id)).toEqual([id]);
    });

    it.runIf(engine.name === 'sqlite')('refuses a locking launch as a set-up mistake when the lock entity is not registered, and launches the rest', async () => {
      const dataSource = new DataSource({
        type: 'better-sqlite3', database: join(tempDir(), 'no-locks.db'), entities: [StablehandTaskRecord, StablehandTaskKey], synchronize: true,
      });
      await dataSource.initialize();
      open.push(dataSource);
      const manager = track(new ModelTrackingTaskManager({ dataSource }));
      manager.define('edit', { label: 'Bulk edit', run: () => 'edited' });
      await manager.start();
      const refused = await manager.launch('edit', null, { affected: ['order:1'], lock: true }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ConfigurationError);
      expect(refused).toMatchObject({ code: 'INVALID_OPTIONS', message: expect.stringContaining('StablehandTaskLock') });
      // Nothing was written for it, and launches without a lock work.
      expect((await manager.listTasks()).tasks).toEqual([]);
      const { id } = await manager.launch('edit', null, { affected: ['order:1'] });
      expect(await terminal(manager, id)).toMatchObject({ status: 'DONE', result: 'edited' });
    });
  });
}
