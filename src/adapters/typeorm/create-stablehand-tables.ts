import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { StablehandTaskKey, StablehandTaskLock, StablehandTaskRecord } from './task-record-entity.js';

/**
 * Creates the bundled tables (`stablehand_task`, `stablehand_task_lock`, `stablehand_task_key`) and
 * their indexes on any database TypeORM supports, from the entities' own metadata, so the tables
 * always match them (the later migrations then find nothing to add).
 * Add it to the DataSource's `migrations` together with `stablehandEntities` in `entities`.
 */
export class CreateStablehandTables1732000000000 implements MigrationInterface {
  /** Migration name as TypeORM records it. */
  name = 'CreateStablehandTables1732000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- TypeORM 0.3, in the peer range, has no queryRunner.dataSource
    const dataSource = queryRunner.connection;
    for (const entity of [StablehandTaskRecord, StablehandTaskLock, StablehandTaskKey]) {
      // A DataSource may leave an entity out (the index table, say); its table is not made then.
      if (!dataSource.hasMetadata(entity)) continue;
      const metadata = dataSource.getMetadata(entity);
      await queryRunner.createTable(Table.create(metadata, dataSource.driver), true, true, true);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('stablehand_task_key', true);
    await queryRunner.dropTable('stablehand_task_lock', true);
    await queryRunner.dropTable('stablehand_task', true);
  }
}
