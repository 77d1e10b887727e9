import { Column, Entity, PrimaryColumn, type DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { TypeOrmRecordStore, type TaskRecord } from '../../src/index.js';
import { newTaskId } from '../../src/manager/task-id.js';
import { postgres, tableName } from '../helpers/data-sources.js';
import { ImportJob, importJobFieldMap, importJobStatusValues } from '../helpers/import-job-entity.js';
import { applyFenceMatrix, expectFenceOutcomes, fenceMatrix } from '../helpers/fence-matrix.js';
import { recordStatements } from '../helpers/statements.js';
import { recordingLogger } from '../helpers/wait.js';

const STATE_WORDS = ['queued', 'working', 'ok', 'broken', 'stopped'];

/**
 * A host model in other PostgreSQL types than the bundled one: a uuid id, an enum status, jsonb
 * and json, an integer progress, a numeric duration, timestamptz dates, a short varchar message.
 */
@Entity('typed_job')
class TypedJob {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ name: 'kind', type: 'varchar', length: 80 }) taskName!: string;
  @Column({ type: 'enum', enum: STATE_WORDS }) status!: string;
  @Column({ type: 'varchar', length: 40, nullable: true }) message!: string | null;
  @Column({ type: 'integer', nullable: true }) progress!: number | null;
  @Column({ name: 'started_by', type: 'text', nullable: true }) user!: string | null;
  @Column({ type: 'jsonb', nullable: true }) input!: unknown;
  @Column({ type: 'json', nullable: true }) result!: unknown;
  @Column({ type: 'text', nullable: true }) error!: string | null;
  @Column({ name: 'cleaned', type: 'boolean', default: false }) cleanedUp!: boolean;
  @Column({ type: 'timestamptz', precision: 3 }) createdAt!: Date;
  @Column({ type: 'timestamptz', precision: 3, nullable: true }) startedAt!: Date | null;
  @Column({ type: 'timestamptz', precision: 3 }) updatedAt!: Date;
  @Column({ type: 'timestamptz', precision: 3, nullable: true }) completedAt!: Date | null;
  @Column({ type: 'timestamptz', precision: 3, nullable: true }) failedAt!: Date | null;
  @Column({ type: 'numeric', precision: 10, scale: 3, nullable: true }) duration!: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) owner!: string | null;
  @Column({ type: 'timestamptz', precision: 3, nullable: true }) heartbeatAt!: Date | null;
  @Column({ type: 'timestamptz', precision: 3, nullable: true }) cancelRequestedAt!: Date | null;
  @Column({ type: 'varchar', length: 120, nullable: true }) cancelRequestedBy!: string | null;
}

const typedStatusValues = { PENDING: 'queued', RUNNING: 'working', DONE: 'ok', FAILED: 'broken', CANCELLED: 'stopped' } as const;
const typedFieldMap = { label: null, affected: null } as const;

const t0 = Date.parse('2026-05-04T08:09:10.123Z');
const at = (offsetMs: number) => new Date(t0 + offsetMs);

/** A record of the typed model as created, with `fields` over the defaults. */
function typedRecord(fields: Partial<TaskRecord>): TaskRecord {
  return {
    id: newTaskId(), taskName: 'import', label: null, status: 'PENDING', message: null, progress: null, user: 'ann',
    affected: null, input: { file: 'orders.csv', columns: ['id', 'total'], strict: true }, result: null, error: null,
    cleanedUp: false, createdAt: at(0), startedAt: null, updatedAt: at(0), completedAt: null, failedAt: null,
    duration: null, owner: null, heartbeatAt: null, cancelRequestedAt: null, cancelRequestedBy: null, attempt: null, maxAttempts: null, retryAt: null, attemptErrors: null,
        retryOf: null, retriedAs: null, retriedBy: null, retriedAt: null, milestones: null, ...fields,
  };
}

describe.skipIf(postgres.skipReason)('multi-row guarded updates on PostgreSQL', () => {
  const open: DataSource[] = [];
  const stores: TypeOrmRecordStore[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const dataSource of open.splice(0)) await dataSource.destroy();
  });

  async function storeOn(entity: typeof ImportJob | typeof TypedJob) {
    const dataSource = await postgres.open([entity]);
    open.push(dataSource);
    const logger = recordingLogger();
    const store = entity === ImportJob
      ? new TypeOrmRecordStore({ dataSource, entity, fieldMap: importJobFieldMap, statusValues: importJobStatusValues, logger })
      : new TypeOrmRecordStore({ dataSource, entity, fieldMap: typedFieldMap, statusValues: typedStatusValues, logger });
    await store.open();
    stores.push(store);
    return { dataSource, store, logger, updates: recordStatements(dataSource, 'UPDATE') };
  }

  it('changes hundreds of records of a host entity (text, varchar, simple-json, Date) a few statements a flush, skipping ended ones', async () => {
    const { dataSource, store, logger, updates } = await storeOn(ImportJob);
    const records = Array.from({ length: 300 }, (_, i) => typedRecord({ input: { row: i } }));
    await Promise.all(records.map((record) => store.create(record)));
    // Every fifth record has ended already: the guard must skip it inside a shared statement.
    for (let i = 0; i < records.length; i += 5) store.update(records[i].id, { status: 'CANCELLED', message: 'Cancelled', completedAt: at(500) });
    await store.flush();
    updates.length = 0;
    for (const [i, record] of records.entries()) {
      if (i % 2 === 0) {
        store.update(record.id, { status: 'RUNNING', progress: { percent: 40, step: 'rows' }, message: `row ${i}` });
      } else {
        store.update(record.id, { status: 'DONE', message: 'Imported', result: { rows: i, ok: true }, completedAt: at(1000 + i) });
        store.markCleanedUp(record.id, at(1000 + i), false);
      }
    }
    await store.flush();
    // Two shapes of 150 records, one statement each: rows go as one array per column.
    expect(updates).toHaveLength(2);
    for (const { sql } of updates) expect(sql).toContain('FROM unnest(');
    expect(logger.lines).toEqual([]);
    for (const [i, record] of records.entries()) {
      const read = await store.get(record.id);
      if (i % 5 === 0) expect(read).toMatchObject({ status: 'CANCELLED', message: 'Cancelled', completedAt: at(500), result: null });
      else if (i % 2 === 0) expect(read).toMatchObject({ status: 'RUNNING', progress: { percent: 40, step: 'rows' }, message: `row ${i}`, input: { row: i } });
      // A text column keeps the result as JSON text.
      else expect(read).toMatchObject({ status: 'DONE', message: 'Imported', result: JSON.stringify({ rows: i, ok: true }), completedAt: at(1000 + i) });
    }
    const rows = await dataSource.query<{ state: string; n: string }[]>(
      `SELECT state, COUNT(*) AS n FROM ${tableName(dataSource, 'import_job')} GROUP BY state ORDER BY state`,
    );
    expect(rows.map((row) => [row.state, Number(row.n)])).toEqual([['cancelled', 60], ['in_progress', 120], ['success', 120]]);
  });

  it('fences each row of a shared statement by its own record on a host entity of other types (uuid, enum, jsonb, numeric, timestamptz)', async () => {
    const { store, logger, updates } = await storeOn(TypedJob);
    const cases = fenceMatrix(typedRecord, at, 9);
    await Promise.all(cases.map(({ before }) => store.create(before)));
    updates.length = 0;
    await applyFenceMatrix(store, cases, at(5000));
    // Four shapes of 72 records each, one statement a shape.
    expect(updates.filter(({ sql }) => sql.includes('FROM unnest('))).toHaveLength(4);
    expect(logger.lines).toEqual([]);
    await expectFenceOutcomes(store, cases, at(5000));
  });

  it('cuts a value too long for its column to fit, with a mark, and lands the whole statement', async () => {
    const { store, logger } = await storeOn(TypedJob);
    const records = Array.from({ length: 20 }, () => typedRecord({ status: 'RUNNING', owner: 'w1', heartbeatAt: at(10) }));
    await Promise.all(records.map((record) => store.create(record)));
    const long = 'x'.repeat(41);
    for (const [i, record] of records.entries()) {
      store.update(record.id, { status: 'DONE', message: i === 7 ? long : 'Done', completedAt: at(5000), updatedAt: at(5000) }, 'w1');
    }
    await store.flush();
    for (const [i, record] of records.entries()) {
      expect(await store.get(record.id)).toMatchObject({ status: 'DONE', completedAt: at(5000), message: i === 7 ? `${'x'.repeat(39)}…` : 'Done' });
    }
    expect(logger.lines.filter((line) => line.startsWith('error'))).toEqual([]);
  });

  it('lands the status of a change refused for good even when it is alone in its flush, and never retries it for ever', async () => {
    const { store, logger } = await storeOn(TypedJob);
    const record = typedRecord({ status: 'RUNNING', owner: 'w1', heartbeatAt: at(10) });
    await store.create(record);
    store.update(record.id, { status: 'DONE', progress: 5e9, completedAt: at(5000), updatedAt: at(5000) }, 'w1');
    // Resolves: the write is settled (partly) rather than retried with backoff for as long as it takes.
    await store.flush();
    expect(await store.get(record.id)).toMatchObject({ status: 'DONE', completedAt: at(5000), progress: null });
    expect(logger.lines.filter((line) => line.startsWith('error'))).toEqual([
      expect.stringMatching(new RegExp(`refused a change to task record ${record.id}; its status and timestamps were written .*: .*out of range`)),
    ]);
  });

  it('lands the rest of a statement when the database refuses one record\'s value for good, and says so once', async () => {
    const { store, logger } = await storeOn(TypedJob);
    const records = Array.from({ length: 20 }, () => typedRecord({ status: 'RUNNING', owner: 'w1', heartbeatAt: at(10) }));
    await Promise.all(records.map((record) => store.create(record)));
    // Out of range for an integer column: nothing a value can be cut to.
    for (const [i, record] of records.entries()) {
      store.update(record.id, { status: 'DONE', progress: i === 7 ? 5e9 : 50, completedAt: at(5000), updatedAt: at(5000) }, 'w1');
    }
    await store.flush();
    for (const [i, record] of records.entries()) {
      expect(await store.get(record.id)).toMatchObject({ status: 'DONE', completedAt: at(5000), progress: i === 7 ? null : 50 });
    }
    expect(logger.lines.filter((line) => line.startsWith('error'))).toEqual([
      expect.stringMatching(new RegExp(`refused a change to task record ${records[7].id}; its status and timestamps were written .*: .*out of range`)),
    ]);
  });

  it('inserts a flush of records as arrays, one statement per thousand, keeping every awkward value as given', async () => {
    const { dataSource, store, logger } = await storeOn(TypedJob);
    const inserts = recordStatements(dataSource, 'INSERT');
    // What an array literal must escape: quotes, backslashes, commas, braces, a word it reads as
    // NULL, blanks at the ends, and text beyond ASCII.
    const awkward = ['a "quoted" word', 'back\\slash \\" mixed', 'comma, {braces}', 'NULL', 'null', ' padded ', '', 'ünïcödé ✓ 日本', '\'single\''];
    const records = Array.from({ length: 1_200 }, (_, i) => typedRecord({
      taskName: `import ${awkward[i % awkward.length]}`.slice(0, 80),
      user: awkward[(i + 3) % awkward.length],
      input: i % 7 === 0 ? null : { text: awkward[i % awkward.length], list: [1, 'two', null, { three: [3] }], n: i },
      createdAt: at(i), updatedAt: at(i),
    }));
    await Promise.all(records.map((record) => store.create(record)));
    expect(inserts.map(({ sql }) => sql)).toEqual([expect.stringContaining('SELECT * FROM unnest('), expect.stringContaining('SELECT * FROM unnest(')]);
    for (const record of records) expect(await store.get(record.id)).toEqual(record);
    expect(logger.lines).toEqual([]);
  });

  it('refuses at start a fieldMap that maps a key to a native array column', async () => {
    @Entity('listed_job')
    class ListedJob {
      @PrimaryColumn({ type: 'varchar', length: 36 }) id!: string;
      @Column({ name: 'kind', type: 'varchar', length: 80 }) taskName!: string;
      @Column({ type: 'varchar', length: 20 }) status!: string;
      @Column({ type: 'text', array: true, nullable: true }) affected!: string[] | null;
      @Column({ type: 'timestamptz' }) createdAt!: Date;
    }
    const dataSource = await postgres.open([ListedJob]);
    open.push(dataSource);
    const store = new TypeOrmRecordStore({ dataSource, entity: ListedJob, fieldMap: { label: null } });
    await expect(store.open()).rejects.toThrow(/fieldMap\.affected maps to "affected" of entity ListedJob, an array column/);
  });
});
