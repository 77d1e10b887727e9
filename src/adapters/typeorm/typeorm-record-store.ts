import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import { resolveRecordMapping } from './record-mapping.js';
import { ConfigurationError, StoreUnavailableError, TaskConflictError } from '../../core/errors.js';
import type { CountQuery, ListQuery, TaskPage } from '../../core/list-query.js';
import type { MetricsQuery, MetricsRows } from '../../core/metrics.js';
import type { JsonValue } from '../../core/types.js';
import { ConsoleSql, type KeyTable } from './console-sql.js';
import { ConsoleReads } from './console-reads.js';
import { stringOf } from '../../core/json.js';
import { errorMessage, type Logger } from '../../core/logger.js';
import { checkOptionKeys, type KeySet } from '../../core/options.js';
import type { RecordKey, RecordPatch, TaskRecord, FieldMap, StatusValues } from '../../core/record.js';
import { FleetTally, type FleetSnapshot } from '../../core/fleet.js';
import { isTerminalStatus, type TaskStatus } from '../../core/status.js';
import type { HeartbeatReport, RecordStore, StoreCleanupResult } from '../../ports/record-store.js';
import { INSERT_CHUNK_SIZES, RecordSql } from './record-sql.js';
import { LockSql } from './lock-sql.js';
import { OwnershipSql } from './ownership-sql.js';
import { ReadBatcher } from './read-batcher.js';
import {
  BetterSqliteExecutor, DedicatedSqliteExecutor, QueryRunnerExecutor, type SqlExecutor, type SqlPlan, type SqlRows,
  type Sqlite3Module,
} from './sql-executor.js';
import { StablehandTaskKey, StablehandTaskRecord } from './task-record-entity.js';
import { WriteBuffer } from './write-buffer.js';
import { driverKindOf } from './driver-kind.js';

/** Options of {@link TypeOrmRecordStore}. */
export interface TypeOrmRecordStoreOptions {
  /** The host's DataSource; it must be initialized before the store opens. */
  dataSource: DataSource;
  /**
   * The record model: a decorated class or an EntitySchema registered in the DataSource.
   * @defaultValue `StablehandTaskRecord`
   */
  entity?: EntityTarget<ObjectLiteral>;
  /**
   * Logical record keys to the entity's property names.
   * @defaultValue each key to the property of the same name, when the entity has one
   */
  fieldMap?: FieldMap;
  /**
   * The host's words for the statuses.
   * @defaultValue the status names themselves
   */
  statusValues?: StatusValues;
  /**
   * Receives write failures the store retries.
   * @defaultValue `console`
   */
  logger?: Logger;
  /**
   * How long `close()` waits for queued writes before giving up on them, in milliseconds.
   * @defaultValue 10000
   */
  closeTimeoutMs?: number;
}

const OPTION_KEYS: KeySet<TypeOrmRecordStoreOptions> = {
  dataSource: true, entity: true, fieldMap: true, statusValues: true, logger: true, closeTimeoutMs: true,
};

/**
 * Stores records in the host's database through its TypeORM DataSource (better-sqlite3,
 * PostgreSQL, MySQL/MariaDB), in the host's own entity and column names. Writes are group
 * committed in their own transactions, which never mix with the host's.
 */
export class TypeOrmRecordStore implements RecordStore {
  private readonly options: TypeOrmRecordStoreOptions;
  private sqlInstance: RecordSql | null = null;
  private consoleInstance: ConsoleSql | null = null;
  private ownershipInstance: OwnershipSql | null = null;
  // Null when the DataSource does not register the lock entity.
  private locks: LockSql | null = null;
  private readsInstance: ConsoleReads | null = null;
  private executorInstance: SqlExecutor | null = null;
  private buffer: WriteBuffer | null = null;
  private reads: ReadBatcher | null = null;
  // Claims by owner (one per manager in practice), batched like reads; `at` is the first claim's of a batch.
  private readonly claims = new Map<string, { batcher: ReadBatcher; at: Date | null }>();

  /** Keeps the options; the entity and fieldMap are checked when the store opens. */
  constructor(options: TypeOrmRecordStoreOptions) {
    // Typed, but a JavaScript caller may pass anything.
    const given = options as Partial<TypeOrmRecordStoreOptions> | null | undefined;
    if (!given || typeof given !== 'object' || !given.dataSource || typeof given.dataSource.getMetadata !== 'function') {
      throw new ConfigurationError('TypeOrmRecordStore needs a TypeORM DataSource as its dataSource option.');
    }
    checkOptionKeys(options, OPTION_KEYS, 'TypeOrmRecordStore');
    this.options = options;
  }

  async open(): Promise<void> {
    const { dataSource } = this.options;
    if (!dataSource.isInitialized) {
      throw new ConfigurationError('The DataSource is not initialized: await dataSource.initialize() before starting the task manager.');
    }
    const mapping = resolveRecordMapping(dataSource, this.options.entity ?? StablehandTaskRecord, this.options.fieldMap, this.options.statusValues);
    this.sqlInstance = new RecordSql(dataSource, mapping);
    this.consoleInstance = new ConsoleSql(this.sqlInstance, keyTable(dataSource));
    this.ownershipInstance = new OwnershipSql(this.sqlInstance);
    this.locks = LockSql.of(dataSource, this.sqlInstance);
    this.executorInstance = await createExecutor(dataSource, this.options.logger ?? console);
    this.buffer = new WriteBuffer(
      this.executorInstance, this.sqlInstance, this.consoleInstance, this.ownershipInstance, this.locks, this.options.logger ?? console,
    );
    this.readsInstance = new ConsoleReads(this.executorInstance, this.sqlInstance, this.consoleInstance);
    await this.checkSchema();
    const sql = this.sqlInstance;
    const executor = this.executorInstance;
    this.reads = new ReadBatcher(async (ids) => {
      const { sql: text, params } = sql.selectByIds(ids);
      return sql.decodeAll(await executor.read(text, params));
    }, INSERT_CHUNK_SIZES[0]);
  }

  /**
   * Reads no row, naming every column and table the store will use, so that a database a
   * version's migration has not reached yet fails at `start()` with what to do, not at the first
   * write or page read.
   */
  private async checkSchema(): Promise<void> {
    const probes = [this.sql.schemaProbe(), this.console.schemaProbe()];
    for (const probe of probes) {
      if (!probe) continue;
      try {
        await this.executor.read(probe.sql, probe.params);
      } catch (error) {
        throw new ConfigurationError(
          `The task tables cannot be read as this version of stablehand expects (${errorMessage(error)}). ` +
          'Run stablehandMigrations, which add what each version needs (this one: AddStablehandConsole1766000000000), or check the fieldMap.',
        );
      }
    }
  }

  async close(): Promise<void> {
    if (!this.buffer) return;
    const timeoutMs = this.options.closeTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), timeoutMs); });
    const gaveUp = await Promise.race([this.buffer.flush().then(() => false), timedOut]);
    clearTimeout(timer);
    if (gaveUp) (this.options.logger ?? console).error(`[stablehand] queued record writes were not saved within ${timeoutMs} ms of close()`);
    await this.executorInstance?.close?.();
  }

  create(record: TaskRecord, lockKeys: readonly string[] = [], indexKeys: readonly string[] = []): Promise<void> {
    const keys = this.indexesKeys && indexKeys.length > 0 ? indexKeys : null;
    // Not async: the common case hands back the buffer's own promise, one promise per launch fewer.
    return lockKeys.length === 0 ? this.writes.insert(record, keys) : this.createLocked(record, lockKeys, keys);
  }

  private async createLocked(record: TaskRecord, lockKeys: readonly string[], indexKeys: readonly string[] | null): Promise<void> {
    const locks = this.locks;
    // A mistake in the set-up, not an outage: said as such, not as a write that failed.
    if (!locks) throw new ConfigurationError('Locks need the StablehandTaskLock entity: add it (or stablehandEntities) to the DataSource\'s entities.');
    // Terminal states still queued here must land first, or their locks would look held.
    await this.writes.flush();
    try {
      await this.executor.transaction(() => this.lockAndInsert(locks, record, lockKeys, indexKeys));
    } catch (error) {
      if (error instanceof TaskConflictError) throw error;
      throw new StoreUnavailableError(`The task record could not be written: ${errorMessage(error)}`, error);
    }
  }

  maxLength(key: RecordKey): number | undefined {
    return this.sql.mapping.capacity.get(key);
  }

  get tracksOwners(): boolean {
    return this.sql.tracksOwners;
  }

  get tracksAttempts(): boolean {
    return this.sql.has('attempt');
  }

  get tracksInputs(): boolean {
    return this.sql.has('input');
  }

  get tracksKinds(): boolean {
    return this.sql.has('taskName');
  }

  get indexesKeys(): boolean {
    return this.console.keys !== null;
  }

  update(id: string, patch: RecordPatch, owner?: string): void {
    this.writes.update(id, patch, owner);
  }

  heartbeat(owner: string, at: Date, ids: readonly string[]): Promise<HeartbeatReport> {
    return this.writes.heartbeat(owner, at, ids);
  }

  async listOwnedByOthers(except: string, silentSince?: Date): Promise<TaskRecord[]> {
    if (!this.sql.tracksOwners) return [];
    const { sql, params } = this.ownership.ownedByOthers(except, silentSince);
    return this.sql.decodeAll(await this.executor.read(sql, params));
  }

  async fleet(): Promise<FleetSnapshot> {
    const sql = this.sql;
    const tally = new FleetTally();
    if (!sql.tracksOwners) return tally.snapshot();
    const ownership = this.ownership;
    const { sql: text, params } = ownership.fleet();
    for (const row of await this.executor.read(text, params)) {
      const status = sql.mapping.fromDbStatus.get(String(row.status));
      if (status !== 'PENDING' && status !== 'RUNNING') continue;
      const owner = row.owner === null || row.owner === undefined ? null : stringOf(row.owner);
      tally.add(owner, status, Number(row.n), ownership.decodeHeartbeat(row.heartbeatAt));
    }
    return tally.snapshot();
  }


  async takeOver(id: string, owner: string, heartbeatAt: Date | null, patch: RecordPatch): Promise<boolean> {
    const sql = this.sql;
    if (!sql.tracksOwners) return false;
    // Buffered writes first, so the compare sees this process's own latest state.
    await this.writes.flush();
    const locks = patch.status !== undefined && isTerminalStatus(patch.status) ? this.locks : null;
    const ownership = this.ownership;
    return this.executor.transaction(function* takeOver(): SqlPlan<boolean> {
      const statement = ownership.takeOver(id, owner, heartbeatAt, patch);
      const changed = statement ? ((yield statement) as number) > 0 : false;
      if (changed && locks) yield locks.release(id);
      return changed;
    });
  }

  markCleanedUp(id: string, at: Date, releaseLocks: boolean): void {
    this.writes.markCleanedUp(id, at, releaseLocks);
  }

  flush(): Promise<void> {
    return this.writes.flush();
  }

  async claim(id: string, owner: string, at: Date): Promise<TaskRecord | null> {
    const sql = this.sql;
    const ownership = this.ownership;
    const executor = this.executor;
    let claims = this.claims.get(owner);
    if (!claims) {
      const state: { batcher: ReadBatcher; at: Date | null } = {
        at: null,
        batcher: new ReadBatcher(async (ids) => {
          const batchAt = state.at ?? new Date();
          state.at = null;
          const rows = await executor.transaction(function* claimPlan() {
            let claimed: SqlRows = [];
            for (const statement of ownership.claimMany(ids, owner, batchAt)) {
              const result = yield statement;
              if (statement.read) claimed = result as SqlRows;
            }
            return claimed;
          });
          return sql.decodeAll(rows);
        }, INSERT_CHUNK_SIZES[0], false),
      };
      claims = state;
      this.claims.set(owner, claims);
    }
    claims.at ??= at;
    return claims.batcher.get(id);
  }

  async get(id: string): Promise<TaskRecord | null> {
    return this.ready(this.reads).get(id);
  }

  list(query: ListQuery): Promise<TaskPage> {
    return this.consoleReads.list(query);
  }

  count(query: CountQuery): Promise<Partial<Record<TaskStatus, number>>> {
    return this.consoleReads.count(query);
  }

  async keysOf(id: string): Promise<string[]> {
    return this.indexesKeys ? this.consoleReads.keysOf(id) : [];
  }

  async linkRetry(id: string, retriedAs: string | null, by: JsonValue | null, at: Date | null, expected: string | null): Promise<boolean> {
    const statement = this.console.linkRetry(id, retriedAs, by, at, expected);
    // Without a retriedAs column there is no link to keep unique: every retry goes ahead.
    if (!statement) return true;
    await this.writes.flush();
    return this.executor.transaction(function* link(): SqlPlan<boolean> {
      return ((yield statement) as number) > 0;
    });
  }

  metrics(query: MetricsQuery): Promise<MetricsRows> {
    return this.consoleReads.metrics(query);
  }

  async abandonActive(message: string, at: Date, unownedIn?: readonly TaskStatus[]): Promise<number> {
    if (unownedIn?.length === 0) return 0;
    await this.writes.flush();
    const sql = this.sql;
    const locks = this.locks;
    return this.executor.transaction(function* abandon(): SqlPlan<number> {
      const changed = (yield sql.abandonActive(message, at, unownedIn)) as number;
      if (locks) yield locks.releaseFinished();
      return changed;
    });
  }

  async cleanup(olderThan: Date, deleteRecords: boolean): Promise<StoreCleanupResult> {
    await this.writes.flush();
    const sql = this.sql;
    const consoleSql = this.console;
    const locks = this.locks;
    return this.executor.transaction(function* sweep(): SqlPlan<StoreCleanupResult> {
      const locksReleased = locks ? (yield locks.releaseFinished()) as number : 0;
      if (deleteRecords && consoleSql.keys) yield consoleSql.deleteKeysOfSwept(olderThan);
      const namesQuery = sql.sweptTaskNames(olderThan, !deleteRecords);
      const names = namesQuery ? (yield namesQuery) as SqlRows : [];
      const statement = sql.sweep(olderThan, deleteRecords);
      const swept = statement ? (yield statement) as number : 0;
      return {
        locksReleased,
        recordsMarked: deleteRecords ? 0 : swept,
        recordsDeleted: deleteRecords ? swept : 0,
        taskNames: swept > 0 ? names.map((row) => String(row.taskName)) : [],
      };
    });
  }

  private *lockAndInsert(locks: LockSql, record: TaskRecord, keys: readonly string[], indexKeys: readonly string[] | null): SqlPlan<void> {
    yield locks.deleteStale(keys);
    const taken = (yield locks.insert(record.id, keys, record.createdAt ?? new Date())) as number;
    if (taken < keys.length) {
      const holders = ((yield locks.holders(keys)) as SqlRows).filter((row) => row.taskId !== record.id);
      // Throwing rolls the transaction back, so none of this task's locks stay behind.
      throw new TaskConflictError(holders.map((row) => String(row.objectKey)), stringOf(holders[0]?.taskId ?? 'unknown'));
    }
    yield this.sql.insert([record]);
    if (indexKeys) yield* this.console.insertKeysOf([record.id], [indexKeys]);
  }

  private get sql(): RecordSql {
    return this.ready(this.sqlInstance);
  }

  private get ownership(): OwnershipSql {
    return this.ready(this.ownershipInstance);
  }

  private get console(): ConsoleSql {
    return this.ready(this.consoleInstance);
  }

  private get consoleReads(): ConsoleReads {
    return this.ready(this.readsInstance);
  }

  private get executor(): SqlExecutor {
    return this.ready(this.executorInstance);
  }

  private get writes(): WriteBuffer {
    return this.ready(this.buffer);
  }

  private ready<T>(value: T | null): T {
    if (value === null) throw new ConfigurationError('The record store is not open: the task manager opens it at start().');
    return value;
  }
}

/** The executor that keeps library transactions apart from the host's on this DataSource's driver. */
async function createExecutor(dataSource: DataSource, logger: Logger): Promise<SqlExecutor> {
  const driver = dataSource.driver as unknown as { databaseConnection?: unknown; sqlite?: Sqlite3Module };
  switch (driverKindOf(dataSource)) {
    case 'better-sqlite3':
      return new BetterSqliteExecutor(driver.databaseConnection as ConstructorParameters<typeof BetterSqliteExecutor>[0], logger);
    case 'sqlite': {
      const file = stringOf((dataSource.options as { database?: unknown }).database ?? '');
      if (file === ':memory:' || file === '' || !driver.sqlite) {
        throw new ConfigurationError(
          'With the sqlite (node-sqlite3) driver, stablehand writes through a connection of its own, so the database must be a file, not ":memory:".',
        );
      }
      return DedicatedSqliteExecutor.open(driver.sqlite, file);
    }
    case 'postgres':
    case 'mysql':
      return new QueryRunnerExecutor(dataSource);
  }
}

function keyTable(dataSource: DataSource): KeyTable | null {
  if (!dataSource.hasMetadata(StablehandTaskKey)) return null;
  const metadata = dataSource.getMetadata(StablehandTaskKey);
  const escape = (name: string) => dataSource.driver.escape(name);
  const column = (property: string) => escape(metadata.findColumnWithPropertyPath(property)?.databaseName ?? property);
  return { table: metadata.tablePath.split('.').map(escape).join('.'), key: column('key'), taskId: column('taskId') };
}
