import type { DataSource, QueryRunner, Table } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AddStablehandConsole1766000000000, AddStablehandOwnership1764600000000, AddStablehandRetries1765000000000, ConfigurationError, ModelTrackingTaskManager, StablehandTaskRecord, TypeOrmRecordStore, type TaskManager,
  type TaskRecord, type TaskStatus,
} from '../../src/index.js';
import { newTaskId } from '../../src/manager/task-id.js';
import { engines, tableName } from '../helpers/data-sources.js';
import { recordingLogger, waitFor } from '../helpers/wait.js';

// Every column added since 0.1: by AddStablehandOwnership1764600000000, then AddStablehandRetries1765000000000.
const OWNERSHIP_COLUMNS = [
  'owner', 'heartbeat_at', 'cancel_requested_at', 'cancel_requested_by', 'attempt', 'max_attempts', 'retry_at', 'attempt_errors',
];

for (const engine of engines) {
  describe.skipIf(engine.skipReason)(`stablehand migrations on ${engine.name}`, () => {
    const open: DataSource[] = [];
    const runners: QueryRunner[] = [];
    const managers: TaskManager[] = [];
    afterEach(async () => {
      for (const manager of managers.splice(0)) await manager.stop({ graceMs: 50 });
      for (const runner of runners.splice(0)) if (!runner.isReleased) await runner.release();
      for (const dataSource of open.splice(0)) if (dataSource.isInitialized) await dataSource.destroy();
    });

    /** A DataSource with both migrations run, and a query runner on it. */
    async function migrated(): Promise<{ dataSource: DataSource; queryRunner: QueryRunner }> {
      const dataSource = await engine.open();
      open.push(dataSource);
      const queryRunner = dataSource.createQueryRunner();
      runners.push(queryRunner);
      return { dataSource, queryRunner };
    }

    async function taskTable(dataSource: DataSource, queryRunner: QueryRunner): Promise<Table> {
      const table = await queryRunner.getTable(dataSource.getMetadata(StablehandTaskRecord).tablePath);
      if (!table) throw new Error('stablehand_task is missing');
      return table;
    }

    /**
     * The table's columns and indexes (with their columns), sorted: what the migrations change.
     * An index's columns are sorted too: TypeORM's PostgreSQL getTable() lists them in table order,
     * not in index order.
     */
    async function shape(dataSource: DataSource, queryRunner: QueryRunner): Promise<{ columns: string[]; indices: string[] }> {
      const table = await taskTable(dataSource, queryRunner);
      return {
        columns: table.columns.map((column) => column.name).sort(),
        indices: table.indices.map((index) => `${index.name ?? '?'}(${[...index.columnNames].sort().join(',')})`).sort(),
      };
    }

    /** Downgrades the table to what a 0.1 install created: no ownership columns. */
    async function downgrade(dataSource: DataSource, queryRunner: QueryRunner): Promise<void> {
      await new AddStablehandRetries1765000000000().down(queryRunner);
      await new AddStablehandOwnership1764600000000().down(queryRunner);
      const table = await taskTable(dataSource, queryRunner);
      for (const name of OWNERSHIP_COLUMNS) expect(table.findColumnByName(name), name).toBeUndefined();
    }

    /** Writes a record as stablehand 0.1 did, into the columns it knew. */
    async function insertOldRecord(dataSource: DataSource, queryRunner: QueryRunner, status: TaskStatus, at: Date): Promise<string> {
      const id = newTaskId(at.getTime());
      const metadata = dataSource.getMetadata(StablehandTaskRecord);
      const values: Record<string, unknown> = {
        id, taskName: 'export', label: 'Export orders', status, cleanedUp: status !== 'PENDING' && status !== 'RUNNING', createdAt: at, updatedAt: at,
        ...(status === 'PENDING' ? {} : { startedAt: at }),
      };
      const columns = Object.keys(values).map((key) => {
        const column = metadata.findColumnWithPropertyName(key);
        if (!column) throw new Error(`no column for ${key}`);
        return column;
      });
      const placeholders = columns.map((_, i) => (dataSource.options.type === 'postgres' ? `$${i + 1}` : '?'));
      await queryRunner.query(
        `INSERT INTO ${tableName(dataSource, 'stablehand_task')} (${columns.map((column) => dataSource.driver.escape(column.databaseName)).join(', ')}) ` +
        `VALUES (${placeholders.join(', ')})`,
        columns.map((column) => dataSource.driver.preparePersistentValue(values[column.propertyName], column)),
      );
      return id;
    }

    const terminal = (manager: TaskManager, id: string) => waitFor(async () => {
      const record = await manager.getTask(id);
      return record && ['DONE', 'FAILED', 'CANCELLED'].includes(record.status) ? record : null;
    }, 10_000, `task ${id} to finish`);

    it('leaves a table that already has the ownership columns as it is', async () => {
      const { dataSource, queryRunner } = await migrated();
      const before = await shape(dataSource, queryRunner);
      expect(before.columns).toEqual(expect.arrayContaining(OWNERSHIP_COLUMNS));
      for (let run = 0; run < 2; run++) {
        await new AddStablehandOwnership1764600000000().up(queryRunner);
        await new AddStablehandRetries1765000000000().up(queryRunner);
      }
      expect(await shape(dataSource, queryRunner)).toEqual(before);
    });

    it('upgrades a 0.1 table: adds the ownership columns, keeps its records, and a manager runs on it', async () => {
      const { dataSource, queryRunner } = await migrated();
      const current = await shape(dataSource, queryRunner);
      await downgrade(dataSource, queryRunner);
      // The rest of the table survives the downgrade (SQLite rebuilds the table to drop a column).
      const old = await shape(dataSource, queryRunner);
      expect(old.columns).toEqual(current.columns.filter((name) => !OWNERSHIP_COLUMNS.includes(name)));
      expect(old.indices).toEqual(current.indices);
      const finishedAt = new Date('2026-11-20T08:30:12.345Z');
      const oldId = await insertOldRecord(dataSource, queryRunner, 'DONE', finishedAt);

      await new AddStablehandOwnership1764600000000().up(queryRunner);
      // A table with the ownership columns only (an install between the two migrations).
      expect((await shape(dataSource, queryRunner)).columns).toEqual(current.columns.filter((name) => !OWNERSHIP_COLUMNS.slice(4).includes(name)));
      await new AddStablehandRetries1765000000000().up(queryRunner);
      expect(await shape(dataSource, queryRunner)).toEqual(current);
      // Running them again finds nothing to add.
      await new AddStablehandOwnership1764600000000().up(queryRunner);
      await new AddStablehandRetries1765000000000().up(queryRunner);
      expect(await shape(dataSource, queryRunner)).toEqual(current);
      await queryRunner.release();

      const store = new TypeOrmRecordStore({ dataSource, logger: recordingLogger() });
      await store.open();
      try {
        expect(store.tracksOwners).toBe(true);
        expect(await store.get(oldId)).toMatchObject({
          id: oldId, status: 'DONE', createdAt: finishedAt, startedAt: finishedAt, owner: null, heartbeatAt: null, cancelRequestedAt: null,
          cancelRequestedBy: null, attempt: null, maxAttempts: null, retryAt: null, attemptErrors: null,
        } satisfies Partial<TaskRecord>);
      } finally {
        await store.close();
      }

      const manager = new ModelTrackingTaskManager({ dataSource, instanceId: 'upgraded-1', logger: recordingLogger() });
      managers.push(manager);
      manager.define('report', { label: 'Report', run: ({ progress }) => { progress(50, 'half'); return { pages: 2 }; } });
      await manager.start();
      const { id } = await manager.launch('report', { month: '2026-11' });
      expect(await terminal(manager, id)).toMatchObject({ status: 'DONE', owner: 'upgraded-1', result: { pages: 2 }, progress: 50 });
      const page = await manager.listTasks({ status: 'DONE' });
      expect(page.tasks.map((task) => task.id)).toEqual([id, oldId]);
    });

    it('upgrades the previous version\'s tables for the console, and refuses to start before', async () => {
      const { dataSource, queryRunner } = await migrated();
      const current = await shape(dataSource, queryRunner);
      const consoleColumns = ['retry_of', 'retried_as', 'retried_by', 'retried_at', 'milestones'];
      await new AddStablehandConsole1766000000000().down(queryRunner);
      expect(await queryRunner.hasTable(tableName(dataSource, 'stablehand_task_key').replace(/[`"]/g, ''))).toBe(false);
      expect((await shape(dataSource, queryRunner)).columns).toEqual(current.columns.filter((name) => !consoleColumns.includes(name)));
      const before = await insertOldRecord(dataSource, queryRunner, 'FAILED', new Date('2026-11-20T08:30:12.345Z'));

      const early = new ModelTrackingTaskManager({ dataSource, instanceId: 'early', logger: recordingLogger() });
      const refused = await early.start().then(() => null, (error: unknown) => error);
      expect(refused).toBeInstanceOf(ConfigurationError);
      expect((refused as Error).message).toMatch(/AddStablehandConsole1766000000000/);

      for (let run = 0; run < 2; run++) await new AddStablehandConsole1766000000000().up(queryRunner);
      expect(await shape(dataSource, queryRunner)).toEqual(current);
      await queryRunner.release();
      const manager = new ModelTrackingTaskManager({ dataSource, instanceId: 'upgraded-2', logger: recordingLogger() });
      managers.push(manager);
      manager.define('export', { label: 'Export orders', run: () => 'ok' });
      await manager.start();
      const { id } = await manager.launch('export', undefined, { affected: 'order:42' });
      await terminal(manager, id);
      expect((await manager.listTasks({ affected: 'order:42' })).tasks.map((task) => task.id)).toEqual([id]);
      // A record of the version before retries cleanly.
      const again = await manager.retry(before);
      expect(await manager.getTask(before)).toMatchObject({ retriedAs: again.id });
    });

    it('fails at start the records a 0.1 run left unfinished, as 0.1 did', async () => {
      const { dataSource, queryRunner } = await migrated();
      await downgrade(dataSource, queryRunner);
      const leftAt = new Date('2026-11-20T08:30:12.345Z');
      const leftRunning = await insertOldRecord(dataSource, queryRunner, 'RUNNING', leftAt);
      const leftPending = await insertOldRecord(dataSource, queryRunner, 'PENDING', leftAt);
      await new AddStablehandOwnership1764600000000().up(queryRunner);
      await new AddStablehandRetries1765000000000().up(queryRunner);
      await queryRunner.release();

      // 0.1 failed every unfinished record at start; after the upgrade they have no owner, and the
      // manager (on its in-process runner) must still fail them rather than leave them for good.
      const manager = new ModelTrackingTaskManager({ dataSource, instanceId: 'upgraded-1', logger: recordingLogger() });
      managers.push(manager);
      await manager.start();
      for (const id of [leftRunning, leftPending]) {
        expect(await manager.getTask(id)).toMatchObject({ status: 'FAILED', error: expect.stringContaining('Abandoned'), owner: null });
      }
    });
  });
}
