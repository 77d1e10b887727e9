import type { MigrationInterface, QueryRunner } from 'typeorm';
import { addTaskColumns, dropTaskColumns } from './column-migration.js';

const COLUMNS = ['owner', 'heartbeat_at', 'cancel_requested_at', 'cancel_requested_by'] as const;

/**
 * Adds what several processes on one database need to the bundled task table: the owner of each
 * task, its last heartbeat and a pending cancel request (with who asked). No index: every query
 * on them also filters by id or by status, which the existing indexes serve, and an index
 * holding the status would cost every status change a second index write. Columns come from the
 * entity's metadata; ones that already exist (tables created by
 * `CreateStablehandTables1732000000000` from this version on) are left alone.
 */
export class AddStablehandOwnership1764600000000 implements MigrationInterface {
  /** Migration name as TypeORM records it. */
  name = 'AddStablehandOwnership1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await addTaskColumns(queryRunner, COLUMNS);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropTaskColumns(queryRunner, COLUMNS);
  }
}
