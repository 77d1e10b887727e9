import type { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { TypeOrmRecordStore, type TaskRecord } from '../../src/index.js';
import { newTaskId } from '../../src/manager/task-id.js';
import { engines } from '../helpers/data-sources.js';
import { applyFenceMatrix, expectFenceOutcomes, fenceMatrix } from '../helpers/fence-matrix.js';
import { recordStatements } from '../helpers/statements.js';
import { recordingLogger } from '../helpers/wait.js';

const at = (offsetMs: number) => new Date(Date.parse('2026-07-01T12:00:00.000Z') + offsetMs);

function record(fields: Partial<TaskRecord>): TaskRecord {
  return {
    id: newTaskId(), taskName: 'import', label: 'Import', status: 'PENDING', message: null, progress: null, user: 'ann',
    affected: null, input: { file: 'orders.csv' }, result: null, error: null, cleanedUp: false, createdAt: at(0), startedAt: null,
    updatedAt: at(0), completedAt: null, failedAt: null, duration: null, owner: null, heartbeatAt: null,
    cancelRequestedAt: null, cancelRequestedBy: null, attempt: null, maxAttempts: null, retryAt: null, attemptErrors: null,
    retryOf: null, retriedAs: null, retriedBy: null, retriedAt: null, milestones: null, ...fields,
  };
}

// The multi-row form of each database: VALUES on SQLite, arrays on PostgreSQL, a UNION ALL
// derived table on MySQL and MariaDB.
const FORMS = { sqlite: 'FROM (VALUES', postgres: 'FROM unnest(', mysql: 'UNION ALL SELECT' } as const;

for (const engine of engines) {
  describe.skipIf(engine.skipReason)(`changes shared by one statement on ${engine.name}`, () => {
    const open: DataSource[] = [];
    const stores: TypeOrmRecordStore[] = [];
    afterEach(async () => {
      for (const store of stores.splice(0)) await store.close();
      for (const dataSource of open.splice(0)) await dataSource.destroy();
    });

    it('fences each row of a shared statement by its own record, and counts what landed', async () => {
      const dataSource = await engine.open();
      open.push(dataSource);
      const logger = recordingLogger();
      const store = new TypeOrmRecordStore({ dataSource, logger });
      stores.push(store);
      await store.open();
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
  });
}
