import { Table, type QueryRunner } from 'typeorm';
import { StablehandTaskRecord } from './task-record-entity.js';

/**
 * Adds the named columns of the bundled task table, as its entity defines them, to a table
 * missing them; columns it already has (a table created by a later version's first migration)
 * are left alone.
 */
export async function addTaskColumns(queryRunner: QueryRunner, names: readonly string[]): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- TypeORM 0.3, in the peer range, has no queryRunner.dataSource
  const dataSource = queryRunner.connection;
  const metadata = dataSource.getMetadata(StablehandTaskRecord);
  const wanted = Table.create(metadata, dataSource.driver);
  const table = await queryRunner.getTable(metadata.tablePath);
  if (!table) throw new Error(`${metadata.tablePath} does not exist: run CreateStablehandTables1732000000000 first.`);
  for (const name of names) {
    const column = wanted.findColumnByName(name);
    if (column && !table.findColumnByName(name)) await queryRunner.addColumn(table, column);
  }
}

/** Drops the named columns from the bundled task table, where it has them. */
export async function dropTaskColumns(queryRunner: QueryRunner, names: readonly string[]): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- as above
  const metadata = queryRunner.connection.getMetadata(StablehandTaskRecord);
  const table = await queryRunner.getTable(metadata.tablePath);
  if (!table) return;
  for (const name of names) if (table.findColumnByName(name)) await queryRunner.dropColumn(table, name);
}
