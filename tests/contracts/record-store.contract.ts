import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TaskConflictError, type RecordPatch, type RecordStore, type TaskRecord } from '../../src/index.js';
import { newTaskId } from '../../src/manager/task-id.js';
import type { StoreFixture } from './store-fixtures.js';

/** A PENDING record as `launch()` makes it, with `fields` over the defaults. */
export function pendingRecord(fields: Partial<TaskRecord> = {}, at = new Date()): TaskRecord {
  return {
    id: newTaskId(at.getTime()), taskName: 'export', label: 'Export orders', status: 'PENDING', message: null,
    progress: null, user: 'ann', affected: 'order:42', input: { since: '2026-01-01', ids: [1, 2] }, result: null,
    error: null, cleanedUp: false, createdAt: at, startedAt: null, updatedAt: at, completedAt: null, failedAt: null,
    duration: null, owner: null, heartbeatAt: null, cancelRequestedAt: null, cancelRequestedBy: null, ...fields,
  };
}

/** What `finish()` hands the store for a terminal state. */
function terminal(status: 'DONE' | 'FAILED' | 'CANCELLED', at: Date, extra: RecordPatch = {}): RecordPatch {
  return { status, updatedAt: at, completedAt: at, duration: 1.5, ...(status === 'FAILED' ? { failedAt: at } : {}), ...extra };
}

/**
 * What every {@link RecordStore} must do, whatever it stores records in. The manager relies on
 * each of these; a new store passes this suite before it is offered to hosts.
 */
export function recordStoreContract(fixture: StoreFixture): void {
  describe.skipIf(fixture.skipReason)(`RecordStore contract: ${fixture.name}`, () => {
    let store: RecordStore;
    beforeEach(async () => {
      store = await fixture.open();
    });
    afterEach(async () => {
      await fixture.close();
    });

    async function write(id: string, patch: RecordPatch): Promise<void> {
      store.update(id, patch);
      await store.flush();
    }

    it('reads back a created record field for field, and null for an unknown id', async () => {
      const created = pendingRecord({}, new Date('2026-03-30T14:22:01.123Z'));
      await store.create(created);
      expect(await store.get(created.id)).toEqual(created);
      expect(await store.get(newTaskId())).toBeNull();
    });

    it('applies changes to PENDING and RUNNING records, merging every change made before a flush', async () => {
      const record = pendingRecord();
      await store.create(record);
      const started = new Date(record.createdAt!.getTime() + 1000);
      store.update(record.id, { status: 'RUNNING', startedAt: started, updatedAt: started });
      store.update(record.id, { progress: 40, message: 'Reading rows', updatedAt: started });
      await store.flush();
      expect(await store.get(record.id)).toMatchObject({ status: 'RUNNING', startedAt: started, progress: 40, message: 'Reading rows' });
      const done = new Date(started.getTime() + 1500);
      await write(record.id, terminal('DONE', done, { result: { rows: 1200, names: ['a', 'ü'] }, message: 'Finished' }));
      expect(await store.get(record.id)).toMatchObject({
        status: 'DONE', completedAt: done, duration: 1.5, result: { rows: 1200, names: ['a', 'ü'] }, message: 'Finished', progress: 40,
      });
    });

    it('never changes a record again once it is terminal, in the same flush or a later one', async () => {
      const sameFlush = pendingRecord();
      const laterFlush = pendingRecord();
      await store.create(sameFlush);
      await store.create(laterFlush);
      const at = new Date();
      store.update(sameFlush.id, terminal('CANCELLED', at, { message: 'Cancelled' }));
      store.update(sameFlush.id, terminal('DONE', at, { result: 'late' }));
      await write(laterFlush.id, terminal('FAILED', at, { error: 'boom', message: 'boom' }));
      await write(laterFlush.id, { status: 'RUNNING', progress: 99, message: 'stale progress' });
      await store.flush();
      expect(await store.get(sameFlush.id)).toMatchObject({ status: 'CANCELLED', message: 'Cancelled', result: null });
      expect(await store.get(laterFlush.id)).toMatchObject({ status: 'FAILED', error: 'boom', message: 'boom', progress: null });
    });

    it('marks a record cleaned up whatever its status', async () => {
      const finished = pendingRecord();
      const pending = pendingRecord();
      await store.create(finished);
      await store.create(pending);
      const at = new Date();
      store.update(finished.id, terminal('DONE', at));
      store.markCleanedUp(finished.id, at, false);
      store.markCleanedUp(pending.id, at, false);
      await store.flush();
      expect(await store.get(finished.id)).toMatchObject({ status: 'DONE', cleanedUp: true });
      expect(await store.get(pending.id)).toMatchObject({ status: 'PENDING', cleanedUp: true });
    });

    it('refuses a lock held by an unfinished task, writing nothing, and frees it when the holder ends', async () => {
      const holder = pendingRecord();
      await store.create(holder, ['order:1', 'order:2']);
      const refused = pendingRecord();
      const error = await store.create(refused, ['order:2', 'order:3']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TaskConflictError);
      expect(error).toMatchObject({ code: 'TASK_CONFLICT', objects: ['order:2'], heldBy: holder.id });
      expect(await store.get(refused.id)).toBeNull();
      // order:3 was not kept by the refused launch.
      const third = pendingRecord();
      await store.create(third, ['order:3']);
      const at = new Date();
      store.update(holder.id, terminal('DONE', at));
      store.markCleanedUp(holder.id, at, true);
      await store.flush();
      const next = pendingRecord();
      await store.create(next, ['order:1', 'order:2']);
      expect(await store.get(next.id)).toMatchObject({ status: 'PENDING' });
    });

    it('treats the locks of a task that ended without releasing them as free', async () => {
      const crashed = pendingRecord();
      await store.create(crashed, ['invoice:7']);
      await write(crashed.id, terminal('FAILED', new Date(), { error: 'worker died' }));
      const next = pendingRecord();
      await store.create(next, ['invoice:7']);
      expect(await store.get(next.id)).not.toBeNull();
    });

    it('lists newest first, filters by status and pages through every record with the cursor', async () => {
      const base = Date.parse('2026-05-01T10:00:00.000Z');
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const record = pendingRecord({}, new Date(base + i * 1000));
        await store.create(record);
        ids.push(record.id);
      }
      await write(ids[1], terminal('DONE', new Date(base + 10_000)));
      await write(ids[4], terminal('FAILED', new Date(base + 10_000), { error: 'x' }));
      await write(ids[5], { status: 'RUNNING', startedAt: new Date(base + 6000) });
      const seen: string[] = [];
      let before: string | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await store.list({ limit: 3, ...(before ? { before } : {}) });
        seen.push(...page.tasks.map((task) => task.id));
        if (!page.nextCursor) break;
        expect(page.nextCursor).toBe(page.tasks[page.tasks.length - 1].id);
        before = page.nextCursor;
      }
      expect(seen).toEqual([...ids].reverse());
      const finished = await store.list({ limit: 10, status: ['DONE', 'FAILED'] });
      expect(finished).toEqual({ tasks: [expect.objectContaining({ id: ids[4] }), expect.objectContaining({ id: ids[1] })], nextCursor: null });
      const older = await store.list({ limit: 10, status: ['PENDING'], before: ids[3] });
      expect(older.tasks.map((task) => task.id)).toEqual([ids[2], ids[0]]);
    });

    it('fails every unfinished record when abandoning, and nothing else', async () => {
      const pending = pendingRecord();
      const running = pendingRecord();
      const done = pendingRecord();
      for (const record of [pending, running, done]) await store.create(record);
      await write(running.id, { status: 'RUNNING', startedAt: new Date() });
      await write(done.id, terminal('DONE', new Date(), { result: 1 }));
      const at = new Date('2026-06-01T00:00:00.000Z');
      expect(await store.abandonActive('Abandoned — app restarted', at)).toBe(2);
      for (const record of [pending, running]) {
        expect(await store.get(record.id)).toMatchObject({
          status: 'FAILED', message: 'Abandoned — app restarted', error: 'Abandoned — app restarted', failedAt: at, completedAt: at,
        });
      }
      expect(await store.get(done.id)).toMatchObject({ status: 'DONE', result: 1 });
    });

    it('sweeps finished records older than the cutoff: marks or deletes them, releases their locks, names their kinds', async () => {
      const old = new Date('2026-01-01T00:00:00.000Z');
      const recent = new Date('2026-02-01T00:00:00.000Z');
      const oldDone = pendingRecord({ taskName: 'export' }, old);
      const oldFailed = pendingRecord({ taskName: 'import' }, old);
      const recentDone = pendingRecord({ taskName: 'report' }, recent);
      const running = pendingRecord({ taskName: 'sync' }, old);
      await store.create(oldDone, ['customer:9']);
      for (const record of [oldFailed, recentDone, running]) await store.create(record);
      store.update(oldDone.id, terminal('DONE', old));
      store.update(oldFailed.id, terminal('FAILED', old, { error: 'x' }));
      store.update(recentDone.id, terminal('DONE', recent));
      store.update(running.id, { status: 'RUNNING', startedAt: old });
      await store.flush();
      const cutoff = new Date('2026-01-15T00:00:00.000Z');
      const marked = await store.cleanup(cutoff, false);
      expect(marked).toMatchObject({ locksReleased: 1, recordsMarked: 2, recordsDeleted: 0 });
      expect([...marked.taskNames].sort()).toEqual(['export', 'import']);
      expect(await store.get(oldDone.id)).toMatchObject({ cleanedUp: true });
      expect(await store.get(recentDone.id)).toMatchObject({ cleanedUp: false });
      expect(await store.cleanup(cutoff, false)).toMatchObject({ recordsMarked: 0, taskNames: [] });
      const deleted = await store.cleanup(cutoff, true);
      expect(deleted).toMatchObject({ recordsMarked: 0, recordsDeleted: 2 });
      expect(await store.get(oldDone.id)).toBeNull();
      expect(await store.get(oldFailed.id)).toBeNull();
      expect(await store.get(recentDone.id)).not.toBeNull();
      expect(await store.get(running.id)).toMatchObject({ status: 'RUNNING' });
    });

    it('makes writes durable for another store on the same database once flushed', async (context) => {
      if (!fixture.shared) context.skip();
      const record = pendingRecord();
      await store.create(record);
      store.update(record.id, { status: 'RUNNING', startedAt: new Date() });
      await store.flush();
      const other = await fixture.openAnother();
      expect(await other.get(record.id)).toMatchObject({ status: 'RUNNING' });
      await other.create(pendingRecord(), ['shared:1']);
      const error = await store.create(pendingRecord(), ['shared:1']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TaskConflictError);
    });
  });
}
