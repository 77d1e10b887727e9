import type { RecordPatch } from '../../core/record.js';
import { ACTIVE_STATUSES } from '../../core/status.js';
import { decodeValue } from './column-codec.js';
import { postgresValueType } from './postgres-sql.js';
import { paddedIds, type RecordSql } from './record-sql.js';
import type { SqlStatement } from './sql-executor.js';

/**
 * The statements of owners and heartbeats (several processes on one database), beside
 * {@link RecordSql}'s: claims, heartbeats, the fleet, and taking back the tasks of silent owners.
 * Used only where the record model stores owners ({@link RecordSql.tracksOwners}).
 */
export class OwnershipSql {
  constructor(private readonly records: RecordSql) {}

  /**
   * Claims the PENDING records among `ids` (at most 256) that nobody else holds for `owner`, and
   * reads back the ones it claimed: one UPDATE ... RETURNING where the database has it (PostgreSQL,
   * SQLite), an UPDATE then a SELECT of the owner's RUNNING records among `ids` elsewhere.
   */
  claimMany(ids: readonly string[], owner: string, at: Date): SqlStatement[] {
    const r = this.records;
    const array = r.driverKind === 'postgres';
    const padded = array ? [] : paddedIds(ids);
    const size = array ? ids.length : padded.length;
    const dates = (['startedAt', 'heartbeatAt', 'updatedAt'] as const).filter((key) => r.has(key));
    const returning = r.returning;
    const holder = r.col('owner').sql;
    let index = 0;
    const p = () => r.placeholder(++index);
    const sql = r.text(`claim:${array ? 'array' : size}`, () => {
      const set = [`${r.statusSql} = ${p()}`, `${holder} = ${p()}`, ...dates.map((key) => `${r.col(key).sql} = ${p()}`)];
      const idList = array ? `= ANY(${p()}::${postgresValueType(r.col('id'), r.driver)}[])` : `IN (${Array.from({ length: size }, p).join(', ')})`;
      return `UPDATE ${r.mapping.table} SET ${set.join(', ')} WHERE ${r.idSql} ${idList} AND ${r.statusBesideId('', `= ${p()}`)} ` +
        `AND (${holder} IS NULL OR ${holder} = ${p()})` + (returning ? ` RETURNING ${r.selectList}` : '');
    });
    const [running, pending] = r.statusValues(['RUNNING', 'PENDING']);
    const params = [running, owner, ...dates.map((key) => r.encode(key, at)), ...(array ? [[...ids]] : padded), pending, owner];
    const claim: SqlStatement = { sql, params, read: returning };
    if (returning) return [claim];
    const read = r.text(`claimed:${size}`, () => {
      let n = 0;
      return `SELECT ${r.selectList} FROM ${r.mapping.table} WHERE ${r.idSql} IN (${Array.from({ length: size }, () => r.placeholder(++n)).join(', ')}) ` +
        `AND ${holder} = ${r.placeholder(++n)} AND ${r.statusSql} = ${r.placeholder(++n)}`;
    });
    return [claim, { sql: read, params: [...padded, owner, running], read: true }];
  }

  /**
   * One heartbeat: `heartbeatAt` on the records among `ids` that `owner` still holds, unfinished
   * and with no cancel request. Its changed-row count, compared with `ids`, tells whether anything
   * changed hands. Only the listed records are beaten: one the owner no longer tracks (its
   * terminal write refused) falls silent and is taken back.
   */
  heartbeat(owner: string, at: Date, ids: readonly string[]): SqlStatement {
    const r = this.records;
    const waiting = r.has('cancelRequestedAt') ? ` AND ${r.col('cancelRequestedAt').sql} IS NULL` : '';
    let index = 4;
    // Not cached: its text varies with the number of ids, and it runs once per interval.
    const sql = `UPDATE ${r.mapping.table} SET ${r.col('heartbeatAt').sql} = ${r.placeholder(1)} ` +
      `WHERE ${r.col('owner').sql} = ${r.placeholder(2)} AND ${r.statusBesideId('', `IN (${r.placeholder(3)}, ${r.placeholder(4)})`)}` +
      `${waiting} AND ${r.idSql} IN (${ids.map(() => r.placeholder(++index)).join(', ')})`;
    return { sql, params: [r.encode('heartbeatAt', at), owner, ...r.statusValues(ACTIVE_STATUSES), ...ids] };
  }

  /** Owner, status and cancel request of the records `ids`. */
  holdersOf(ids: readonly string[]): SqlStatement {
    const r = this.records;
    const q = (name: string) => r.driver.escape(name);
    const cancel = r.has('cancelRequestedAt') ? r.col('cancelRequestedAt').sql : 'NULL';
    let index = 0;
    return {
      sql: `SELECT ${r.idSql} AS ${q('id')}, ${r.col('owner').sql} AS ${q('owner')}, ${r.statusSql} AS ${q('status')}, ` +
        `${cancel} AS ${q('cancelRequestedAt')} FROM ${r.mapping.table} WHERE ${r.idSql} IN (${ids.map(() => r.placeholder(++index)).join(', ')})`,
      params: [...ids],
      read: true,
    };
  }

  /** Unfinished records counted by owner and status, with each owner's latest heartbeat. */
  fleet(): SqlStatement {
    const r = this.records;
    const owner = r.col('owner').sql;
    const q = (name: string) => r.driver.escape(name);
    return {
      sql: `SELECT ${owner} AS ${q('owner')}, ${r.statusSql} AS ${q('status')}, MAX(${this.lastSignOfLife()}) AS ${q('heartbeatAt')}, ` +
        `COUNT(*) AS ${q('n')} FROM ${r.mapping.table} WHERE ${r.statusSql} IN (${r.placeholder(1)}, ${r.placeholder(2)}) ` +
        `GROUP BY ${owner}, ${r.statusSql}`,
      params: r.statusValues(ACTIVE_STATUSES),
      read: true,
    };
  }

  /** Decodes a heartbeat read back by an aggregate (MAX keeps the column's stored form). */
  decodeHeartbeat(raw: unknown): Date | null {
    const r = this.records;
    const value = decodeValue(r.col('heartbeatAt'), raw, r.driver, r.mapping);
    return value instanceof Date && !Number.isNaN(value.getTime()) ? value : null;
  }

  /** Unfinished records held by an owner other than `except`, optionally only those silent since `silentSince`. */
  ownedByOthers(except: string, silentSince: Date | undefined): SqlStatement {
    const r = this.records;
    const owner = r.col('owner').sql;
    const where = [`${r.statusSql} IN (${r.placeholder(1)}, ${r.placeholder(2)})`, `${owner} IS NOT NULL`, `${owner} <> ${r.placeholder(3)}`];
    const params: unknown[] = [...r.statusValues(ACTIVE_STATUSES), except];
    if (silentSince) {
      const lastSign = this.lastSignOfLife();
      where.push(`(${lastSign} IS NULL OR ${lastSign} < ${r.placeholder(4)})`);
      params.push(r.encode('heartbeatAt', silentSince));
    }
    return { sql: `SELECT ${r.selectList} FROM ${r.mapping.table} WHERE ${where.join(' AND ')}`, params, read: true };
  }

  /** A compare-and-set change: applies only while the record is unfinished, held by `owner`, with that heartbeat. */
  takeOver(id: string, owner: string, heartbeatAt: Date | null, patch: RecordPatch): SqlStatement | null {
    const r = this.records;
    const keys = r.keysOf(r.keySet(patch));
    if (keys.length === 0) return null;
    let index = 0;
    const set = keys.map((key) => `${r.col(key).sql} = ${r.placeholder(++index)}`).join(', ');
    const heartbeat = r.col('heartbeatAt').sql;
    const where = [
      `${r.idSql} = ${r.placeholder(++index)}`,
      r.statusBesideId('', `IN (${r.placeholder(++index)}, ${r.placeholder(++index)})`),
      `${r.col('owner').sql} = ${r.placeholder(++index)}`,
      heartbeatAt ? `${heartbeat} = ${r.placeholder(++index)}` : `${heartbeat} IS NULL`,
    ];
    const params = keys.map((key) => r.encode(key, patch[key as keyof RecordPatch]));
    params.push(id, ...r.statusValues(ACTIVE_STATUSES), owner);
    if (heartbeatAt) params.push(r.encode('heartbeatAt', heartbeatAt));
    return { sql: `UPDATE ${r.mapping.table} SET ${set} WHERE ${where.join(' AND ')}`, params };
  }

  /**
   * A record's last sign of life, as SQL: its heartbeat, or its creation before the first beat
   * (a launch does not write a heartbeat, sparing a column per insert). Only where both columns
   * store dates alike can one stand in for the other.
   */
  private lastSignOfLife(): string {
    const r = this.records;
    const heartbeat = r.col('heartbeatAt');
    const created = r.mapping.columns.get('createdAt');
    return created?.kind === heartbeat.kind ? `COALESCE(${heartbeat.sql}, ${created.sql})` : heartbeat.sql;
  }
}
