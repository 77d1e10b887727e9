import type { DataSource, Driver } from 'typeorm';
import type { MappedColumn, RecordMapping } from './record-mapping.js';
import { driverKindOf, type DriverKind } from './driver-kind.js';
import { RECORD_KEYS, type RecordKey, type RecordPatch, type TaskRecord } from '../../core/record.js';
import { ACTIVE_STATUSES, TERMINAL_STATUSES, type TaskStatus } from '../../core/status.js';
import { decodeValue, encodeValue } from './column-codec.js';
import type { SqlRows, SqlStatement } from './sql-executor.js';
import { postgresValueType, unnestInsert, unnestUpdate } from './postgres-sql.js';

/** Row counts a multi-row INSERT is cut into, so a handful of statement texts serve every batch. */
export const INSERT_CHUNK_SIZES = [256, 64, 16, 4, 1] as const;

// Rows per statement where a statement takes its rows as arrays (PostgreSQL): one text serves
// any count, so batches are cut only to bound a statement's size.
const ARRAY_ROWS = 1_000;

// The keys a record has when it is created; all others are still empty then.
const CREATE_KEYS: ReadonlySet<RecordKey> = new Set<RecordKey>([
  'id', 'taskName', 'label', 'status', 'user', 'affected', 'input', 'cleanedUp', 'createdAt', 'updatedAt',
  'owner', 'heartbeatAt',
]);

/** What differs between the SQL dialects stablehand writes. */
interface Dialect {
  placeholder(index: number): string;
  /**
   * How rows are written many at a time: 'values' as `INSERT ... VALUES (...), (...)` and guarded
   * changes as `UPDATE ... FROM (VALUES ...)` (SQLite); 'arrays' as one array parameter per
   * column, unnested (PostgreSQL); 'union' as `INSERT ... VALUES` and guarded changes joined to
   * `SELECT ... UNION ALL SELECT ...` (MySQL and MariaDB, which share no multi-row VALUES form).
   */
  manyRows: 'values' | 'arrays' | 'union';
  /** Whether an UPDATE can return the rows it changed (`RETURNING`). */
  returning: boolean;
  insertIgnore(table: string, columns: string, values: string): string;
}

const QUESTION_MARK: Dialect['placeholder'] = () => '?';
const SQLITE: Dialect = {
  placeholder: QUESTION_MARK, manyRows: 'values', returning: true, insertIgnore: (t, c, v) => `INSERT INTO ${t} (${c}) VALUES ${v} ON CONFLICT DO NOTHING`,
};
const DIALECTS: Readonly<Record<DriverKind, Dialect>> = {
  'better-sqlite3': SQLITE,
  sqlite: SQLITE,
  postgres: { placeholder: (i) => `$${i}`, manyRows: 'arrays', returning: true, insertIgnore: (t, c, v) => `INSERT INTO ${t} (${c}) VALUES ${v} ON CONFLICT DO NOTHING` },
  mysql: { placeholder: QUESTION_MARK, manyRows: 'union', returning: false, insertIgnore: (t, c, v) => `INSERT IGNORE INTO ${t} (${c}) VALUES ${v}` },
};

/** A record's id with the change to write to it, and the owner that fences it (if any). */
export interface PatchEntry {
  readonly id: string;
  readonly patch: RecordPatch;
  readonly owner?: string | undefined;
}

/**
 * How a guarded change is fenced, as SQL: the rule of `changeMayLand` (core/write-fence.ts).
 * 0: the record is unfinished; 1: its owner is the writer; 2: a claim, landing only on a PENDING
 * record that nobody else holds.
 */
export type Fence = 0 | 1 | 2;

/** Where a page starts: below `before` (older records), or above `after` (newer ones). */
export interface PageCursor {
  before?: string | undefined;
  after?: string | undefined;
}

/**
 * Builds the statements of the record table (inserts, guarded changes, reads, sweeps) with
 * constant texts (cached by shape) and parameters converted for the mapped columns. Those of the
 * index table, the lock table, and owners and heartbeats are built beside it, from it
 * (ConsoleSql, LockSql, OwnershipSql).
 */
export class RecordSql {
  private readonly dialect: Dialect;
  private readonly kind: DriverKind;
  readonly driver: Driver;
  private readonly insertKeys: RecordKey[];
  private readonly createColumns: MappedColumn[];
  private readonly retryColumns: MappedColumn[] | null;
  private readonly keyBits: Readonly<Record<string, number>>;
  private readonly texts = new Map<string, string>();
  /** Every stored key's column as its logical name: what {@link RecordSql.decode} reads. */
  readonly selectList: string;
  private readonly id: string;
  private readonly status: string;
  private readonly createConstants: { bound: MappedColumn[]; columns: MappedColumn[]; values: string } | null;

  constructor(dataSource: DataSource, readonly mapping: RecordMapping) {
    this.kind = driverKindOf(dataSource);
    this.dialect = DIALECTS[this.kind];
    this.driver = dataSource.driver;
    this.insertKeys = RECORD_KEYS.filter((key) => mapping.columns.has(key));
    this.keyBits = Object.fromEntries(this.insertKeys.map((key, i) => [key, 1 << i]));
    // A new record is PENDING with nothing else yet; the other columns keep their defaults (NULL),
    // which spares encoding and binding eight parameters per row on the hot path.
    this.createColumns = this.insertKeys.filter((key) => CREATE_KEYS.has(key)).map((key) => this.col(key));
    // A record made by retry() also names the task it retries: a shape of its own, so launches bind no more.
    this.retryColumns = this.has('retryOf') ? [...this.createColumns, this.col('retryOf')] : null;
    this.selectList = this.insertKeys.map((key) => `${this.col(key).sql} AS ${this.driver.escape(key)}`).join(', ');
    this.id = this.col('id').sql;
    this.status = this.col('status').sql;
    this.createConstants = this.constantsOfCreate();
  }

  /** The driver's placeholder for the parameter at `index` (from 1). */
  placeholder(index: number): string {
    return this.dialect.placeholder(index);
  }

  /** The quoted id column. */
  get idSql(): string {
    return this.id;
  }

  /** The quoted status column. */
  get statusSql(): string {
    return this.status;
  }

  /** Whether an UPDATE can return the rows it changed (`RETURNING`). */
  get returning(): boolean {
    return this.dialect.returning;
  }

  /** The SQL dialect family, for statements written differently per database. */
  get driverKind(): DriverKind {
    return this.kind;
  }

  /** Every stored key's column, qualified by `alias`, as its logical name: what {@link RecordSql.decode} reads. */
  selectListOf(alias: string): string {
    return this.insertKeys.map((key) => `${alias}.${this.col(key).sql} AS ${this.driver.escape(key)}`).join(', ');
  }

  /** Whether a logical key is stored. */
  has(key: RecordKey): boolean {
    return this.mapping.columns.has(key);
  }

  /**
   * A multi-row INSERT of `count` records from `offset` (a count from {@link INSERT_CHUNK_SIZES});
   * taking a window spares the caller a slice per chunk.
   */
  insert(records: readonly TaskRecord[], offset = 0, count = records.length): SqlStatement {
    // A launch's record is PENDING and not cleaned up: those two are written as constants, which
    // spares binding them per row. Other records (a store used directly) bind every column.
    const retries = this.retryColumns !== null && namesRetried(records, offset, count) ? this.retryColumns : null;
    const fixed = retries === null && this.createConstants !== null && startsFresh(records, offset, count) ? this.createConstants : null;
    const columns = retries ?? (fixed ? fixed.bound : this.createColumns);
    if (this.rowsAsArrays) return this.insertArrays(records, offset, count, columns, retries ? 'retry' : 'any');
    const sql = this.text(`insert:${retries ? 'retry' : fixed ? 'fresh' : 'any'}:${count}`, () => {
      const names = [...columns, ...(fixed ? fixed.columns : [])].map((column) => column.sql).join(', ');
      const rows = fixed ? this.valueRows(count, columns.length, fixed.values) : this.valueRows(count, columns.length);
      return `INSERT INTO ${this.mapping.table} (${names}) VALUES ${rows}`;
    });
    const params: unknown[] = new Array(count * columns.length);
    let index = 0;
    for (let i = offset; i < offset + count; i++) {
      const record = records[i];
      for (const column of columns) {
        const value = record[column.key];
        params[index++] = value === null ? null : encodeValue(column, value, this.driver, this.mapping);
      }
    }
    return { sql, params };
  }

  private insertArrays(records: readonly TaskRecord[], offset: number, count: number, columns: readonly MappedColumn[], shape: string): SqlStatement {
    const sql = this.text(`insert:arrays:${shape}`, () => unnestInsert(
      this.mapping.table, columns.map((column) => column.sql), columns.map((column) => postgresValueType(column, this.driver)),
    ));
    const params = columns.map((column) => {
      const values: unknown[] = new Array(count);
      for (let i = 0; i < count; i++) {
        const value = records[offset + i][column.key];
        values[i] = value === null ? null : encodeValue(column, value, this.driver, this.mapping);
      }
      return values;
    });
    return { sql, params };
  }

  /** Whether multi-row statements take their rows as one array per column (PostgreSQL). */
  get rowsAsArrays(): boolean {
    return this.dialect.manyRows === 'arrays';
  }

  /**
   * How many of `remaining` rows the next multi-row statement takes: a size from
   * {@link INSERT_CHUNK_SIZES}, so that a handful of texts serve every batch, unless rows go as arrays.
   */
  rowsPerStatement(remaining: number): number {
    if (this.rowsAsArrays) return Math.min(remaining, ARRAY_ROWS);
    for (const size of INSERT_CHUNK_SIZES) if (size <= remaining) return size;
    return 1;
  }

  /** Whether records carry owners and heartbeats. */
  get tracksOwners(): boolean {
    return this.has('owner');
  }

  /** The fence of a change by `owner` (none without one, or when owners are not stored). */
  fenceOf(patch: RecordPatch, owner: string | undefined): Fence {
    if (owner === undefined || !this.tracksOwners) return 0;
    // A release (owner set to null) is fenced like any change of the holder's.
    return 'owner' in patch && patch.owner !== null ? 2 : 1;
  }

  /**
   * The fence condition. `alias` prefixes the table's columns ('' or 't.'); `owner` is the column
   * of the writer's owner among the rows' values; the status placeholders start after `before`.
   */
  private fenceSql(fence: Fence, alias: string, owner: string, before: number): string {
    const first = this.dialect.placeholder(before + 1);
    const active = this.statusBesideId(alias, `IN (${first}, ${this.dialect.placeholder(before + 2)})`);
    if (fence === 0) return active;
    const holder = `${alias}${this.col('owner').sql}`;
    if (fence === 2) return `(${holder} IS NULL OR ${holder} = ${owner}) AND ${this.statusBesideId(alias, `= ${first}`)}`;
    return `${holder} = ${owner} AND ${active}`;
  }

  /**
   * A condition on the status (`test` is what follows the column: `= $3`, `IN (?, ?)`) in a
   * statement that also pins the ids, written so that the database cannot drive it from the
   * status index. Statistics gathered while nearly every record was finished (a table that grew
   * fast since, a bulk launch after a quiet day) make that index look like a few rows, where it
   * leads to every unfinished record, a backlog of thousands: each claim or end write read them
   * all (about 20 times slower at a backlog of 10,000). SQLite's unary `+` and PostgreSQL's
   * `IS TRUE` keep the meaning and hide the column from the index, so the primary key is the
   * only path. MySQL and MariaDB estimate by diving into the index, so they see the backlog for
   * what it is.
   */
  statusBesideId(alias: string, test: string): string {
    if (this.kind === 'postgres') return `(${alias}${this.status} ${test}) IS TRUE`;
    return `${this.dialect.manyRows === 'values' ? '+' : ''}${alias}${this.status} ${test}`;
  }

  /**
   * Which stored keys a patch has, as a bit set over the column order: records whose patches have
   * the same keys share one UPDATE. A number, not a joined string, so grouping allocates nothing.
   */
  keySet(patch: RecordPatch): number {
    let bits = 0;
    // A patch has a handful of keys; walking them beats testing all eighteen.
    for (const key in patch) bits |= this.keyBits[key] ?? 0;
    return bits;
  }

  /** The keys of a {@link RecordSql.keySet}, in column order. */
  keysOf(bits: number): RecordKey[] {
    return this.insertKeys.filter((_, i) => (bits & (1 << i)) !== 0);
  }

  /**
   * One UPDATE of `count` records from `offset` (a count from {@link RecordSql.rowsPerStatement})
   * that change the same `keys` under the same `fence`, each applied only while its fence holds.
   */
  guardedUpdateMany(keys: readonly RecordKey[], entries: readonly PatchEntry[], offset: number, count: number, fence: Fence): SqlStatement {
    if (this.rowsAsArrays) return this.updateArrays(keys, entries, offset, count, fence);
    // Each VALUES row is the id, then the writer's owner when fenced, then the keys' values.
    const lead = fence === 0 ? 1 : 2;
    const width = keys.length + lead;
    const sql = this.text(`updateMany:${fence}:${count}:${keys.join(',')}`, () => {
      if (this.dialect.manyRows === 'union') return this.unionUpdate(keys, count, fence);
      const set = keys.map((key, i) => `${this.col(key).sql} = v.column${i + lead + 1}`).join(', ');
      return `UPDATE ${this.mapping.table} AS t SET ${set} FROM (VALUES ${this.valueRows(count, width)}) AS v ` +
        `WHERE t.${this.id} = v.column1 AND ${this.fenceSql(fence, 't.', 'v.column2', count * width)}`;
    });
    const columns = keys.map((key) => this.col(key));
    const statuses = this.statusValues(fence === 2 ? ['PENDING'] : ACTIVE_STATUSES);
    const params: unknown[] = new Array(count * width + statuses.length);
    let index = 0;
    for (let i = offset; i < offset + count; i++) {
      const { id, patch, owner } = entries[i];
      params[index++] = id;
      if (fence !== 0) params[index++] = owner;
      for (const column of columns) params[index++] = encodeValue(column, patch[column.key as keyof RecordPatch], this.driver, this.mapping);
    }
    for (const status of statuses) params[index++] = status;
    return { sql, params };
  }

  /**
   * `UPDATE t JOIN (SELECT ? AS id, ? AS writer, ? AS c1 UNION ALL SELECT ?, ?, ? ...) AS v ON
   * t.id = v.id SET t.col = v.c1 WHERE <fence>`, with the same parameters as the VALUES form.
   */
  private unionUpdate(keys: readonly RecordKey[], count: number, fence: Fence): string {
    const names = ['id', ...(fence === 0 ? [] : ['writer']), ...keys.map((_, i) => `c${i + 1}`)];
    const first = `SELECT ${names.map((name) => `? AS ${name}`).join(', ')}`;
    const other = ` UNION ALL SELECT ${names.map(() => '?').join(', ')}`;
    const lead = names.length - keys.length;
    const set = keys.map((key, i) => `t.${this.col(key).sql} = v.${names[lead + i]}`).join(', ');
    return `UPDATE ${this.mapping.table} AS t JOIN (${first}${other.repeat(count - 1)}) AS v ON t.${this.id} = v.id ` +
      `SET ${set} WHERE ${this.fenceSql(fence, 't.', 'v.writer', count * names.length)}`;
  }

  private updateArrays(keys: readonly RecordKey[], entries: readonly PatchEntry[], offset: number, count: number, fence: Fence): SqlStatement {
    const columns = keys.map((key) => this.col(key));
    const sql = this.text(`updateMany:arrays:${fence}:${keys.join(',')}`, () => {
      const lead: RecordKey[] = fence === 0 ? ['id'] : ['id', 'owner'];
      const types = [...lead, ...keys].map((key) => postgresValueType(this.col(key), this.driver));
      return unnestUpdate({
        table: this.mapping.table, id: this.id, columns: columns.map((column) => column.sql), types, fenced: fence !== 0,
        fence: this.fenceSql(fence, 't.', 'v.writer', types.length),
      });
    });
    const ids: string[] = new Array<string>(count);
    const writers: unknown[] | null = fence === 0 ? null : new Array<unknown>(count);
    const values = columns.map(() => new Array<unknown>(count));
    for (let i = 0; i < count; i++) {
      const { id, patch, owner } = entries[offset + i];
      ids[i] = id;
      if (writers) writers[i] = owner ?? null;
      for (let c = 0; c < columns.length; c++) values[c][i] = encodeValue(columns[c], patch[columns[c].key as keyof RecordPatch], this.driver, this.mapping);
    }
    const statuses = this.statusValues(fence === 2 ? ['PENDING'] : ACTIVE_STATUSES);
    return { sql, params: writers ? [ids, writers, ...values, ...statuses] : [ids, ...values, ...statuses] };
  }

  /** Marks a record cleaned up (and touches `updatedAt`) whatever its status; null when `cleanedUp` is not stored. */
  markCleanedUp(id: string, at: Date): SqlStatement | null {
    const patch: RecordPatch = { cleanedUp: true, updatedAt: at };
    const keys = (['cleanedUp', 'updatedAt'] as const).filter((key) => this.has(key));
    if (!this.has('cleanedUp')) return null;
    const sql = this.text('cleaned', () => {
      const set = keys.map((key, i) => `${this.col(key).sql} = ${this.dialect.placeholder(i + 1)}`).join(', ');
      return `UPDATE ${this.mapping.table} SET ${set} WHERE ${this.id} = ${this.dialect.placeholder(keys.length + 1)}`;
    });
    return { sql, params: [...keys.map((key) => this.encode(key, patch[key])), id] };
  }

  /** Reads no row but names every mapped column: fails when the table lacks one. */
  schemaProbe(): SqlStatement {
    return { sql: `SELECT ${this.selectList} FROM ${this.mapping.table} WHERE 1 = 0`, params: [], read: true };
  }

  /** A read of the record table that returns nothing: whether the table answers at all. */
  probe(): SqlStatement {
    return { sql: this.text('probe', () => `SELECT ${this.id} FROM ${this.mapping.table} WHERE 1 = 0`), params: [], read: true };
  }

  /**
   * Reads the records of `ids` (at most 256). Elsewhere than on PostgreSQL the list is padded to a
   * size of {@link INSERT_CHUNK_SIZES} by repeating its last id, so a handful of statement texts
   * serve every batch.
   */
  selectByIds(ids: readonly string[]): SqlStatement {
    if (this.kind === 'postgres') {
      // PostgreSQL takes the ids as one array: one statement text, and the primary key's index.
      const type = postgresValueType(this.col('id'), this.driver);
      const sql = this.text('byIds:array', () => `SELECT ${this.selectList} FROM ${this.mapping.table} WHERE ${this.id} = ANY($1::${type}[])`);
      return { sql, params: [[...ids]], read: true };
    }
    const params = paddedIds(ids);
    const sql = this.text(`byIds:${params.length}`, () => {
      const list = params.map((_, i) => this.dialect.placeholder(i + 1)).join(', ');
      return `SELECT ${this.selectList} FROM ${this.mapping.table} WHERE ${this.id} IN (${list})`;
    });
    return { sql, params, read: true };
  }

  /**
   * Reads up to `limit` records, newest first (ids sort by creation time); with `after`, the
   * oldest records newer than it first.
   */
  selectPage(statuses: readonly TaskStatus[] | undefined, cursor: PageCursor, limit: number): SqlStatement {
    const shape = `page:${statuses?.length ?? 0}:${cursor.before !== undefined ? 'b' : cursor.after !== undefined ? 'a' : ''}`;
    const sql = this.text(shape, () => {
      let index = 0;
      const where: string[] = [];
      if (statuses) where.push(`${this.status} IN (${statuses.map(() => this.dialect.placeholder(++index)).join(', ')})`);
      if (cursor.before !== undefined) where.push(`${this.id} < ${this.dialect.placeholder(++index)}`);
      if (cursor.after !== undefined) where.push(`${this.id} > ${this.dialect.placeholder(++index)}`);
      return `SELECT ${this.selectList} FROM ${this.mapping.table}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ` +
        `ORDER BY ${this.id} ${cursor.after !== undefined ? 'ASC' : 'DESC'} LIMIT ${this.dialect.placeholder(++index)}`;
    });
    const params: unknown[] = statuses ? this.statusValues(statuses) : [];
    if (cursor.before !== undefined) params.push(cursor.before);
    if (cursor.after !== undefined) params.push(cursor.after);
    params.push(limit);
    return { sql, params, read: true };
  }

  /** Fails every PENDING or RUNNING record. */
  abandonActive(message: string, at: Date, unownedIn?: readonly TaskStatus[]): SqlStatement {
    const patch: RecordPatch = { status: 'FAILED', message, error: message, completedAt: at, failedAt: at, updatedAt: at };
    const keys = this.insertKeys.filter((key) => key in patch);
    const statuses = unownedIn ?? ACTIVE_STATUSES;
    let index = 0;
    const set = keys.map((key) => `${this.col(key).sql} = ${this.dialect.placeholder(++index)}`).join(', ');
    const unowned = unownedIn && this.tracksOwners ? ` AND ${this.col('owner').sql} IS NULL` : '';
    return {
      sql: `UPDATE ${this.mapping.table} SET ${set} WHERE ${this.status} IN (${statuses.map(() => this.dialect.placeholder(++index)).join(', ')})${unowned}`,
      params: [...keys.map((key) => this.encode(key, patch[key as keyof RecordPatch])), ...this.statusValues(statuses)],
    };
  }

  /** The finished-records filter of a cleanup sweep, with the column it dates records by (if any). */
  finishedBefore(olderThan: Date, onlyUncleaned: boolean, firstIndex = 1): { where: string; params: unknown[] } {
    let index = firstIndex - 1;
    const where = [`${this.status} IN (${TERMINAL_STATUSES.map(() => this.dialect.placeholder(++index)).join(', ')})`];
    const params: unknown[] = this.statusValues(TERMINAL_STATUSES);
    const dateKey = this.has('completedAt') ? 'completedAt' : this.has('updatedAt') ? 'updatedAt' : null;
    if (dateKey) {
      where.push(`${this.col(dateKey).sql} <= ${this.dialect.placeholder(++index)}`);
      params.push(this.encode(dateKey, olderThan));
    }
    if (onlyUncleaned && this.has('cleanedUp')) {
      where.push(`${this.col('cleanedUp').sql} = ${this.dialect.placeholder(++index)}`);
      params.push(this.encode('cleanedUp', false));
    }
    return { where: where.join(' AND '), params };
  }

  /** Task kinds of the records a sweep will touch. */
  sweptTaskNames(olderThan: Date, onlyUncleaned: boolean): SqlStatement | null {
    if (!this.has('taskName')) return null;
    const { where, params } = this.finishedBefore(olderThan, onlyUncleaned);
    return { sql: `SELECT DISTINCT ${this.col('taskName').sql} AS ${this.driver.escape('taskName')} FROM ${this.mapping.table} WHERE ${where}`, params, read: true };
  }

  /** Deletes, or marks cleaned up, the finished records of a sweep. */
  sweep(olderThan: Date, deleteRecords: boolean): SqlStatement | null {
    if (deleteRecords) {
      const { where, params } = this.finishedBefore(olderThan, false);
      return { sql: `DELETE FROM ${this.mapping.table} WHERE ${where}`, params };
    }
    if (!this.has('cleanedUp')) return null;
    const { where, params } = this.finishedBefore(olderThan, true, 2);
    return {
      sql: `UPDATE ${this.mapping.table} SET ${this.col('cleanedUp').sql} = ${this.dialect.placeholder(1)} WHERE ${where}`,
      params: [this.encode('cleanedUp', true), ...params],
    };
  }

  /**
   * The record's id as the lock table's text column compares it: PostgreSQL compares a `uuid` id
   * column with text only through a cast.
   */
  get idAsText(): string {
    return this.kind === 'postgres' ? `${this.id}::text` : this.id;
  }

  /**
   * `SELECT` of the ids (as text) of every PENDING or RUNNING record, its placeholders numbered
   * from `first`: the tasks whose locks are held.
   */
  activeIds(first: number): SqlStatement {
    return {
      sql: `SELECT ${this.idAsText} FROM ${this.mapping.table} WHERE ${this.status} IN (${this.dialect.placeholder(first)}, ${this.dialect.placeholder(first + 1)})`,
      params: this.statusValues(ACTIVE_STATUSES),
    };
  }

  /** An INSERT of `values` rows that skips rows whose key exists already. */
  insertIgnore(table: string, columns: string, values: string): string {
    return this.dialect.insertIgnore(table, columns, values);
  }

  /** Turns a row read with {@link RecordSql.selectByIds} or {@link RecordSql.selectPage} into a record. */
  decode(row: Record<string, unknown>): TaskRecord {
    const record = {} as Record<RecordKey, unknown>;
    for (const key of RECORD_KEYS) {
      const column = this.mapping.columns.get(key);
      record[key] = column ? decodeValue(column, row[key], this.driver, this.mapping) : null;
    }
    return record as unknown as TaskRecord;
  }

  /** Decodes the rows of a read. */
  decodeAll(rows: SqlRows): TaskRecord[] {
    return rows.map((row) => this.decode(row));
  }

  /** A value of `key` as its column stores it. */
  encode(key: RecordKey, value: unknown): unknown {
    return encodeValue(this.col(key), value, this.driver, this.mapping);
  }

  /** The stored values of `statuses`. */
  statusValues(statuses: readonly TaskStatus[]): string[] {
    return statuses.map((status) => this.mapping.toDbStatus[status]);
  }

  /** The column of a stored key. */
  col(key: RecordKey): MappedColumn {
    // Callers pass only keys the mapping stores (checking has() where a key is optional).
    // eslint-disable-next-line @typescript-eslint/non-nullable-type-assertion-style -- `!` is forbidden by no-non-null-assertion; a check would cost the hot path
    return this.mapping.columns.get(key) as MappedColumn;
  }

  /** `count` rows of `width` placeholders each for a VALUES list, with `constants` appended to every row. */
  valueRows(count: number, width: number, constants = ''): string {
    let index = 0;
    const tail = constants ? `, ${constants}` : '';
    return Array.from({ length: count }, () => `(${Array.from({ length: width }, () => this.dialect.placeholder(++index)).join(', ')}${tail})`).join(', ');
  }

  /**
   * The status and cleanup columns of a new record as SQL constants (PENDING, not cleaned up), or
   * null when their stored forms cannot be written as plain literals.
   */
  private constantsOfCreate(): { bound: MappedColumn[]; columns: MappedColumn[]; values: string } | null {
    // SQLite only, where the write path is measured against raw SQL: it takes any literal for any
    // column, while PostgreSQL refuses an integer literal for a boolean column.
    if (this.dialect.manyRows !== 'values') return null;
    const status = this.col('status');
    const cleanedUp = this.mapping.columns.get('cleanedUp');
    const constants: [MappedColumn, unknown][] = [[status, this.mapping.toDbStatus.PENDING]];
    if (cleanedUp && this.createColumns.includes(cleanedUp)) constants.push([cleanedUp, this.encode('cleanedUp', false)]);
    const values: string[] = [];
    for (const [, value] of constants) {
      const literal = sqlLiteral(value);
      if (literal === null) return null;
      values.push(literal);
    }
    const fixed = new Set(constants.map(([column]) => column));
    return { bound: this.createColumns.filter((column) => !fixed.has(column)), columns: constants.map(([column]) => column), values: values.join(', ') };
  }

  /** A statement text by its shape, built once (texts of companion builders too). */
  text(shape: string, build: () => string): string {
    let sql = this.texts.get(shape);
    if (sql === undefined) this.texts.set(shape, (sql = build()));
    return sql;
  }
}

/** Whether every record of the window is as a launch creates it: PENDING, not cleaned up. */
function startsFresh(records: readonly TaskRecord[], offset: number, count: number): boolean {
  for (let i = offset; i < offset + count; i++) if (records[i].status !== 'PENDING' || records[i].cleanedUp !== false) return false;
  return true;
}

/** Whether a record of the window was made by retry(), naming the task it retries. */
function namesRetried(records: readonly TaskRecord[], offset: number, count: number): boolean {
  for (let i = offset; i < offset + count; i++) if (records[i].retryOf) return true;
  return false;
}

/**
 * A value as an SQL literal: numbers, booleans and strings (quotes doubled); null for anything
 * else, and for a string with a backslash (MySQL reads it as an escape).
 */
function sqlLiteral(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'string' && !value.includes('\\')) return `'${value.replace(/'/g, "''")}'`;
  return null;
}

/**
 * `ids` (at most 256) padded to the next size of {@link INSERT_CHUNK_SIZES} by repeating the last,
 * so that an IN list has one of a handful of statement texts; a repeated id changes nothing.
 */
export function paddedIds(ids: readonly string[]): string[] {
  const size = [...INSERT_CHUNK_SIZES].reverse().find((chunk) => chunk >= ids.length) ?? ids.length;
  const padded = [...ids];
  while (padded.length < size) padded.push(ids[ids.length - 1]);
  return padded;
}
