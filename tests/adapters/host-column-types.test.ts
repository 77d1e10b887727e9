import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import type { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelTrackingTaskManager } from '../../src/index.js';
import { engines } from '../helpers/data-sources.js';
import { recordingLogger, waitFor } from '../helpers/wait.js';

/** A host's table as TypeORM apps often write it: an integer progress column, locks in use. */
@Entity('host_job')
class HostJob {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 20 })
  status!: string;

  @Column({ type: 'int', nullable: true })
  progress!: number | null;

  @Column({ type: 'text', nullable: true })
  message!: string | null;
}

/** The same with a native `uuid` key, as PostgreSQL apps write it. */
@Entity('host_uuid_job')
class HostUuidJob {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'varchar', length: 20 })
  status!: string;

  @Column({ type: 'int', nullable: true })
  progress!: number | null;
}

/** The most common TypeORM table: an auto-increment key, the task id in a unique column of its own. */
@Entity('job_run')
class JobRun {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ name: 'task_id', type: 'varchar', length: 36, unique: true })
  taskId!: string;

  @Column({ name: 'task_name', type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'varchar', length: 20 })
  status!: string;

  @Column({ type: 'int', nullable: true })
  progress!: number | null;

  @Column({ type: 'text', nullable: true })
  message!: string | null;

  @Column({ type: 'simple-json', nullable: true })
  result!: unknown;
}

/** An integer key stablehand cannot fill, with no unique column for the task id. */
@Entity('bad_job_run')
class BadJobRun {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ name: 'task_id', type: 'varchar', length: 36 })
  taskId!: string;

  @Column({ type: 'varchar', length: 20 })
  status!: string;
}

for (const engine of engines) {
  describe.skipIf(engine.skipReason)(`a host table with an integer key on ${engine.name}`, () => {
    it('keeps its generated key and finds every task by the task id in its unique column', async () => {
      const dataSource = await engine.open([JobRun, BadJobRun], { synchronize: true });
      const logger = recordingLogger();
      const manager = new ModelTrackingTaskManager({ dataSource, entity: JobRun, fieldMap: { id: 'taskId', taskName: 'name' }, logger, progressIntervalMs: 0 });
      try {
        let release: () => void = () => undefined;
        manager.define('export', { label: 'Export', run: ({ progress }) => { progress(40, 'half'); return { rows: 3 }; } });
        manager.define('wait', { run: ({ signal }) => new Promise((_resolve, reject) => {
          release = () => { reject(new Error('released')); };
          signal.addEventListener('abort', () => { reject(signal.reason as Error); }, { once: true });
        }) });
        await manager.start();
        const first = await manager.launch('export', undefined, { affected: ['order:1'], lock: true });
        const second = await manager.launch('export');
        for (const { id } of [first, second]) {
          await waitFor(async () => (await manager.getTask(id))?.status === 'DONE', 5_000, `task ${id}`);
        }
        expect(await manager.getTask(first.id)).toMatchObject({ id: first.id, taskName: 'export', progress: 40, result: { rows: 3 } });
        expect((await manager.listTasks()).tasks.map((task) => task.id)).toEqual([second.id, first.id]);
        const waiting = await manager.launch('wait');
        await waitFor(async () => (await manager.getTask(waiting.id))?.status === 'RUNNING', 5_000, 'the waiting task to start');
        expect(await manager.cancel(waiting.id)).toMatchObject({ status: 'CANCELLING' });
        await waitFor(async () => (await manager.getTask(waiting.id))?.status === 'CANCELLED', 5_000, 'the cancel');
        release();
        // The host's own key was filled by the database, one per task.
        const rows = await dataSource.getRepository(JobRun).find({ order: { id: 'ASC' } });
        expect(rows.map((row) => row.taskId)).toEqual([first.id, second.id, waiting.id]);
        expect(rows.map((row) => typeof row.id)).toEqual(['number', 'number', 'number']);
        expect(logger.errors).toEqual([]);
        const bad = new ModelTrackingTaskManager({ dataSource, entity: BadJobRun, fieldMap: { id: 'taskId' }, logger: recordingLogger() });
        await expect(bad.start()).rejects.toThrow(/must be its only primary column, or a unique column when the primary key is one the database generates/);
      } finally {
        await manager.stop({ graceMs: 100 });
        await dataSource.destroy();
      }
    });
  });


  describe.skipIf(engine.skipReason)(`a host's column types on ${engine.name}`, () => {
    const opened: { dataSource: DataSource; manager: ModelTrackingTaskManager }[] = [];
    afterEach(async () => {
      for (const { dataSource, manager } of opened.splice(0)) {
        await manager.stop({ graceMs: 100 });
        await dataSource.destroy();
      }
    });

    const entities = engine.name === 'postgres' ? [HostJob, HostUuidJob] : [HostJob];
    for (const entity of entities) {
      it(`rounds a percentage for an integer progress column, and keeps its locks working (${entity.name})`, async () => {
        const dataSource = await engine.open([HostJob, HostUuidJob].filter((e) => entities.includes(e)), { synchronize: true });
        const logger = recordingLogger();
        const manager = new ModelTrackingTaskManager({ dataSource, entity, logger, progressIntervalMs: 0 });
        opened.push({ dataSource, manager });
        manager.define('thirds', {
          run: ({ progress }) => {
            progress(100 / 3, 'a third');
            progress(200 / 3);
            return null;
          },
        });
        // Starting sweeps the lock table against the host's ids (a uuid column needs a cast there).
        await manager.start();
        const { id } = await manager.launch('thirds', undefined, { affected: ['order:1'], lock: true });
        const record = await waitFor(async () => {
          const found = await manager.getTask(id);
          return found?.status === 'DONE' ? found : null;
        }, 5_000, 'the task to finish');
        expect(record.progress).toBe(67);
        expect(record.message).toBe(entity === HostJob ? 'a third' : null);
        // The index table joins the host's ids (a uuid column is cast on the index's side).
        expect((await manager.listTasks({ affected: 'order:1' })).tasks.map((task) => task.id)).toEqual([id]);
        expect((await manager.countTasks({ affected: 'order:1' })).DONE).toBe(1);
        expect((await manager.listTasks({ search: id.slice(0, 13) })).tasks.map((task) => task.id)).toEqual([id]);
        expect((await manager.listTasks({ search: 'thirds order:1' })).tasks.map((task) => task.id)).toEqual([id]);
        // The lock is free again: another launch locking the same object is taken.
        await manager.cleanupCompletedTasks();
        await expect(manager.launch('thirds', undefined, { affected: ['order:1'], lock: true })).resolves.toMatchObject({ status: 'PENDING' });
        // A deleting sweep takes the finished record's index rows with it.
        await waitFor(async () => (await manager.countTasks({ affected: 'order:1' })).DONE === 2, 5_000, 'the second task to finish');
        await manager.cleanupCompletedTasks({ deleteRecords: true });
        expect((await manager.listTasks({ affected: 'order:1' })).tasks).toEqual([]);
        // The table keeps no input: a retry could not run with the same input, so there is none.
        manager.define('broken', { run: () => { throw new Error('no'); } });
        const broken = await manager.launch('broken', { file: 'a.csv' });
        await waitFor(async () => (await manager.getTask(broken.id))?.status === 'FAILED', 5_000, 'the task to fail');
        await expect(manager.retry(broken.id)).rejects.toThrow(/keeps no input/);
        expect(logger.errors).toEqual([]);
      });
    }
  });
}
