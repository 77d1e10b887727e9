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
    duration: null, owner: null, heartbeatAt: null, cancelRequestedAt: null, cancelRequestedBy: null, attempt: null, maxAttempts: null, retryAt: null, attemptErrors: null,
        retryOf: null, retriedAs: null, retriedBy: null, retriedAt: null, milestones: null, ...fields,
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

    it('answers many reads asked at once, each with its own record, and the attempt fields as written', async () => {
      const base = new Date('2026-03-30T14:22:01.123Z');
      const records = Array.from({ length: 300 }, (_, i) => pendingRecord({ label: `Task ${i}` }, new Date(base.getTime() + i)));
      for (const record of records) await store.create(record);
      const failedAt = new Date(base.getTime() + 5_000);
      const attemptErrors = [{ attempt: 1, error: 'refused <b>once</b>', at: failedAt.toISOString() }];
      await write(records[7].id, { status: 'PENDING', attempt: 1, maxAttempts: 3, retryAt: new Date(failedAt.getTime() + 2_000), attemptErrors });
      const unknown = newTaskId();
      const ids = [...records.map((record) => record.id), unknown, records[7].id];
      const found = await Promise.all(ids.map((id) => store.get(id)));
      expect(found.slice(0, 300).map((record) => record?.label)).toEqual(records.map((record) => record.label));
      expect(found[300]).toBeNull();
      expect(found[301]).toEqual(found[7]);
      expect(found[7]).toMatchObject({ attempt: 1, maxAttempts: 3, retryAt: new Date(failedAt.getTime() + 2_000), attemptErrors });
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

    describe('ownership', () => {
      // Millisecond-precision instants with a non-zero millisecond part, so a store that rounds or
      // truncates them fails the exact comparisons below.
      const t0 = Date.parse('2026-04-02T09:15:30.123Z');
      const at = (offsetMs: number) => new Date(t0 + offsetMs);
      const sorted = (ids: readonly string[]) => [...ids].sort();

      /** A PENDING record held by `owner` (with heartbeat `at(0)`, or none when unheld), created. */
      async function held(owner: string | null, fields: Partial<TaskRecord> = {}, lockKeys: string[] = []): Promise<TaskRecord> {
        const record = pendingRecord({ owner, heartbeatAt: owner === null ? null : at(0), ...fields });
        await store.create(record, lockKeys);
        return record;
      }

      /** Like {@link held}, then started (an unfenced write, so it lands whoever holds it). */
      async function running(owner: string | null, fields: Partial<TaskRecord> = {}): Promise<TaskRecord> {
        const record = await held(owner, fields);
        await write(record.id, { status: 'RUNNING', startedAt: at(100), updatedAt: at(100) });
        return record;
      }

      /** A claim as a worker writes it: it takes the record and starts it. A fresh object per call. */
      function claim(owner: string, when = at(2000)): RecordPatch {
        return { owner, heartbeatAt: when, status: 'RUNNING', startedAt: when, updatedAt: when };
      }

      /** What the liveness sweep writes when it ends a silent owner's task. */
      function failedBySweep(when: Date): RecordPatch {
        return {
          status: 'FAILED', message: 'Worker w1 stopped responding', error: 'Worker w1 stopped responding', completedAt: when,
          failedAt: when, updatedAt: when, duration: 3, cleanedUp: true,
        };
      }

      it('tracks owners, and reads back owner and heartbeat as created', async () => {
        expect(store.tracksOwners).toBe(true);
        const record = pendingRecord({ owner: 'web-1:4242:a1b2c3', heartbeatAt: new Date('2026-04-02T09:15:30.987Z') });
        await store.create(record);
        expect(await store.get(record.id)).toEqual(record);
      });

      it('lands an owned change only while its owner holds the record', async () => {
        const mine = await held('w1');
        const theirs = await held('w2');
        const nobodys = await held(null);
        store.update(mine.id, { status: 'RUNNING', startedAt: at(1000), updatedAt: at(1000) }, 'w1');
        await store.flush();
        store.update(mine.id, { progress: 30, message: 'Reading rows' }, 'w1');
        await store.flush();
        expect(await store.get(mine.id)).toMatchObject({ status: 'RUNNING', startedAt: at(1000), progress: 30, message: 'Reading rows', owner: 'w1' });

        store.update(theirs.id, { status: 'RUNNING', startedAt: at(1000), progress: 50 }, 'w1');
        await store.flush();
        store.update(nobodys.id, { status: 'RUNNING', startedAt: at(1000), progress: 50 }, 'w1');
        await store.flush();
        expect(await store.get(theirs.id)).toEqual(theirs);
        expect(await store.get(nobodys.id)).toEqual(nobodys);

        // The holder may end it; the holder's later changes are dropped like anyone's.
        store.update(mine.id, terminal('DONE', at(3000), { result: 'ok' }), 'w1');
        await store.flush();
        store.update(mine.id, { progress: 99, message: 'late' }, 'w1');
        await store.flush();
        expect(await store.get(mine.id)).toMatchObject({ status: 'DONE', result: 'ok', progress: 30, message: 'Reading rows' });
      });

      it('lands a claim only on a PENDING record that nobody else holds', async () => {
        const free = await held(null);
        const alreadyMine = await held('w1');
        const theirs = await held('w2');
        const runningFree = await running(null);
        const runningMine = await running('w1');
        // One flush: the claims may share a statement, each fenced by its own record.
        for (const record of [free, alreadyMine, theirs, runningFree, runningMine]) store.update(record.id, claim('w1'), 'w1');
        await store.flush();
        const claimed = { status: 'RUNNING', owner: 'w1', heartbeatAt: at(2000), startedAt: at(2000) };
        expect(await store.get(free.id)).toMatchObject(claimed);
        expect(await store.get(alreadyMine.id)).toMatchObject(claimed);
        expect(await store.get(theirs.id)).toEqual(theirs);
        expect(await store.get(runningFree.id)).toMatchObject({ status: 'RUNNING', owner: null, heartbeatAt: null, startedAt: at(100) });
        expect(await store.get(runningMine.id)).toMatchObject({ status: 'RUNNING', owner: 'w1', heartbeatAt: at(0), startedAt: at(100) });

        // A second worker's claim on the now held record is dropped.
        store.update(free.id, claim('w2', at(4000)), 'w2');
        await store.flush();
        expect(await store.get(free.id)).toMatchObject(claimed);
      });

      it('claims durably, and only the PENDING records nobody else holds; claims asked together each get their own answer', async () => {
        const free = await held(null);
        const alreadyMine = await held('w1');
        const theirs = await held('w2');
        const runningFree = await running(null);
        const done = await held(null);
        await write(done.id, terminal('DONE', at(1500)));
        const unknown = newTaskId();
        const answers = await Promise.all([free, alreadyMine, theirs, runningFree, done].map((record) => store.claim(record.id, 'w1', at(2000)))
          .concat([store.claim(unknown, 'w1', at(2000)), store.claim(free.id, 'w1', at(2000))]));
        const claimed = { status: 'RUNNING', owner: 'w1', heartbeatAt: at(2000), startedAt: at(2000), updatedAt: at(2000) };
        expect(answers[0]).toMatchObject({ ...claimed, id: free.id, label: free.label, input: free.input });
        expect(answers[1]).toMatchObject({ ...claimed, id: alreadyMine.id });
        expect(answers.slice(2, 6)).toEqual([null, null, null, null]);
        // The same id claimed twice at once: one claim wins.
        expect(answers[6]).toBeNull();
        // Durable at once, as every other process reads it.
        expect(await store.get(free.id)).toMatchObject(claimed);
        expect(await store.get(theirs.id)).toEqual(theirs);
        expect(await store.get(runningFree.id)).toMatchObject({ status: 'RUNNING', owner: null, startedAt: at(100) });
        expect(await store.get(done.id)).toMatchObject({ status: 'DONE' });
        // Another worker's claim on the now held record misses.
        expect(await store.claim(free.id, 'w2', at(4000))).toBeNull();
        expect(await store.get(free.id)).toMatchObject(claimed);
      });

      it('lands an unfenced change on any unfinished record, whoever holds it', async () => {
        const records = [await held('w1'), await running('w2'), await held(null)];
        for (const record of records) store.update(record.id, { cancelRequestedAt: at(5000), cancelRequestedBy: 'bob' });
        await store.flush();
        for (const record of records) {
          expect(await store.get(record.id)).toMatchObject({ owner: record.owner, cancelRequestedAt: at(5000), cancelRequestedBy: 'bob' });
        }
      });

      it('lands nothing on a terminal record: no unfenced change, no owned change by its holder, no claim', async () => {
        const ended = await held('w1');
        const endedUnheld = await held(null);
        await write(ended.id, terminal('CANCELLED', at(1000), { message: 'Cancelled' }));
        await write(endedUnheld.id, terminal('CANCELLED', at(1000), { message: 'Cancelled' }));
        const before = await store.get(ended.id);
        const beforeUnheld = await store.get(endedUnheld.id);
        expect(before).toMatchObject({ status: 'CANCELLED', owner: 'w1' });
        store.update(ended.id, { message: 'unfenced' });
        await store.flush();
        store.update(ended.id, { message: 'owned', cancelRequestedAt: at(2000) }, 'w1');
        await store.flush();
        store.update(ended.id, claim('w1'), 'w1');
        await store.flush();
        store.update(endedUnheld.id, claim('w1'), 'w1');
        await store.flush();
        expect(await store.get(ended.id)).toEqual(before);
        expect(await store.get(endedUnheld.id)).toEqual(beforeUnheld);
      });

      it('fences the changes of one record merged before a flush, and each record of a flush by its own holder', async () => {
        const mine = await held('w1');
        const theirs = await held('w2');
        const alsoMine = await running('w1');
        const alsoTheirs = await running('w2');
        // Start, report and end in one flush, by the holder.
        store.update(mine.id, { status: 'RUNNING', startedAt: at(1000), updatedAt: at(1000) }, 'w1');
        store.update(mine.id, { progress: 40, message: 'Half way' }, 'w1');
        store.update(mine.id, terminal('DONE', at(2000), { result: 7 }), 'w1');
        // The same by a process that does not hold it.
        store.update(theirs.id, { status: 'RUNNING', startedAt: at(1000), updatedAt: at(1000) }, 'w1');
        store.update(theirs.id, { progress: 40, message: 'Half way' }, 'w1');
        // The same change to two records, of which the writer holds one.
        store.update(alsoMine.id, { progress: 70, message: 'Nearly' }, 'w1');
        store.update(alsoTheirs.id, { progress: 70, message: 'Nearly' }, 'w1');
        await store.flush();
        expect(await store.get(mine.id)).toMatchObject({ status: 'DONE', progress: 40, message: 'Half way', result: 7, completedAt: at(2000), owner: 'w1' });
        expect(await store.get(theirs.id)).toEqual(theirs);
        expect(await store.get(alsoMine.id)).toMatchObject({ progress: 70, message: 'Nearly' });
        expect(await store.get(alsoTheirs.id)).toMatchObject({ progress: null, message: null, owner: 'w2' });
      });

      it('fences a claim and the claimer\'s changes merged before a flush by the claim', async () => {
        const free = await held(null);
        const theirs = await held('w2');
        for (const record of [free, theirs]) {
          store.update(record.id, claim('w1'), 'w1');
          store.update(record.id, { progress: 10, message: 'Claimed' }, 'w1');
        }
        await store.flush();
        expect(await store.get(free.id)).toMatchObject({ status: 'RUNNING', owner: 'w1', heartbeatAt: at(2000), progress: 10, message: 'Claimed' });
        expect(await store.get(theirs.id)).toEqual(theirs);
      });

      it('beats for every unfinished record of the owner without a cancel request, and reports lost and cancelled ones', async () => {
        const pending = await held('w1');
        const started = await running('w1');
        const cancelAsked = await running('w1');
        const ended = await held('w1');
        const theirs = await running('w2');
        const free = await held(null);
        const missing = newTaskId(t0);
        store.update(cancelAsked.id, { cancelRequestedAt: at(500), cancelRequestedBy: 'bob' });
        store.update(ended.id, terminal('DONE', at(500)), 'w1');
        await store.flush();
        const beat = new Date('2026-04-02T09:16:30.456Z');
        const report = await store.heartbeat('w1', beat, [pending.id, started.id, cancelAsked.id, ended.id, theirs.id, free.id, missing]);
        expect(sorted(report.lost)).toEqual(sorted([ended.id, theirs.id, free.id, missing]));
        expect(report.cancelRequested).toEqual([cancelAsked.id]);
        expect(await store.get(pending.id)).toMatchObject({ status: 'PENDING', heartbeatAt: beat });
        expect(await store.get(started.id)).toMatchObject({ status: 'RUNNING', heartbeatAt: beat });
        expect(await store.get(cancelAsked.id)).toMatchObject({ heartbeatAt: at(0), cancelRequestedAt: at(500) });
        expect(await store.get(ended.id)).toMatchObject({ status: 'DONE', heartbeatAt: at(0) });
        expect(await store.get(theirs.id)).toMatchObject({ owner: 'w2', heartbeatAt: at(0) });
        expect(await store.get(free.id)).toMatchObject({ owner: null, heartbeatAt: null });

        // Nothing lost and nothing asked: an empty report.
        const quiet = await store.heartbeat('w1', at(90_000), [pending.id, started.id]);
        expect(quiet).toEqual({ lost: [], cancelRequested: [] });
        expect(await store.get(started.id)).toMatchObject({ heartbeatAt: at(90_000) });
      });

      it('beats only the listed records: nothing for an empty list, reporting nothing', async () => {
        const mine = await held('w1');
        const theirs = await held('w2');
        const beat = at(30_000);
        expect(await store.heartbeat('w1', beat, [])).toEqual({ lost: [], cancelRequested: [] });
        // A record its owner no longer lists falls silent, so that it is taken back.
        expect(await store.get(mine.id)).toMatchObject({ heartbeatAt: at(0) });
        expect(await store.get(theirs.id)).toMatchObject({ heartbeatAt: at(0) });
      });

      it('beats after the changes queued before the heartbeat', async () => {
        const started = await held('w1');
        const cancelAsked = await held('w1');
        const ended = await held('w1');
        store.update(started.id, { status: 'RUNNING', startedAt: at(1000), updatedAt: at(1000) }, 'w1');
        store.update(cancelAsked.id, { cancelRequestedAt: at(1000), cancelRequestedBy: 'bob' });
        store.update(ended.id, terminal('DONE', at(1000)), 'w1');
        const report = await store.heartbeat('w1', at(30_000), [started.id, cancelAsked.id, ended.id]);
        expect(report).toEqual({ lost: [ended.id], cancelRequested: [cancelAsked.id] });
        expect(await store.get(started.id)).toMatchObject({ status: 'RUNNING', heartbeatAt: at(30_000) });
        expect(await store.get(cancelAsked.id)).toMatchObject({ heartbeatAt: at(0) });
        expect(await store.get(ended.id)).toMatchObject({ status: 'DONE', heartbeatAt: at(0) });
      });

      it('beats a record claimed by a change queued before the heartbeat', async () => {
        const free = await held(null);
        store.update(free.id, claim('w1'), 'w1');
        const report = await store.heartbeat('w1', at(30_000), [free.id]);
        expect(report).toEqual({ lost: [], cancelRequested: [] });
        expect(await store.get(free.id)).toMatchObject({ owner: 'w1', status: 'RUNNING', heartbeatAt: at(30_000) });
      });

      // Only the listed records are beaten, and the report is about them alone.
      it('reports about the listed ids even when the owner holds records it did not list', async () => {
        const listed = await running('w1');
        await running('w1');
        await running('w1');
        const cancelAsked = await running('w1');
        const theirs = await running('w2');
        await write(cancelAsked.id, { cancelRequestedAt: at(500), cancelRequestedBy: 'bob' });
        const report = await store.heartbeat('w1', at(30_000), [listed.id, cancelAsked.id, theirs.id]);
        expect(report).toEqual({ lost: [theirs.id], cancelRequested: [cancelAsked.id] });
      });

      it('lists the unfinished records held by others, and with silentSince only the silent ones', async () => {
        const mine = await held('w1');
        const old = await held('w2');
        const fresh = await held('w3', { heartbeatAt: at(10_000) });
        // Before its first heartbeat a record's creation is its last sign of life.
        const neverBeat = await held('w2', { heartbeatAt: null, createdAt: at(-2) });
        const newborn = await held('w2', { heartbeatAt: null, createdAt: at(10_000) });
        const atCutoff = await held('w4', { heartbeatAt: at(5000) });
        const justBefore = await held('w4', { heartbeatAt: at(4999) });
        const oldRunning = await running('w3');
        const ended = await held('w2');
        await held(null);
        await running(null);
        await write(ended.id, terminal('FAILED', at(1000), { error: 'x' }));

        const others = await store.listOwnedByOthers('w1');
        expect(sorted(others.map((record) => record.id))).toEqual(sorted([old.id, fresh.id, neverBeat.id, newborn.id, atCutoff.id, justBefore.id, oldRunning.id]));
        for (const record of others) expect(record).toEqual(await store.get(record.id));

        const silent = await store.listOwnedByOthers('w1', at(5000));
        expect(sorted(silent.map((record) => record.id))).toEqual(sorted([old.id, neverBeat.id, justBefore.id, oldRunning.id]));

        const everyOwned = await store.listOwnedByOthers('');
        expect(sorted(everyOwned.map((record) => record.id))).toEqual(sorted([mine.id, ...others.map((record) => record.id)]));
        expect(await store.listOwnedByOthers('w5', at(-1))).toEqual([expect.objectContaining({ id: neverBeat.id })]);
      });

      it('takes over a record only as it was seen, comparing a heartbeat read back from the store', async () => {
        const record = await held('w1', { heartbeatAt: new Date('2026-04-02T09:15:30.001Z') });
        const beat = new Date('2026-04-02T09:16:00.987Z');
        await store.heartbeat('w1', beat, [record.id]);
        const seen = (await store.listOwnedByOthers('w2', new Date('2026-04-02T10:00:00.000Z'))).find((r) => r.id === record.id);
        expect(seen?.heartbeatAt).toEqual(beat);
        const seenAt = seen!.heartbeatAt!;

        expect(await store.takeOver(record.id, 'w1', new Date(seenAt.getTime() - 1), failedBySweep(at(60_000)))).toBe(false);
        expect(await store.takeOver(record.id, 'w1', new Date(seenAt.getTime() + 1), failedBySweep(at(60_000)))).toBe(false);
        expect(await store.takeOver(record.id, 'w1', null, failedBySweep(at(60_000)))).toBe(false);
        expect(await store.takeOver(record.id, 'w2', seenAt, failedBySweep(at(60_000)))).toBe(false);
        expect(await store.takeOver(newTaskId(t0), 'w1', seenAt, failedBySweep(at(60_000)))).toBe(false);
        expect(await store.get(record.id)).toMatchObject({ status: 'PENDING', owner: 'w1', heartbeatAt: beat, message: null });

        expect(await store.takeOver(record.id, 'w1', seenAt, failedBySweep(at(60_000)))).toBe(true);
        expect(await store.get(record.id)).toMatchObject({
          status: 'FAILED', error: 'Worker w1 stopped responding', completedAt: at(60_000), failedAt: at(60_000), cleanedUp: true, owner: 'w1',
        });
        // Terminal now: nothing takes it over again.
        expect(await store.takeOver(record.id, 'w1', seenAt, { status: 'CANCELLED', message: 'again' })).toBe(false);
        expect(await store.get(record.id)).toMatchObject({ status: 'FAILED', error: 'Worker w1 stopped responding' });
      });

      it('takes over a record that never beat with a null heartbeat, handing it to another owner', async () => {
        const record = await running('w1', { heartbeatAt: null });
        expect(await store.takeOver(record.id, 'w1', at(0), { owner: 'w2', heartbeatAt: at(1000) })).toBe(false);
        expect(await store.takeOver(record.id, 'w1', null, { owner: 'w2', heartbeatAt: at(1000) })).toBe(true);
        expect(await store.get(record.id)).toMatchObject({ status: 'RUNNING', owner: 'w2', heartbeatAt: at(1000) });
        // The old owner learns it lost the task; the new one holds it.
        expect(await store.heartbeat('w1', at(2000), [record.id])).toEqual({ lost: [record.id], cancelRequested: [] });
        expect(await store.heartbeat('w2', at(2000), [record.id])).toEqual({ lost: [], cancelRequested: [] });
        expect(await store.get(record.id)).toMatchObject({ heartbeatAt: at(2000) });
      });

      it('refuses a take-over once the owner beat again, including a beat still queued', async () => {
        const record = await running('w1');
        store.update(record.id, { heartbeatAt: at(1000) }, 'w1');
        expect(await store.takeOver(record.id, 'w1', at(0), failedBySweep(at(60_000)))).toBe(false);
        void store.heartbeat('w1', at(2000), [record.id]);
        expect(await store.takeOver(record.id, 'w1', at(1000), failedBySweep(at(60_000)))).toBe(false);
        expect(await store.get(record.id)).toMatchObject({ status: 'RUNNING', owner: 'w1', heartbeatAt: at(2000) });
        expect(await store.takeOver(record.id, 'w1', at(2000), failedBySweep(at(60_000)))).toBe(true);
      });

      it('abandons only the unowned records in the given statuses when asked to', async () => {
        const unownedRunning = await held(null, {}, ['order:7']);
        await write(unownedRunning.id, { status: 'RUNNING', startedAt: at(100), updatedAt: at(100) });
        const unownedPending = await held(null);
        const ownedRunning = await running('w1');
        const ownedPending = await held('w2');
        const unownedEnded = await held(null);
        await write(unownedEnded.id, terminal('DONE', at(500), { result: 1 }));
        const message = 'Abandoned — app restarted';

        expect(await store.abandonActive(message, at(9000), ['RUNNING'])).toBe(1);
        expect(await store.get(unownedRunning.id)).toMatchObject({ status: 'FAILED', message, error: message, failedAt: at(9000), completedAt: at(9000) });
        expect(await store.get(unownedPending.id)).toMatchObject({ status: 'PENDING', error: null });
        // Its lock went with it: a sweep finds none of a finished task left, and the key is free.
        expect(await store.cleanup(new Date(0), false)).toMatchObject({ locksReleased: 0 });
        await held('w3', {}, ['order:7']);

        expect(await store.abandonActive(message, at(9500), ['PENDING', 'RUNNING'])).toBe(1);
        expect(await store.get(unownedPending.id)).toMatchObject({ status: 'FAILED', failedAt: at(9500) });
        expect(await store.get(ownedRunning.id)).toMatchObject({ status: 'RUNNING', owner: 'w1', error: null });
        expect(await store.get(ownedPending.id)).toMatchObject({ status: 'PENDING', owner: 'w2', error: null });
        expect(await store.get(unownedEnded.id)).toMatchObject({ status: 'DONE', result: 1, error: null });
      });

      it('counts the unfinished tasks of each owner with its latest heartbeat, and the unheld waiting ones', async () => {
        await running('w1', { heartbeatAt: at(10) });
        await running('w1', { heartbeatAt: at(50) });
        await held('w1', { heartbeatAt: at(20) });
        await running('w2', { heartbeatAt: at(5) });
        await held(null);
        await running(null);
        const done = await running('w2');
        await write(done.id, terminal('DONE', at(60)));
        const fleet = await store.fleet();
        expect(fleet).toEqual({
          instances: [
            { id: 'w1', running: 2, queued: 1, heartbeatAt: at(50) },
            { id: 'w2', running: 1, queued: 0, heartbeatAt: at(5) },
          ],
          waiting: 1,
        });
      });

      it('releases the locks of a record a terminal take-over ended, and only then', async () => {
        const ended = await held('w1', {}, ['order:1']);
        const handedOver = await held('w1', {}, ['order:2']);
        const conflict = (keys: string[]) => store.create(pendingRecord(), keys).then(() => null, (error: unknown) => error);

        expect(await store.takeOver(ended.id, 'w1', at(1), failedBySweep(at(60_000)))).toBe(false);
        expect(await conflict(['order:1'])).toBeInstanceOf(TaskConflictError);
        expect(await store.takeOver(handedOver.id, 'w1', at(0), { owner: 'w2', heartbeatAt: at(1000) })).toBe(true);
        expect(await conflict(['order:2'])).toBeInstanceOf(TaskConflictError);

        expect(await store.takeOver(ended.id, 'w1', at(0), failedBySweep(at(60_000)))).toBe(true);
        // Released by the take-over itself: a sweep finds no lock of a finished task left.
        expect(await store.cleanup(new Date(0), false)).toMatchObject({ locksReleased: 0, recordsMarked: 0 });
        expect(await conflict(['order:1'])).toBeNull();
        expect(await conflict(['order:2'])).toBeInstanceOf(TaskConflictError);
      });
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
