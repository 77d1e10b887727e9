import { Column, Entity, PrimaryColumn } from 'typeorm';
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

for (const engine of engines) {
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
        // The lock is free again: another launch locking the same object is taken.
        await manager.cleanupCompletedTasks();
        await expect(manager.launch('thirds', undefined, { affected: ['order:1'], lock: true })).resolves.toMatchObject({ status: 'PENDING' });
        expect(logger.errors).toEqual([]);
      });
    }
  });
}
