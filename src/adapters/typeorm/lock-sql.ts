import type { DataSource } from 'typeorm';
import type { MappedColumn } from './record-mapping.js';
import type { RecordSql } from './record-sql.js';
import type { SqlStatement } from './sql-executor.js';
import { StablehandTaskLock } from './task-record-entity.js';

/** The lock table's quoted names. */
export interface LockTable {
  table: string;
  objectKey: string;
  taskId: string;
  lockedAt: string;
  lockedAtColumn: MappedColumn;
}

/**
 * The statements of the lock table (`launch(..., { lock: true })`), beside {@link RecordSql}'s: a
 * lock is a row per affected object, held while its task is PENDING or RUNNING.
 */
export class LockSql {
  constructor(private readonly records: RecordSql, readonly locks: LockTable) {}

  /** The lock table of `dataSource`'s entities; null when it does not register `StablehandTaskLock`. */
  static of(dataSource: DataSource, records: RecordSql): LockSql | null {
    if (!dataSource.hasMetadata(StablehandTaskLock)) return null;
    const metadata = dataSource.getMetadata(StablehandTaskLock);
    // The columns of our own lock entity are always there.
    // eslint-disable-next-line @typescript-eslint/non-nullable-type-assertion-style -- `!` is forbidden by no-non-null-assertion
    const column = (property: string) => metadata.findColumnWithPropertyPath(property) as MappedColumn['metadata'];
    const escape = (name: string) => dataSource.driver.escape(name);
    const lockedAt = column('lockedAt');
    return new LockSql(records, {
      table: metadata.tablePath.split('.').map(escape).join('.'),
      objectKey: escape(column('objectKey').databaseName),
      taskId: escape(column('taskId').databaseName),
      lockedAt: escape(lockedAt.databaseName),
      lockedAtColumn: { key: 'createdAt', metadata: lockedAt, sql: escape(lockedAt.databaseName), kind: 'date', maxChars: undefined, integer: false },
    });
  }

  /** Removes locks on `keys` whose holder is no longer PENDING or RUNNING (or gone). */
  deleteStale(keys: readonly string[]): SqlStatement {
    const { table, objectKey, taskId } = this.locks;
    const r = this.records;
    let index = 0;
    const list = keys.map(() => r.placeholder(++index)).join(', ');
    const active = r.activeIds(index + 1);
    return {
      sql: `DELETE FROM ${table} WHERE ${objectKey} IN (${list}) AND ${taskId} NOT IN (${active.sql})`,
      params: [...keys, ...active.params],
    };
  }

  /** Inserts one lock row per key, skipping keys that are already locked. */
  insert(taskId: string, keys: readonly string[], at: Date): SqlStatement {
    const l = this.locks;
    const r = this.records;
    const lockedAt: unknown = r.driver.preparePersistentValue(at, l.lockedAtColumn.metadata);
    return {
      sql: r.insertIgnore(l.table, `${l.objectKey}, ${l.taskId}, ${l.lockedAt}`, r.valueRows(keys.length, 3)),
      params: keys.flatMap((key) => [key, taskId, lockedAt]),
    };
  }

  /** Who holds locks on `keys`. */
  holders(keys: readonly string[]): SqlStatement {
    const { table, objectKey, taskId } = this.locks;
    const r = this.records;
    let index = 0;
    return {
      sql: `SELECT ${objectKey} AS ${r.driver.escape('objectKey')}, ${taskId} AS ${r.driver.escape('taskId')} ` +
        `FROM ${table} WHERE ${objectKey} IN (${keys.map(() => r.placeholder(++index)).join(', ')})`,
      params: [...keys],
      read: true,
    };
  }

  /** Releases one task's locks. */
  release(taskId: string): SqlStatement {
    const l = this.locks;
    return { sql: this.records.text('unlock', () => `DELETE FROM ${l.table} WHERE ${l.taskId} = ${this.records.placeholder(1)}`), params: [taskId] };
  }

  /** Releases the locks of every task that is not PENDING or RUNNING, or has no record. */
  releaseFinished(): SqlStatement {
    const { table, taskId } = this.locks;
    const active = this.records.activeIds(1);
    return { sql: `DELETE FROM ${table} WHERE ${taskId} NOT IN (${active.sql})`, params: active.params };
  }
}
