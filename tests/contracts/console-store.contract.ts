import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveListQuery, type ListTasksOptions } from '../../src/core/list-query.js';
import { indexKeysOf, wordKey } from '../../src/core/task-keys.js';
import type { RecordStore, TaskRecord, TaskStatus } from '../../src/index.js';
import { newTaskId } from '../../src/manager/task-id.js';
import { pendingRecord } from './record-store.contract.js';
import type { StoreFixture } from './store-fixtures.js';

const T0 = Date.parse('2026-06-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms);

/**
 * What the operator's console asks of every {@link RecordStore}: pages and counts by affected key
 * and search, newer and older paging, the retry link, and the aggregates of metrics.
 */
export function consoleStoreContract(fixture: StoreFixture): void {
  describe.skipIf(fixture.skipReason)(`RecordStore console contract: ${fixture.name}`, () => {
    let store: RecordStore;
    beforeEach(async () => {
      store = await fixture.open();
    });
    afterEach(async () => {
      await fixture.close();
    });

    /** Creates records one millisecond apart (ids in creation order) with their keys. */
    async function seed(specs: { affected?: string[]; words?: string; status?: TaskStatus; taskName?: string; duration?: number }[], start = 0) {
      const made: TaskRecord[] = [];
      for (const [i, spec] of specs.entries()) {
        const record = pendingRecord({ taskName: spec.taskName ?? 'export', label: spec.words ?? 'Export orders' }, at(start + i));
        await store.create(record, [], indexKeysOf(spec.affected ?? [], [record.taskName, record.label]));
        if (spec.status && spec.status !== 'PENDING') {
          const end = at(start + i + 500);
          store.update(record.id, {
            status: spec.status, updatedAt: end, completedAt: end, duration: spec.duration ?? null, ...(spec.status === 'FAILED' ? { failedAt: end } : {}),
          });
        }
        made.push(record);
      }
      await store.flush();
      return made;
    }

    const list = (options: ListTasksOptions) => store.list(resolveListQuery(options));
    const ids = (records: readonly TaskRecord[]) => records.map((record) => record.id);

    it('lists the tasks that touched an object, newest first, paging both ways and within a status', async () => {
      const records = await seed(Array.from({ length: 9 }, (_, i) => ({
        affected: i % 3 === 0 ? ['order:42', 'customer:7'] : ['order:43'], status: i % 2 === 0 ? 'DONE' : 'FAILED',
      })));
      const touched = records.filter((_, i) => i % 3 === 0).reverse();
      expect(ids((await list({ affected: 'order:42' })).tasks)).toEqual(ids(touched));
      expect(ids((await list({ affected: 'Order:42' })).tasks)).toEqual(ids(touched));
      expect((await list({ affected: 'order:44' })).tasks).toEqual([]);
      const first = await list({ affected: 'order:43', limit: 4 });
      expect(first.tasks).toHaveLength(4);
      const second = await list({ affected: 'order:43', limit: 4, before: first.nextCursor ?? '' });
      expect(ids(second.tasks)).toEqual(ids(records.filter((_, i) => i % 3 !== 0).reverse().slice(4)));
      expect(second.nextCursor).toBeNull();
      const back = await list({ affected: 'order:43', limit: 2, after: second.tasks[0].id });
      expect(ids(back.tasks)).toEqual(ids(first.tasks.slice(2)));
      expect(back.prevCursor).toBe(first.tasks[2].id);
      expect(ids((await list({ affected: 'order:42', status: 'FAILED' })).tasks)).toEqual(ids(touched.filter((r) => records.indexOf(r) % 2 === 1)));
      expect(await store.count(resolveListQuery({ affected: 'order:42' }))).toEqual({ DONE: 2, FAILED: 1 });
      expect(await store.keysOf(touched[0].id)).toEqual(expect.arrayContaining(['order:42', 'customer:7', wordKey('export')]));
    });

    it('pages newer tasks from a cursor, oldest of them first read, listed newest first', async () => {
      const records = await seed(Array.from({ length: 7 }, () => ({})));
      const newest = [...records].reverse();
      const newer = await list({ after: records[1].id, limit: 3 });
      expect(ids(newer.tasks)).toEqual(ids([records[4], records[3], records[2]]));
      expect(newer.prevCursor).toBe(records[4].id);
      expect(newer.nextCursor).toBe(records[2].id);
      const top = await list({ after: records[4].id, limit: 3 });
      expect(ids(top.tasks)).toEqual(ids(newest.slice(0, 2)));
      expect(top.prevCursor ?? null).toBeNull();
      expect(await store.count({})).toEqual({ PENDING: 7 });
    });

    it('searches words (all must match) by key rows or by kind, affected keys, and ids by prefix', async () => {
      const records = await seed([
        { taskName: 'csv-import', words: 'Import orders from Zürich' },
        { taskName: 'csv-import', words: 'Import customers', affected: ['order:42'] },
        { taskName: 'report', words: 'Monthly report: orders', status: 'DONE' },
      ]);
      const search = async (text: string) => ids((await list({ search: text })).tasks);
      expect(await search('import')).toEqual(ids([records[1], records[0]]));
      expect(await search('ORDERS import')).toEqual(ids([records[0]]));
      expect(await search('zürich')).toEqual(ids([records[0]]));
      expect(await search('csv-import customers')).toEqual(ids([records[1]]));
      expect(await search('order:42')).toEqual(ids([records[1]]));
      expect(await search('nothing')).toEqual([]);
      expect(await search(records[2].id)).toEqual(ids([records[2]]));
      expect(await search(records[2].id.slice(0, 13))).toEqual(ids([...records].reverse()));
      const counted = await store.count(resolveListQuery({ search: records[0].id.slice(0, 13) }));
      expect(counted).toEqual({ PENDING: 2, DONE: 1 });
      expect(await store.count(resolveListQuery({ search: 'orders' }))).toEqual({ PENDING: 1, DONE: 1 });
      // Words every task of a kind shares are matched on the kind column, as the manager asks.
      const byKind = resolveListQuery({ search: 'monthly orders' });
      const kinds = { ...byKind, search: { terms: byKind.search!.terms.map((term) => ({ ...term, kinds: term.key === wordKey('monthly') ? ['report'] : [] })) } };
      await store.create(pendingRecord({ taskName: 'report', label: 'Monthly report' }, at(50)), [], [wordKey('orders')]);
      const [kindOnly] = (await store.list({ ...kinds, limit: 1 })).tasks;
      expect(kindOnly.label).toBe('Monthly report');
      expect(await store.count(kinds)).toEqual({ PENDING: 1, DONE: 1 });
    });

    it('links a retry once, only on a FAILED or CANCELLED record, and unlinks it for the retry that was made', async () => {
      const [failed, done] = await seed([{ status: 'FAILED' }, { status: 'DONE' }]);
      const retry = newTaskId();
      expect(await store.linkRetry(done.id, retry, 'ann', at(9000), null)).toBe(false);
      expect(await store.linkRetry(failed.id, retry, 'ann', at(9000), null)).toBe(true);
      expect(await store.linkRetry(failed.id, newTaskId(), 'bob', at(9500), null)).toBe(false);
      expect(await store.get(failed.id)).toMatchObject({ retriedAs: retry, retriedBy: 'ann', retriedAt: at(9000) });
      const retried = pendingRecord({ id: retry, retryOf: failed.id });
      await store.create(retried);
      expect(await store.get(retry)).toMatchObject({ retryOf: failed.id, status: 'PENDING' });
      expect(await store.linkRetry(failed.id, null, null, null, retry)).toBe(true);
      expect(await store.get(failed.id)).toMatchObject({ retriedAs: null, retriedBy: null, retriedAt: null, status: 'FAILED' });
    });

    it('aggregates finished tasks of a window by kind, status and bar, with nearest-rank duration percentiles', async () => {
      const durations = [5, 1, 4, 2, 3, 10, 8, 6, 7, 9];
      await seed(durations.map((duration) => ({ status: 'DONE' as const, duration, taskName: 'export' })), 0);
      await seed([{ status: 'FAILED', taskName: 'export' }, { status: 'CANCELLED', taskName: 'report' }, { taskName: 'report' }], 600_000);
      await seed([{ status: 'DONE', taskName: 'export', duration: 1 }], 3_600_000);
      const rows = await store.metrics({ from: at(0), to: at(3_600_000), bucketMs: 300_000 });
      const counts = rows.counts.map((row) => `${row.kind}/${row.status}/${row.bucket}=${row.count}`).sort();
      expect(counts).toEqual(['export/DONE/0=10', 'export/FAILED/2=1', 'report/CANCELLED/2=1']);
      expect(rows.durations).toEqual([{ kind: 'export', p50: 5, p95: 10 }]);
    });

    it('forgets the keys of records a deleting sweep removes', async () => {
      const [old] = await seed([{ affected: ['order:42'], status: 'DONE' }]);
      await store.cleanup(at(60_000), true);
      expect(await store.get(old.id)).toBeNull();
      expect(await store.keysOf(old.id)).toEqual([]);
      expect((await list({ affected: 'order:42' })).tasks).toEqual([]);
      const [fresh] = await seed([{ affected: ['order:42'] }], 120_000);
      expect(ids((await list({ affected: 'order:42' })).tasks)).toEqual([fresh.id]);
    });

    it('keeps hostile affected ids and words as plain values', async () => {
      const hostile = `order:it's "50%"_\\ <b>ünï</b> ${'x'.repeat(150)}`;
      const key = hostile.replace(/^order/, 'order');
      const [record] = await seed([{ affected: [key], words: 'Robert\'); DROP TABLE stablehand_task;-- 100%' }]);
      expect(ids((await list({ affected: hostile })).tasks)).toEqual([record.id]);
      expect(ids((await list({ search: 'drop table' })).tasks)).toEqual([record.id]);
      expect((await list({ search: '100%' })).tasks).toHaveLength(1);
      expect((await list({ search: '_' .repeat(3) + 'x' })).tasks).toEqual([]);
    });
  });
}
