import type { MigrationInterface, QueryRunner } from 'typeorm';
import { addTaskColumns, dropTaskColumns } from './column-migration.js';

const COLUMNS = ['attempt', 'max_attempts', 'retry_at', 'attempt_errors'] as const;

/**
 * Adds the attempts of kinds that retry to the bundled task table: the attempt number, how many
 * the kind allows, when the next is due, and each failed attempt's error. Like
 * {@link AddStablehandOwnership1764600000000}, it adds only the columns a table lacks.
 */
export class AddStablehandRetries1765000000000 implements MigrationInterface {
  /** Migration name as TypeORM records it. */
  name = 'AddStablehandRetries1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await addTaskColumns(queryRunner, COLUMNS);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropTaskColumns(queryRunner, COLUMNS);
  }
}
