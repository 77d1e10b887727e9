import type { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { TypeOrmRecordStore } from '../../src/index.js';
import { pendingRecord } from '../contracts/record-store.contract.js';
import { engines, tableName, type Engine } from '../helpers/data-sources.js';
import { applyFenceMatrix, expectFenceOutcomes, fenceMatrix } from '../helpers/fence-matrix.js';
import { recordStatements } from '../helpers/statements.js';
import { recordingLogger } from '../helpers/wait.js';

const at = (offsetMs: number) => new Date(Date.parse('2026-07-01T12:00:00.000Z') + offsetMs);
const record = (fields: Parameters<typeof pendingRecord>[0]) => pendingRecord(fields, at(0));

// The multi-row form of each database: VALUES on SQLite, arrays on PostgreSQL, a UNION ALL
// derived table on MySQL and MariaDB.
const FORMS = { sqlite: 'FROM (VALUES', postgres: 'FROM unnest(', mysql: 'UNION ALL SELECT' } as const;

const FINISHED = 20_000;
const BACKLOG = 3_000;
const BATCH = 50;

/** The plan the database would choose for `sql`, as text. */
async function planOf(engine: Engine, dataSource: DataSource, sql: string, params: unknown[]): Promise<string> {
  if (engine.name === 'postgres') {
    const rows = await dataSource.query<{ 'QUERY PLAN': string }[]>(`EXPLAIN ${sql}`, params);
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  }
  if (engine.name === 'mysql') {
    // One row per table read: how (`type`, ALL for a full scan), by which index (`key`), and how
    // many rows it expects to read there (`rows`, from index dives at plan time).
    const rows = await dataSource.query<{ table: string | null; type: string; key: string | null; rows: number | string }[]>(`EXPLAIN ${sql}`, params);
    // The record table's rows only: a multi-row change also reads its own derived table of values.
    return rows.filter((row) => row.table !== null && !row.table.startsWith('<'))
      .map((row) => `${row.type} ${row.key ?? 'no index'} rows=${String(row.rows)}`).join('\n');
  }
  const rows = await dataSource.query<{ detail: string }[]>(`EXPLAIN QUERY PLAN ${sql}`, params);
  return rows.map((row) => row.detail).join('\n');
}

for (const engine of engines) {
  describe.skipIf(engine.skipReason)(`changes shared by one statement on ${engine.name}`, () => {
    const open: DataSource[] = [];
    const stores: TypeOrmRecordStore[] = [];
    afterEach(async () => {
      for (const store of stores.splice(0)) await store.close();
      for (const dataSource of open.splice(0)) await dataSource.destroy();
    });

    async function openStore(logger = recordingLogger()) {
      const dataSource = await engine.open();
      open.push(dataSource);
      const store = new TypeOrmRecordStore({ dataSource, logger });
      stores.push(store);
      await store.open();
      return { dataSource, store, logger };
    }

    it('fences each row of a shared statement by its own record, and counts what landed', async () => {
      const { dataSource, store, logger } = await openStore();
      const cases = fenceMatrix(record, at, 9);
      await Promise.all(cases.map(({ before }) => store.create(before)));
      const updates = recordStatements(dataSource, 'UPDATE');
      await applyFenceMatrix(store, cases, at(5000));
      // 288 changes in four shapes share statements; ended records' cleanup marks (their end was
      // refused, so the mark did not fold into it) get statements of their own.
      const shared = updates.filter(({ sql }) => sql.includes(FORMS[engine.name]));
      expect(shared.length).toBeGreaterThanOrEqual(4);
      expect(shared.length).toBeLessThanOrEqual(engine.name === 'postgres' ? 4 : 4 * 4);
      expect(updates.length).toBeLessThan(cases.length / 2);
      expect(logger.lines).toEqual([]);
      await expectFenceOutcomes(store, cases, at(5000));
    });

    // Statistics gathered while nearly every record was finished make the status index look like a
    // handful of rows; a backlog launched since is thousands. A claim, an end write or a heartbeat
    // driven from that index reads the whole backlog for each batch (about 20 times slower at 10,000),
    // so the store's statements must reach their records by primary key whatever the statistics say.
    it('claims, ends and beats records by primary key when statistics say unfinished records are rare', async () => {
      const { dataSource, store } = await openStore();
      const table = tableName(dataSource, 'stablehand_task');
      await Promise.all(Array.from({ length: FINISHED }, (_, i) => store.create(pendingRecord({ status: 'DONE', completedAt: at(i), updatedAt: at(i) }, at(0)))));
      await dataSource.query(engine.name === 'sqlite' ? 'ANALYZE' : `ANALYZE${engine.name === 'mysql' ? ' TABLE' : ''} ${table}`);
      const backlog = Array.from({ length: BACKLOG }, () => pendingRecord({}, at(0)));
      await Promise.all(backlog.map((task) => store.create(task)));

      const updates = recordStatements(dataSource, 'UPDATE');
      const batch = backlog.slice(0, BATCH);
      const claimed = await Promise.all(batch.map((task) => store.claim(task.id, 'worker-1', at(100))));
      expect(claimed.every((task) => task?.status === 'RUNNING')).toBe(true);
      expect(await store.heartbeat('worker-1', at(200), batch.map((task) => task.id))).toEqual({ lost: [], cancelRequested: [] });
      for (const task of batch) store.update(task.id, { status: 'DONE', result: { ok: true }, completedAt: at(300), updatedAt: at(300) }, 'worker-1');
      await store.flush();
      expect(await store.get(batch[0].id)).toMatchObject({ status: 'DONE', result: { ok: true } });

      const statements = updates.filter((update) => update.sql.includes(dataSource.driver.escape('stablehand_task')));
      // The claim, the heartbeat and the shared end write.
      expect(statements.length).toBeGreaterThanOrEqual(3);
      for (const { sql, params } of statements) {
        const plan = await planOf(engine, dataSource, sql, params);
        expect(plan, sql).not.toMatch(/Seq Scan|SCAN stablehand_task|SCAN t\b|^ALL |no index/m);
        if (engine.name === 'mysql') {
          // MariaDB may seek (status, id) pairs on the status index: as narrow as the primary key,
          // provided it reads only the listed ids (64 at most, a padded batch), never the backlog.
          for (const [, rows] of plan.matchAll(/rows=(\d+)/g)) expect(Number(rows), `${sql}\n${plan}`).toBeLessThanOrEqual(64);
        } else {
          expect(plan, sql).not.toContain('IDX_stablehand_task_status');
        }
      }
    });
  });
}
