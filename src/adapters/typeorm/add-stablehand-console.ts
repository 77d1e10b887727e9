import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { addTaskColumns, dropTaskColumns } from './column-migration.js';
import { StablehandTaskKey, StablehandTaskRecord } from './task-record-entity.js';

const COLUMNS = ['retry_of', 'retried_as', 'retried_by', 'retried_at', 'milestones'] as const;

/**
 * What the operator's console needs: the index table (`stablehand_task_key`, the affected objects
 * and search words each task is found by) the retry links and audit of the bundled task table, and its progress milestones.
 * Hosts with their own record entity run it too, for the index table; columns are added only to a
 * bundled table that lacks them.
 */
export class AddStablehandConsole1766000000000 implements MigrationInterface {
  /** Migration name as TypeORM records it. */
  name = 'AddStablehandConsole1766000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- TypeORM 0.3, in the peer range, has no queryRunner.dataSource
    const dataSource = queryRunner.connection;
    // A DataSource without the index entity does without search: there is no table to make then.
    if (dataSource.hasMetadata(StablehandTaskKey)) {
      await queryRunner.createTable(Table.create(dataSource.getMetadata(StablehandTaskKey), dataSource.driver), true, true, true);
    }
    if (dataSource.hasMetadata(StablehandTaskRecord) && await queryRunner.hasTable('stablehand_task')) await addTaskColumns(queryRunner, COLUMNS);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropTaskColumns(queryRunner, COLUMNS);
    await queryRunner.dropTable('stablehand_task_key', true);
  }
}
