// An ESM TypeScript host on TypeORM 1 + better-sqlite3 with its own decorated entity and a fieldMap.
import 'reflect-metadata';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Column, DataSource, Entity, PrimaryColumn } from 'typeorm';
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

const dataSource = new DataSource({
  type: 'better-sqlite3',
  // In the host's own folder, which the consumer test removes afterwards.
  database: join(process.cwd(), 'host.db'),
  enableWAL: true,
  entities: [ExportJob, StablehandTaskLock],
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
  console.log(`esm-typeorm1: OK (task ${launched.id} ${detail.status ?? detail.task?.status})`);
} finally {
  server.close();
  await manager.stop();
  await dataSource.destroy();
}
