// An ESM TypeScript host on TypeORM 1 + better-sqlite3 with its own decorated entities and fieldMaps:
// one keyed by the task id, one with an auto-increment key, an integer progress column and typed kinds.
import 'reflect-metadata';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Column, DataSource, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { ModelTrackingTaskManager, StablehandTaskLock, createTaskRouter } from 'stablehand';
// @ts-expect-error: a plain ES module shared by both hosts
import { checkRouter } from '../../check-router.mjs';

@Entity('export_job')
class ExportJob {
  @PrimaryColumn({ type: 'varchar', length: 36 }) key!: string;
  @Column({ type: 'varchar', length: 60 }) kind!: string;
  @Column({ type: 'varchar', length: 120 }) title!: string;
  @Column({ type: 'varchar', length: 20 }) phase!: string;
  @Column({ type: 'text', nullable: true }) note!: string | null;
  // Not JsonValue: TypeORM's FindOptionsWhere recurses without end into recursive property types.
  @Column({ type: 'simple-json', nullable: true }) output!: Record<string, unknown> | null;
  @Column({ type: 'datetime', precision: 3 }) opened!: Date;
  @Column({ type: 'datetime', precision: 3, nullable: true }) closed!: Date | null;
  @Column({ type: 'float', nullable: true }) seconds!: number | null;
}

@Entity('job_run')
class JobRun {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ name: 'task_id', type: 'varchar', length: 36, unique: true }) taskId!: string;
  @Column({ type: 'varchar', length: 20 }) status!: string;
  @Column({ type: 'int', nullable: true }) progress!: number | null;
}

interface RunKinds {
  'count-thirds': { upTo: number };
}

const dataSource = new DataSource({
  type: 'better-sqlite3',
  // In the host's own folder, which the consumer test removes afterwards.
  database: join(process.cwd(), 'host.db'),
  enableWAL: true,
  entities: [ExportJob, JobRun, StablehandTaskLock],
  synchronize: true,
});
await dataSource.initialize();

const manager = new ModelTrackingTaskManager({
  dataSource,
  entity: ExportJob,
  fieldMap: { id: 'key', taskName: 'kind', label: 'title', status: 'phase', message: 'note', result: 'output', createdAt: 'opened', completedAt: 'closed', duration: 'seconds' },
  statusValues: { PENDING: 'queued', RUNNING: 'working', DONE: 'shipped', FAILED: 'broken', CANCELLED: 'dropped' },
});
manager.define('consumer-check', { label: 'Consumer check', run: async ({ progress }) => { progress(50, 'halfway'); return { ok: true }; } });
await manager.start();

const runs = new ModelTrackingTaskManager<RunKinds>({ dataSource, entity: JobRun, fieldMap: { id: 'taskId' } });
runs.define('count-thirds', { run: ({ input, progress }) => { progress(100 / 3); return input.upTo; } });
await runs.start();

const app = express();
app.use('/tasks', createTaskRouter(manager, { kinds: ['consumer-check'] }));
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const { port } = server.address() as AddressInfo;

try {
  const { launched, detail } = await checkRouter(`http://127.0.0.1:${port}`, { expectLabelPrefix: 'Consumer check' });
  const row = await dataSource.getRepository(ExportJob).findOneByOrFail({ key: launched.id });
  if (row.phase !== 'shipped' || (row.output as { ok?: boolean }).ok !== true || !(row.closed instanceof Date)) {
    throw new Error(`host row not as expected: ${JSON.stringify(row)}`);
  }
  const counted = await runs.launch('count-thirds', { upTo: 3 });
  for (let tries = 0; (await runs.getTask(counted.id))?.status !== 'DONE'; tries++) {
    if (tries > 100) throw new Error('the integer-key task did not finish');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const run = await dataSource.getRepository(JobRun).findOneByOrFail({ taskId: counted.id });
  if (typeof run.id !== 'number' || run.progress !== 33) throw new Error(`integer-key row not as expected: ${JSON.stringify(run)}`);
  console.log(`esm-typeorm1: OK (task ${launched.id} ${detail.status ?? detail.task?.status}; integer-key task ${counted.id} row ${run.id})`);
} finally {
  server.close();
  await runs.stop();
  await manager.stop();
  await dataSource.destroy();
}
