import type { CountQuery, ListQuery } from '../../core/list-query.js';
import { METRICS_WINDOWS, type MetricsQuery } from '../../core/metrics.js';
import { TERMINAL_STATUSES, type TaskStatus } from '../../core/status.js';
import type { SearchQuery, SearchTerm } from '../../core/task-keys.js';
import type { JsonValue } from '../../core/types.js';
import type { PageCursor, RecordSql } from './record-sql.js';
import type { SqlStatement } from './sql-executor.js';

/** The index table's quoted names. */
export interface KeyTable {
  table: string;
  key: string;
  taskId: string;
}

/**
 * The statements of the operator's console, beside {@link RecordSql}'s: the index table (keys in,
 * pages and counts by key or search out), retry links, and the aggregates of `metrics()`.
 */
export class ConsoleSql {
  constructor(private readonly records: RecordSql, readonly keys: KeyTable | null) {}

  /**
   * A multi-row INSERT of key rows from `pairs` (task id, key, task id, key, ...), `count` rows
   * from row `offset`. A key given twice (or equal to another under a case-insensitive MySQL
   * collation) is kept once.
   */
  insertKeys(pairs: readonly string[], offset: number, count: number): SqlStatement {
    const k = this.keyTable();
    const r = this.records;
    const columns = `${k.taskId}, ${k.key}`;
    if (r.rowsAsArrays) {
      const ids: string[] = new Array<string>(count);
      const keys: string[] = new Array<string>(count);
      for (let i = 0; i < count; i++) {
        ids[i] = pairs[(offset + i) * 2];
        keys[i] = pairs[(offset + i) * 2 + 1];
      }
      // The index table is stablehand's own: both columns are strings, assigned from text.
      const sql = r.text('keys:insert:arrays', () => `INSERT INTO ${k.table} (${columns}) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING`);
      return { sql, params: [ids, keys] };
    }
    const sql = r.text(`keys:insert:${count}`, () => {
      let index = 0;
      return r.insertIgnore(k.table, columns, Array.from({ length: count }, () => `(${r.placeholder(++index)}, ${r.placeholder(++index)})`).join(', '));
    });
    return { sql, params: pairs.slice(offset * 2, (offset + count) * 2) };
  }

  /** The INSERTs of the key rows of the records `ids`, `keys[i]` being the keys of `ids[i]`. */
  *insertKeysOf(ids: readonly string[], keys: readonly (readonly string[] | null)[]): Generator<SqlStatement, void, unknown> {
    const pairs: string[] = [];
    for (let i = 0; i < ids.length; i++) for (const key of keys[i] ?? []) pairs.push(ids[i], key);
    const rows = pairs.length / 2;
    for (let offset = 0; offset < rows;) {
      const size = this.records.rowsPerStatement(rows - offset);
      yield this.insertKeys(pairs, offset, size);
      offset += size;
    }
  }

  /** Reads no row of the index table: fails when the table is missing. */
  schemaProbe(): SqlStatement | null {
    const k = this.keys;
    return k && { sql: `SELECT ${k.key}, ${k.taskId} FROM ${k.table} WHERE 1 = 0`, params: [], read: true };
  }

  /** The keys of one task. */
  keysOf(id: string): SqlStatement {
    const k = this.keyTable();
    const r = this.records;
    return { sql: r.text('keys:of', () => `SELECT ${k.key} AS k FROM ${k.table} WHERE ${k.taskId} = ${r.placeholder(1)}`), params: [id], read: true };
  }

  /** Deletes the keys of the records a deleting sweep removes (run before it, in its transaction). */
  deleteKeysOfSwept(olderThan: Date): SqlStatement {
    const k = this.keyTable();
    const r = this.records;
    const { where, params } = r.finishedBefore(olderThan, false);
    return { sql: `DELETE FROM ${k.table} WHERE ${k.taskId} IN (SELECT ${r.idAsText} FROM ${r.mapping.table} WHERE ${where})`, params };
  }

  /**
   * The pages a filtered list reads, to be merged: each driven by an index, newest first (oldest
   * first with `after`), with the other filters as conditions. An affected key drives alone (its
   * rows are few); a search is driven by its first term's key rows, by its kinds on the kind
   * column, and by the id prefix, as it may match any of them.
   */
  pages(query: ListQuery, cursor: PageCursor, limit: number): SqlStatement[] {
    const search = query.search;
    if (query.affected !== undefined) {
      return [this.pageByKey(query.affected, query, cursor, limit, (params) => (search ? [this.searchMatch(search, params)] : []))];
    }
    if (!search) return [];
    const [first, ...rest] = search.terms;
    const others = (params: unknown[]) => rest.map((term) => this.termMatch(term, params));
    const pages = [this.pageByKey(first.key, query, cursor, limit, others)];
    if (first.kinds.length > 0) pages.push(this.pageOfTable(query, cursor, limit, (params) => [this.kindIn(first.kinds, params), ...others(params)]));
    const prefix = search.idPrefix;
    if (prefix !== undefined) pages.push(this.pageOfTable(query, cursor, limit, (params) => [this.idRange(prefix, params)]));
    return pages;
  }

  /**
   * Counts by status within the filters, as statements whose counts add up: one GROUP BY on the
   * status index without filters, on the affected key's rows with one. A search is counted from
   * the index too, in parts that never count a record twice: its first term's key rows (of other
   * kinds than the term's), the term's kinds, and the id prefix.
   */
  count(query: CountQuery): SqlStatement[] {
    const r = this.records;
    const status = r.col('status').sql;
    const search = query.search;
    const driven = (key: string, conditions: (params: unknown[]) => string[]): SqlStatement => {
      const k = this.keyTable();
      const params: unknown[] = [key];
      const where = [`k.${k.key} = ${r.placeholder(1)}`, ...conditions(params)];
      return {
        sql: `SELECT t.${status} AS status, COUNT(*) AS n FROM ${k.table} k JOIN ${r.mapping.table} t ON ${this.joinOn('t', 'k')} ` +
          `WHERE ${where.join(' AND ')} GROUP BY t.${status}`,
        params,
        read: true,
      };
    };
    const ofTable = (conditions: (params: unknown[]) => string[]): SqlStatement => {
      const params: unknown[] = [];
      const where = conditions(params);
      return { sql: `SELECT t.${status} AS status, COUNT(*) AS n FROM ${r.mapping.table} t WHERE ${where.join(' AND ')} GROUP BY t.${status}`, params, read: true };
    };
    if (query.affected !== undefined) return [driven(query.affected, (params) => (search ? [this.searchMatch(search, params)] : []))];
    if (!search) {
      return [{ sql: r.text('count:all', () => `SELECT ${status} AS status, COUNT(*) AS n FROM ${r.mapping.table} GROUP BY ${status}`), params: [], read: true }];
    }
    const [first, ...rest] = search.terms;
    const prefix = search.idPrefix;
    const others = (params: unknown[]): string[] => [
      ...rest.map((term) => this.termMatch(term, params)),
      ...(prefix === undefined ? [] : [`NOT (${this.idRange(prefix, params)})`]),
    ];
    const parts = [driven(first.key, (params) => [...(first.kinds.length > 0 ? [this.kindNotIn(first.kinds, params)] : []), ...others(params)])];
    if (first.kinds.length > 0) parts.push(ofTable((params) => [this.kindIn(first.kinds, params), ...others(params)]));
    if (prefix !== undefined) parts.push(ofTable((params) => [this.idRange(prefix, params)]));
    return parts;
  }

  /** A page of the records with `key`, read from the index table's primary key in task id order. */
  private pageByKey(key: string, query: ListQuery, cursor: PageCursor, limit: number, conditions: (params: unknown[]) => string[]): SqlStatement {
    const k = this.keyTable();
    const r = this.records;
    const params: unknown[] = [key];
    const where = [`k.${k.key} = ${r.placeholder(1)}`];
    if (cursor.before !== undefined) where.push(`k.${k.taskId} < ${r.placeholder(params.push(cursor.before))}`);
    if (cursor.after !== undefined) where.push(`k.${k.taskId} > ${r.placeholder(params.push(cursor.after))}`);
    this.statusFilter(query, where, params);
    where.push(...conditions(params));
    const order = cursor.after !== undefined ? 'ASC' : 'DESC';
    const sql = `SELECT ${r.selectListOf('t')} FROM ${k.table} k JOIN ${r.mapping.table} t ON ${this.joinOn('t', 'k')} ` +
      `WHERE ${where.join(' AND ')} ORDER BY k.${k.taskId} ${order} LIMIT ${r.placeholder(params.push(limit))}`;
    return { sql, params, read: true };
  }

  /** A page of the record table itself, in id order, under `conditions`. */
  private pageOfTable(query: ListQuery, cursor: PageCursor, limit: number, conditions: (params: unknown[]) => string[]): SqlStatement {
    const r = this.records;
    const params: unknown[] = [];
    const where = conditions(params);
    const id = `t.${r.col('id').sql}`;
    if (cursor.before !== undefined) where.push(`${id} < ${r.placeholder(params.push(cursor.before))}`);
    if (cursor.after !== undefined) where.push(`${id} > ${r.placeholder(params.push(cursor.after))}`);
    this.statusFilter(query, where, params);
    const sql = `SELECT ${r.selectListOf('t')} FROM ${r.mapping.table} t WHERE ${where.join(' AND ')} ` +
      `ORDER BY ${id} ${cursor.after !== undefined ? 'ASC' : 'DESC'} LIMIT ${r.placeholder(params.push(limit))}`;
    return { sql, params, read: true };
  }

  /** Whether the record `t` matches a search: all its terms, or its id prefix. */
  private searchMatch(search: SearchQuery, params: unknown[]): string {
    const terms = search.terms.map((term) => this.termMatch(term, params)).join(' AND ');
    return search.idPrefix === undefined ? `(${terms})` : `((${terms}) OR (${this.idRange(search.idPrefix, params)}))`;
  }

  /** Whether the record `t` matches one term: it has the key, or its kind is one of the term's. */
  private termMatch(term: SearchTerm, params: unknown[]): string {
    const key = this.hasKey(term.key, params);
    return term.kinds.length === 0 ? key : `(${key} OR ${this.kindIn(term.kinds, params)})`;
  }

  /** The complement of {@link ConsoleSql.kindIn}, a record without a kind included. */
  private kindNotIn(kinds: readonly string[], params: unknown[]): string {
    const r = this.records;
    if (!r.has('taskName')) return '1 = 1';
    return `(t.${r.col('taskName').sql} IS NULL OR NOT (${this.kindIn(kinds, params)}))`;
  }

  private kindIn(kinds: readonly string[], params: unknown[]): string {
    const r = this.records;
    // A table without a kind column matches no kind.
    if (!r.has('taskName')) return '1 = 0';
    return `t.${r.col('taskName').sql} IN (${kinds.map((kind) => r.placeholder(params.push(kind))).join(', ')})`;
  }

  /**
   * Sets a FAILED or CANCELLED record's retry link and audit while its `retriedAs` is `expected`;
   * null when the table does not store `retriedAs` (nothing to link).
   */
  linkRetry(taskId: string, retriedAs: string | null, by: JsonValue | null, at: Date | null, expected: string | null): SqlStatement | null {
    const r = this.records;
    if (!r.has('retriedAs')) return null;
    const params: unknown[] = [retriedAs];
    const set = [`${r.col('retriedAs').sql} = ${r.placeholder(1)}`];
    if (r.has('retriedBy')) set.push(`${r.col('retriedBy').sql} = ${r.placeholder(params.push(by === null ? null : r.encode('retriedBy', by)))}`);
    if (r.has('retriedAt')) set.push(`${r.col('retriedAt').sql} = ${r.placeholder(params.push(at === null ? null : r.encode('retriedAt', at)))}`);
    const id = r.placeholder(params.push(taskId));
    const statuses = r.statusValues(['FAILED', 'CANCELLED']).map((value) => r.placeholder(params.push(value))).join(', ');
    const retried = r.col('retriedAs').sql;
    const same = expected === null ? `${retried} IS NULL` : `${retried} = ${r.placeholder(params.push(expected))}`;
    return {
      sql: `UPDATE ${r.mapping.table} SET ${set.join(', ')} WHERE ${r.col('id').sql} = ${id} AND ${r.col('status').sql} IN (${statuses}) AND ${same}`,
      params,
    };
  }

  /**
   * Finished records created in the window, by kind, status and bar. Bars are found by comparing
   * the creation with each bar's end, which every database does alike on any date column, with
   * no date arithmetic. Null without a creation date.
   */
  metricsCounts(query: MetricsQuery): SqlStatement | null {
    const r = this.records;
    if (!r.has('createdAt')) return null;
    const created = r.col('createdAt').sql;
    const kind = r.has('taskName') ? r.col('taskName').sql : `''`;
    const status = r.col('status').sql;
    const params: unknown[] = [];
    const bars = Math.round((query.to.getTime() - query.from.getTime()) / query.bucketMs);
    const when: string[] = [];
    for (let bar = 0; bar < bars - 1; bar++) {
      const end = new Date(query.from.getTime() + (bar + 1) * query.bucketMs);
      when.push(`WHEN ${created} < ${r.placeholder(params.push(r.encode('createdAt', end)))} THEN ${bar}`);
    }
    const bucket = when.length ? `CASE ${when.join(' ')} ELSE ${bars - 1} END` : '0';
    const where = this.windowWhere(query, params, TERMINAL_STATUSES);
    return {
      sql: `SELECT ${kind} AS kind, ${status} AS status, ${bucket} AS bucket, COUNT(*) AS n FROM ${r.mapping.table} ` +
        `WHERE ${where} GROUP BY 1, 2, 3`,
      params,
      read: true,
    };
  }

  /**
   * The median and 95th percentile run times of each kind's DONE records created in the window:
   * the rows at the nearest ranks of a window function, `ceil(n * p / 100)` in integer arithmetic.
   * Null without creation dates or durations.
   */
  metricsDurations(query: MetricsQuery): SqlStatement | null {
    const r = this.records;
    if (!r.has('createdAt') || !r.has('duration')) return null;
    const kind = r.has('taskName') ? r.col('taskName').sql : `''`;
    const duration = r.col('duration').sql;
    const params: unknown[] = [];
    const where = this.windowWhere(query, params, ['DONE']);
    const div = r.driverKind === 'mysql' ? 'DIV' : '/';
    return {
      sql: `SELECT kind, duration, r, n FROM (SELECT ${kind} AS kind, ${duration} AS duration, ` +
        `ROW_NUMBER() OVER (PARTITION BY ${kind} ORDER BY ${duration}) AS r, COUNT(*) OVER (PARTITION BY ${kind}) AS n ` +
        `FROM ${r.mapping.table} WHERE ${where} AND ${duration} IS NOT NULL) ranked ` +
        `WHERE r = (n * 50 + 99) ${div} 100 OR r = (n * 95 + 99) ${div} 100`,
      params,
      read: true,
    };
  }

  private windowWhere(query: MetricsQuery, params: unknown[], statuses: readonly TaskStatus[]): string {
    const r = this.records;
    const created = r.col('createdAt').sql;
    const from = r.placeholder(params.push(r.encode('createdAt', query.from)));
    const to = r.placeholder(params.push(r.encode('createdAt', query.to)));
    const list = r.statusValues(statuses).map((value) => r.placeholder(params.push(value))).join(', ');
    // SQLite, without statistics, would read the window through the status index (every DONE
    // record); a unary plus keeps it on the creation index, which bounds the read to the window.
    const status = r.driverKind === 'better-sqlite3' || r.driverKind === 'sqlite' ? `+${r.col('status').sql}` : r.col('status').sql;
    return `${created} >= ${from} AND ${created} < ${to} AND ${status} IN (${list})`;
  }

  private statusFilter(query: ListQuery, where: string[], params: unknown[]): void {
    if (!query.status) return;
    const r = this.records;
    const list = r.statusValues(query.status).map((value) => r.placeholder(params.push(value))).join(', ');
    where.push(`t.${r.col('status').sql} IN (${list})`);
  }

  /** `EXISTS` a key row for the record `t`: a lookup in the index table's primary key. */
  private hasKey(key: string, params: unknown[]): string {
    const k = this.keyTable();
    return `EXISTS (SELECT 1 FROM ${k.table} k2 WHERE k2.${k.key} = ${this.records.placeholder(params.push(key))} AND ${this.joinOn('t', 'k2')})`;
  }

  /**
   * The record of `t` joined to the key row of `k`. PostgreSQL compares a `uuid` id with the text
   * column only through a cast, made on the key's side so the record's primary key index serves.
   */
  private joinOn(t: string, k: string): string {
    const r = this.records;
    const id = r.col('id');
    const uuid = r.driverKind === 'postgres' && r.driver.normalizeType(id.metadata) === 'uuid';
    return `${t}.${id.sql} = ${uuid ? `CAST(${k}.${this.keyTable().taskId} AS uuid)` : `${k}.${this.keyTable().taskId}`}`;
  }

  /**
   * Ids starting with `prefix` as a range the primary key serves: the upper bound is the prefix
   * with its last character raised by one. Prefixes are lower-case hex digits and dashes; raising
   * only a hex digit (after dropping trailing dashes) keeps both bounds letters and digits, which
   * every collation orders alike.
   */
  private idRange(prefix: string, params: unknown[]): string {
    const r = this.records;
    const base = prefix.replace(/-+$/, '');
    const last = base.charCodeAt(base.length - 1);
    const raised = last === 0x39 ? 'a' : String.fromCharCode(last + 1);
    const id = r.driverKind === 'postgres' ? `t.${r.col('id').sql}::text` : `t.${r.col('id').sql}`;
    return `${id} >= ${r.placeholder(params.push(base))} AND ${id} < ${r.placeholder(params.push(base.slice(0, -1) + raised))}`;
  }

  private keyTable(): KeyTable {
    if (!this.keys) throw new Error('The index table is not registered');
    return this.keys;
  }
}


/** The bar count of each window (for callers that size arrays). */
export const METRICS_BARS: Readonly<Record<string, number>> = Object.fromEntries(
  METRICS_WINDOWS.map((window) => [window.name, window.spanMs / window.bucketMs]),
);
