import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { StablehandTaskRecord } from './task-record-entity.js';

const COLUMNS = [
  'owner', 'heartbeat_at', 'cancel_requested_at', 'cancel_requested_by', 'attempt', 'max_attempts', 'retry_at', 'attempt_errors',
] as const;

/**
 * Adds what several processes on one database need to the bundled task table: the owner of each
 * task, its last heartbeat, a pending cancel request (with who asked), and the attempts of a
 * kind that retries (the attempt number, the allowed count, when the next is due, each failed
 * attempt's error). No index: every query
 * on them also filters by id or by status, which the existing indexes serve, and an index
 * holding the status would cost every status change a second index write. Columns come from the
 * entity's metadata; ones that already exist (tables created by
 * `CreateStablehandTables1732000000000` from this version on) are left alone.
 */
export class AddStablehandOwnership1764600000000 implements MigrationInterface {
  /** Migration name as TypeORM records it. */
  name = 'AddStablehandOwnership1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- TypeORM 0.3, in the peer range, has no queryRunner.dataSource
    const dataSource = queryRunner.connection;
    const metadata = dataSource.getMetadata(StablehandTaskRecord);
    const wanted = Table.create(metadata, dataSource.driver);
    const table = await queryRunner.getTable(metadata.tablePath);
    if (!table) throw new Error(`${metadata.tablePath} does not exist: run CreateStablehandTables1732000000000 first.`);
    for (const name of COLUMNS) {
      const column = wanted.findColumnByName(name);
      if (column && !table.findColumnByName(name)) await queryRunner.addColumn(table, column);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- as above
    const metadata = queryRunner.connection.getMetadata(StablehandTaskRecord);
    const table = await queryRunner.getTable(metadata.tablePath);
    if (!table) return;
    for (const name of COLUMNS) if (table.findColumnByName(name)) await queryRunner.dropColumn(table, name);
  }
}
