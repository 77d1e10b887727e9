import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidInputError, ManagerStoppedError, MemoryRecordStore, ModelTrackingTaskManager, StablehandTaskKey, StablehandTaskLock,
  StablehandTaskRecord, TaskNotFoundError, TaskNotRetryableError, UnknownTaskKindError,
  type KindMetrics, type LaunchOptions, type JsonValue, type MetricsBucket, type TaskContext, type TaskManager, type TaskRecord,
} from '../../src/index.js';
import { newTaskId } from '../../src/manager/task-id.js';
import { postgres, sqlite, tempDir } from '../helpers/data-sources.js';
import { memoryKind, recordEvents, sqliteKind, type ManagerKind } from '../helpers/managers.js';
import { recordingLogger, waitFor } from '../helpers/wait.js';

// The operator's console as the manager offers it: retry, listing by affected object, search,
// counts, progress milestones and metrics, on the memory store and on a SQLite file.

type Options = Parameters<ManagerKind['create']>[0];

const KINDS = [memoryKind, sqliteKind];

/** A host model: `launch(..., { affected: new Order(42) })` is indexed as `order:42`. */
class Order {
  constructor(readonly id: number) {}
}

// What a test made, stopped and closed after it (managers first: they write through the DataSources).
const managers: TaskManager[] = [];
const dataSources: DataSource[] = [];
afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.stop({ graceMs: 100 });
  for (const dataSource of dataSources.splice(0)) if (dataSource.isInitialized) await dataSource.destroy();
});

/** A DataSource the test opened, destroyed after it. */
function own(dataSource: DataSource): DataSource {
  dataSources.push(dataSource);
  return dataSource;
}

/** A manager of `kind`, stopped after the test, with the DataSource it opened (if any). */
async function make(kind: ManagerKind, options: Options = {}): Promise<{ manager: TaskManager; dataSource: DataSource | null }> {
  const made = await kind.create({ logger: recordingLogger(), ...options });
  managers.push(made.manager);
  if (made.dataSource && made.dataSource !== options.dataSource) own(made.dataSource);
  return made;
}

/**
 * A maker of managers over one set of records: one shared MemoryRecordStore, or one SQLite file
 * reached through a DataSource of each manager's own (as two app processes would).
 */
function sharedRecords(kind: ManagerKind): (options?: Options) => Promise<TaskManager> {
  if (kind === memoryKind) {
    const store = new MemoryRecordStore();
    return async (options = {}) => (await make(kind, { ...options, store })).manager;
  }
  const file = join(tempDir(), 'shared.db');
  return async (options = {}) => (await make(kind, { ...options, dataSource: own(await sqlite.open([], { file })) })).manager;
}

/** A manager, and the index keys its store wrote for a task, read from the store rather than through the manager. */
async function withStoredKeys(kind: ManagerKind, options: Options = {}): Promise<{ manager: TaskManager; storedKeys: (id: string) => Promise<string[]> }> {
  if (kind === memoryKind) {
    const store = new MemoryRecordStore();
    const { manager } = await make(kind, { ...options, store });
    return { manager, storedKeys: (id) => store.keysOf(id) };
  }
  const { manager, dataSource } = await make(kind, options);
  const keys = dataSource!.getRepository(StablehandTaskKey);
  return { manager, storedKeys: async (id) => (await keys.findBy({ taskId: id })).map((row) => row.key) };
}

/** Waits for a task's terminal record, cleaned up (so every write of its end has landed). */
function settled(manager: TaskManager, id: string): Promise<TaskRecord> {
  return waitFor(async () => {
    const record = await manager.getTask(id);
    return record && ['DONE', 'FAILED', 'CANCELLED'].includes(record.status) && record.cleanedUp ? record : null;
  }, 10_000, `task ${id} to end`);
}

/** Waits until a task's record says RUNNING. */
function running(manager: TaskManager, id: string): Promise<TaskRecord> {
  return waitFor(async () => {
    const record = await manager.getTask(id);
    return record?.status === 'RUNNING' ? record : null;
  }, 10_000, `task ${id} to run`);
}

/** Launches a task and waits for its end. */
async function runToEnd(manager: TaskManager, kind: string, input?: JsonValue, options?: LaunchOptions): Promise<TaskRecord> {
  const { id } = await manager.launch(kind, input, options);
  return settled(manager, id);
}

/** A handler that runs until its signal is aborted: by a cancel, or by the manager stopping. */
function untilAborted({ signal }: TaskContext): Promise<never> {
  return new Promise((_, reject) => {
    signal.addEventListener('abort', () => {
      reject(signal.reason as Error);
    });
  });
}

/** Input of the `work` handler below. */
interface Work { ms?: number; fail?: boolean; hold?: boolean }

/** A fake clock for the manager's `now` option; moved by the test, or by a handler to make a run time. */
class Clock {
  private ms: number;
  constructor(iso: string) {
    this.ms = Date.parse(iso);
  }

  readonly now = (): Date => new Date(this.ms);
  set(iso: string): void {
    this.ms = Date.parse(iso);
  }

  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A handler that takes `ms` of the clock (its run time), then fails when told, or holds until aborted. */
function work(clock?: Clock) {
  return (context: TaskContext): unknown => {
    const input = (context.input ?? {}) as Work;
    if (input.hold) return untilAborted(context);
    clock?.advance(input.ms ?? 0);
    if (input.fail) throw new Error('the feed is down');
    return 'ok';
  };
}

const ids = (records: readonly { id: string }[]) => records.map((record) => record.id);
const isInvalid = (error: unknown) => error instanceof InvalidInputError && error.code === 'INVALID_INPUT';

describe.each(KINDS)('retry(): $name', (kind) => {
  it('launches a FAILED task again with its kind, input, label and affected objects, linked both ways, once', async () => {
    const { manager } = await make(kind);
    manager.define('import', { label: 'Import orders', run: work() });
    const events = recordEvents(manager);
    await manager.start();
    const original = await runToEnd(manager, 'import', { fail: true }, {
      label: 'Import a.csv', user: { name: 'Ann' }, affected: [new Order(42), { id: 7 }, 'customer:9'],
    });
    expect(original.status).toBe('FAILED');

    const before = Date.now();
    const retried = await manager.retry(original.id, { user: { name: 'Bob' } });
    expect(retried).toEqual({ id: expect.any(String), taskName: 'import', label: 'Import a.csv', status: 'PENDING' });
    expect(retried.id).not.toBe(original.id);
    const fresh = await settled(manager, retried.id);
    expect(fresh).toMatchObject({
      taskName: 'import', label: 'Import a.csv', input: { fail: true }, affected: original.affected, user: 'Bob',
      retryOf: original.id, retriedAs: null, retriedBy: null, retriedAt: null, status: 'FAILED',
    });
    expect(original.affected).toBe('42, 7, customer:9');

    const old = await manager.getTask(original.id);
    expect(old).toMatchObject({ status: 'FAILED', user: 'Ann', retryOf: null, retriedAs: retried.id, retriedBy: 'Bob' });
    expect(old!.retriedAt!.getTime()).toBeGreaterThanOrEqual(before);
    expect(old!.retriedAt!.getTime()).toBeLessThanOrEqual(Date.now());

    // The new task touches what the old one did: found by each of its objects, under the same keys.
    for (const key of ['order:42', 'object:7', 'customer:9']) {
      expect(ids((await manager.listTasks({ affected: key })).tasks)).toEqual([retried.id, original.id]);
    }
    expect(new Set(await manager.affectedKeysOf(retried.id))).toEqual(new Set(['order:42', 'object:7', 'customer:9']));

    const creates = events.filter((e) => e.event === 'create').map((e) => e.payload);
    expect(creates.map((payload) => payload.id)).toEqual([original.id, retried.id]);
    expect(creates[0]).not.toHaveProperty('retryOf');
    expect(creates[1]).toMatchObject({ retryOf: original.id, label: 'Import a.csv', input: { fail: true }, user: { name: 'Bob' } });
    // The objects a retry touches are known as the old record has them.
    expect(creates[1].affected).toBe('42, 7, customer:9');

    // A task is retried once: a second retry names the task that retries it.
    await expect(manager.retry(original.id, { user: 'Carol' })).rejects.toSatisfy((error) =>
      error instanceof TaskNotRetryableError && error.code === 'TASK_NOT_RETRYABLE' && error.retriedAs === retried.id
      && error.message.includes(retried.id));
    expect(await manager.getTask(original.id)).toMatchObject({ retriedAs: retried.id, retriedBy: 'Bob' });
    expect((await manager.countTasks()).ALL).toBe(2);
  });

  it('retries a CANCELLED task, whose cancel event named who cancelled it', async () => {
    const { manager } = await make(kind);
    manager.define('sync', { label: 'Sync', run: work() });
    const events = recordEvents(manager);
    await manager.start();
    const { id } = await manager.launch('sync', { hold: true }, { user: 'Ann', affected: new Order(5) });
    await running(manager, id);
    expect(await manager.cancel(id, { user: { name: 'Carol' } })).toEqual({ id, status: 'CANCELLING' });
    const cancelled = await settled(manager, id);
    expect(cancelled).toMatchObject({ status: 'CANCELLED', cancelRequestedBy: 'Carol' });
    const cancel = events.find((e) => e.event === 'cancel');
    expect(cancel?.payload).toMatchObject({ id, status: 'CANCELLED', cancelledBy: 'Carol' });

    const retried = await manager.retry(id, { user: 'Dave' });
    await running(manager, retried.id);
    expect(await manager.getTask(id)).toMatchObject({ status: 'CANCELLED', retriedAs: retried.id, retriedBy: 'Dave' });
    expect(await manager.getTask(retried.id)).toMatchObject({ retryOf: id, user: 'Dave', input: { hold: true }, label: 'Sync', affected: '5' });
    expect(ids((await manager.listTasks({ affected: 'order:5' })).tasks)).toEqual([retried.id, id]);
  });

  it('refuses DONE and RUNNING tasks, and unknown ids', async () => {
    const { manager } = await make(kind);
    manager.define('sync', { run: work() });
    await manager.start();
    const done = await runToEnd(manager, 'sync');
    const { id: runningId } = await manager.launch('sync', { hold: true });
    await running(manager, runningId);
    for (const [id, status] of [[done.id, 'DONE'], [runningId, 'RUNNING']] as const) {
      await expect(manager.retry(id)).rejects.toSatisfy((error) =>
        error instanceof TaskNotRetryableError && error.code === 'TASK_NOT_RETRYABLE' && error.retriedAs === null
        && error.message.includes(`is ${status}`));
      expect(await manager.getTask(id)).toMatchObject({ retriedAs: null, retriedBy: null, retriedAt: null });
    }
    for (const id of ['00000000-0000-7000-8000-000000000000', 'not an id']) {
      await expect(manager.retry(id)).rejects.toSatisfy((error) => error instanceof TaskNotFoundError && error.code === 'TASK_NOT_FOUND');
    }
    expect((await manager.countTasks()).ALL).toBe(2);
  });

  it('refuses to retry a task whose record kept its input cut, rather than run it with a preview', async () => {
    const store = new MemoryRecordStore();
    const { manager } = await make(memoryKind, { store });
    manager.define('import', { run: () => { throw new Error('bad row'); } });
    await manager.start();
    const { id } = await manager.launch('import', { rows: ['a', 'b'] });
    await settled(manager, id);
    // What a store keeps of JSON too long for its column (see the TypeORM adapter's storable.ts).
    const record = await store.get(id);
    const cut = newTaskId();
    await store.create({ ...record!, id: cut, input: { truncated: true, length: 70_000, preview: '{"rows":["a"' } });
    await expect(manager.retry(cut)).rejects.toSatisfy((error) =>
      error instanceof TaskNotRetryableError && error.message.includes('kept cut') && error.retriedAs === null);
    expect(await manager.getTask(cut)).toMatchObject({ retriedAs: null });
    await expect(manager.retry(id)).resolves.toMatchObject({ status: 'PENDING' });
  });

  it('names who cancelled on the cancel event of a task another manager asked to cancel', async () => {
    const next = sharedRecords(kind);
    const [holder, asker] = [await next({ heartbeatIntervalMs: 50, staleAfterMs: 10_000 }), await next({ heartbeatIntervalMs: 50, staleAfterMs: 10_000 })];
    for (const manager of [holder, asker]) manager.define('sync', { label: 'Sync', run: work() });
    const events = recordEvents(holder);
    await holder.start();
    await asker.start();
    const { id } = await holder.launch('sync', { hold: true }, { user: 'Ann' });
    await running(holder, id);
    await asker.cancel(id, { user: { name: 'Erin' } });
    expect(await settled(holder, id)).toMatchObject({ status: 'CANCELLED', cancelRequestedBy: 'Erin' });
    const cancel = events.find((e) => e.event === 'cancel');
    expect(cancel?.payload).toMatchObject({ id, status: 'CANCELLED', cancelledBy: 'Erin' });
  });

  it('makes exactly one new task when two managers on the same records retry a task at once', async () => {
    const next = sharedRecords(kind);
    const [a, b] = [await next(), await next()];
    for (const manager of [a, b]) manager.define('import', { run: work() });
    await a.start();
    await b.start();
    const failed = [];
    for (let n = 0; n < 3; n++) failed.push(await runToEnd(a, 'import', { fail: true }, { affected: new Order(n) }));
    for (const task of failed) {
      const outcomes = await Promise.allSettled([a.retry(task.id, { user: 'ann' }), b.retry(task.id, { user: 'bob' })]);
      const made = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
      const refused = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
      expect(made).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expect(refused[0]).toBeInstanceOf(TaskNotRetryableError);
      expect((refused[0] as TaskNotRetryableError).retriedAs).toBe(made[0].id);
      const winner = outcomes[0].status === 'fulfilled' ? 'ann' : 'bob';
      expect(await b.getTask(task.id)).toMatchObject({ retriedAs: made[0].id, retriedBy: winner });
      await settled(a, made[0].id);
    }
    const all = (await b.listTasks()).tasks;
    expect(all).toHaveLength(6);
    for (const task of failed) expect(all.filter((record) => record.retryOf === task.id)).toHaveLength(1);
  });

  it('leaves nothing linked when the retrying manager does not define the kind', async () => {
    const next = sharedRecords(kind);
    const [a, b] = [await next(), await next()];
    a.define('import', { run: work() });
    b.define('export', { run: work() });
    await a.start();
    await b.start();
    const failed = await runToEnd(a, 'import', { fail: true });
    await expect(b.retry(failed.id, { user: 'bob' })).rejects.toSatisfy((error) =>
      error instanceof UnknownTaskKindError && error.kind === 'import');
    expect(await a.getTask(failed.id)).toMatchObject({ retriedAs: null, retriedBy: null, retriedAt: null });
    const retried = await a.retry(failed.id, { user: 'ann' });
    expect(await b.getTask(failed.id)).toMatchObject({ retriedAs: retried.id, retriedBy: 'ann' });
  });

  it('leaves nothing linked when the manager is stopped before the retry', async () => {
    const next = sharedRecords(kind);
    const [a, b] = [await next(), await next()];
    for (const manager of [a, b]) manager.define('import', { run: work() });
    for (const manager of [a, b]) await manager.start();
    const failed = await runToEnd(a, 'import', { fail: true }, { affected: new Order(1) });
    await a.stop();
    await expect(a.retry(failed.id, { user: 'ann' })).rejects.toBeInstanceOf(ManagerStoppedError);
    expect(await b.getTask(failed.id)).toMatchObject({ retriedAs: null, retriedBy: null, retriedAt: null });
    expect(ids((await b.listTasks({ affected: 'order:1' })).tasks)).toEqual([failed.id]);
    // Nothing holds the old task back: a running manager retries it.
    const retried = await b.retry(failed.id, { user: 'bob' });
    expect(await b.getTask(failed.id)).toMatchObject({ retriedAs: retried.id, retriedBy: 'bob' });
  });

  it('keeps both links when the manager stops while the new record is written: the old task is retried once', async () => {
    const next = sharedRecords(kind);
    const [a, b] = [await next(), await next()];
    for (const manager of [a, b]) manager.define('import', { run: work() });
    for (const manager of [a, b]) await manager.start();
    const failed = await runToEnd(a, 'import', { fail: true }, { affected: new Order(2) });
    // The create event is emitted once the record is durable, before launch sees the stop.
    a.on('create', (payload) => {
      if (payload.retryOf !== undefined) void a.stop();
    });
    await expect(a.retry(failed.id, { user: 'ann' })).rejects.toBeInstanceOf(ManagerStoppedError);
    await a.stop();
    const [made, old] = (await b.listTasks({ affected: 'order:2' })).tasks;
    expect(old.id).toBe(failed.id);
    expect(made).toMatchObject({ status: 'CANCELLED', message: 'Cancelled — the app stopped before it started', retryOf: failed.id });
    expect(old).toMatchObject({ retriedAs: made.id, retriedBy: 'ann' });
    await expect(b.retry(failed.id, { user: 'bob' })).rejects.toSatisfy((error) => error instanceof TaskNotRetryableError && error.retriedAs === made.id);
    // The cancelled retry is retried in turn.
    const again = await b.retry(made.id, { user: 'bob' });
    expect(await b.getTask(again.id)).toMatchObject({ retryOf: made.id, affected: '2' });
  });
});

describe.skipIf(postgres.skipReason)('retry() on PostgreSQL', () => {
  it('makes exactly one new task when two managers, each with its own DataSource, retry a task at once', async () => {
    const first = own(await postgres.open());
    const second = own(new DataSource(first.options));
    await second.initialize();
    const [a, b] = [first, second].map((dataSource) => {
      const manager = new ModelTrackingTaskManager({ dataSource, logger: recordingLogger() });
      managers.push(manager);
      return manager.define('import', { label: 'Import', run: work() });
    });
    await a.start();
    await b.start();
    const failed = [];
    for (let n = 0; n < 4; n++) failed.push(await runToEnd(a, 'import', { fail: true }, { label: `Import file ${n}`, affected: new Order(n) }));
    for (const task of failed) {
      const outcomes = await Promise.allSettled([a.retry(task.id, { user: 'ann' }), b.retry(task.id, { user: 'bob' })]);
      const made = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
      expect(made).toHaveLength(1);
      const refused = outcomes.find((outcome) => outcome.status === 'rejected');
      expect(refused?.reason).toBeInstanceOf(TaskNotRetryableError);
      expect((refused?.reason as TaskNotRetryableError).retriedAs).toBe(made[0].id);
      expect(await b.getTask(task.id)).toMatchObject({ retriedAs: made[0].id, retriedBy: outcomes[0].status === 'fulfilled' ? 'ann' : 'bob' });
      expect(await a.getTask(made[0].id)).toMatchObject({ retryOf: task.id, label: task.label, taskName: 'import', input: { fail: true } });
      expect(ids((await b.listTasks({ affected: `order:${failed.indexOf(task)}` })).tasks)).toEqual([made[0].id, task.id]);
      await settled(a, made[0].id);
    }
    expect((await a.countTasks()).ALL).toBe(8);
  });
});

describe.each(KINDS)('listTasks({ affected }): $name', (kind) => {
  it('finds tasks by class instances, plain objects with ids, and type:id text, newest first', async () => {
    const { manager } = await make(kind);
    manager.define('sync', { run: work() });
    await manager.start();
    const a = await runToEnd(manager, 'sync', undefined, { affected: new Order(42) });
    const b = await runToEnd(manager, 'sync', undefined, { affected: [{ id: 7 }, 'Customer:9'] });
    const c = await runToEnd(manager, 'sync', undefined, { affected: [new Order(42), { id: 7 }, 12] });
    const d = await runToEnd(manager, 'sync');
    const list = async (affected: string) => ids((await manager.listTasks({ affected })).tasks);
    expect(await list('order:42')).toEqual([c.id, a.id]);
    expect(await list(' Order:42 ')).toEqual([c.id, a.id]);
    expect(await list('object:7')).toEqual([c.id, b.id]);
    expect(await list('customer:9')).toEqual([b.id]);
    expect(await list('object:12')).toEqual([c.id]);
    expect(await list('order:7')).toEqual([]);
    expect(ids((await manager.listTasks()).tasks)).toEqual([d.id, c.id, b.id, a.id]);
    expect(new Set(await manager.affectedKeysOf(b.id))).toEqual(new Set(['object:7', 'customer:9']));
    expect(await manager.affectedKeysOf(d.id)).toEqual([]);
  });

  it('pages the tasks of one object older and newer, the newest page read whole', async () => {
    const { manager } = await make(kind);
    manager.define('sync', { run: work() });
    await manager.start();
    const touched: TaskRecord[] = [];
    for (let n = 0; n < 5; n++) {
      touched.unshift(await runToEnd(manager, 'sync', undefined, { affected: new Order(42) }));
      await runToEnd(manager, 'sync', undefined, { affected: new Order(43) });
    }
    const first = await manager.listTasks({ affected: 'order:42', limit: 2 });
    expect(ids(first.tasks)).toEqual(ids(touched.slice(0, 2)));
    expect(first.prevCursor).toBeNull();
    const second = await manager.listTasks({ affected: 'order:42', limit: 2, before: first.nextCursor! });
    expect(ids(second.tasks)).toEqual(ids(touched.slice(2, 4)));
    expect(second.prevCursor).toBe(touched[2].id);
    const last = await manager.listTasks({ affected: 'order:42', limit: 2, before: second.nextCursor! });
    expect(ids(last.tasks)).toEqual([touched[4].id]);
    expect(last.nextCursor).toBeNull();
    // Two newer tasks than the last page's: a full page, with more above it.
    const back = await manager.listTasks({ affected: 'order:42', limit: 2, after: last.prevCursor! });
    expect(ids(back.tasks)).toEqual(ids(touched.slice(2, 4)));
    expect(back.prevCursor).toBe(touched[2].id);
    // Fewer than a page newer: the first page, whole.
    const top = await manager.listTasks({ affected: 'order:42', limit: 2, after: touched[2].id });
    expect(ids(top.tasks)).toEqual(ids(touched.slice(0, 2)));
    expect(top.prevCursor).toBeNull();
  });

  it('rejects affected keys that are not type:id', async () => {
    const { manager } = await make(kind);
    await manager.start();
    const bad = ['order', ':42', 'order:', `order:${'9'.repeat(300)}`, `${'t'.repeat(51)}:1`, 'order:4\u00002', 'order:4\n2', 'or der:1', '', 42 as unknown as string];
    for (const affected of bad) {
      await expect(manager.listTasks({ affected }), JSON.stringify(affected)).rejects.toSatisfy(isInvalid);
      await expect(manager.countTasks({ affected }), JSON.stringify(affected)).rejects.toSatisfy(isInvalid);
    }
    // At the limits: a 200-character id and a 50-character type.
    expect((await manager.listTasks({ affected: `order:${'9'.repeat(200)}` })).tasks).toEqual([]);
    expect((await manager.listTasks({ affected: `${'t'.repeat(50)}:1` })).tasks).toEqual([]);
  });
});

describe.each(KINDS)('search: $name', (kind) => {
  it('matches words of the kind, the defined label (through the kind), a launch label and the user, affected keys and ids', async () => {
    const { manager, storedKeys } = await withStoredKeys(kind);
    manager.define('csv-import', { label: 'Nightly ledger sync', run: work() });
    manager.define('report', { label: 'Monthly report', run: work() });
    expect(manager.searchable).toBe(false);
    await manager.start();
    expect(manager.searchable).toBe(true);
    const plain = await runToEnd(manager, 'csv-import', undefined, { user: { name: 'Ann Smith' }, affected: new Order(42) });
    const labelled = await runToEnd(manager, 'csv-import', undefined, { label: 'Import Zürich customers', user: 'Bob Jones' });
    const report = await runToEnd(manager, 'report', undefined, { user: { name: 'Ann Smith' } });
    const search = async (text: string) => ids((await manager.listTasks({ search: text })).tasks);

    expect(await search('csv')).toEqual([labelled.id, plain.id]);
    expect(await search('IMPORT')).toEqual([labelled.id, plain.id]);
    expect(await search('ledger')).toEqual([labelled.id, plain.id]);
    expect(await search('monthly')).toEqual([report.id]);
    // The words every task of a kind has are answered by the kind column: no key row per task.
    expect(new Set(await storedKeys(plain.id))).toEqual(new Set(['order:42', '~ann', '~smith']));
    expect(new Set(await storedKeys(labelled.id))).toEqual(new Set(['~zürich', '~customers', '~bob', '~jones']));
    expect(new Set(await storedKeys(report.id))).toEqual(new Set(['~ann', '~smith']));

    expect(await search('zürich')).toEqual([labelled.id]);
    expect(await search('ZÜRICH  Customers')).toEqual([labelled.id]);
    expect(await search('import customers')).toEqual([labelled.id]);
    expect(await search('jones')).toEqual([labelled.id]);
    expect(await search('smith')).toEqual([report.id, plain.id]);
    expect(await search('ann monthly')).toEqual([report.id]);
    expect(await search('smith zürich')).toEqual([]);
    expect(await search('order:42')).toEqual([plain.id]);
    expect(await search('Order:42 ledger ann')).toEqual([plain.id]);
    expect(await search('order:42 monthly')).toEqual([]);
    expect(await search('nothing')).toEqual([]);

    expect(await search(report.id)).toEqual([report.id]);
    expect(await search(plain.id.toUpperCase())).toEqual([plain.id]);
    const prefix = report.id.slice(0, 8);
    expect(await search(prefix)).toEqual(ids([report, labelled, plain].filter((task) => task.id.startsWith(prefix))));
    expect(await search(report.id.slice(0, 13))).toContain(report.id);
  });

  it('rejects searches that are too long, empty or hold control characters', async () => {
    const { manager } = await make(kind);
    manager.define('report', { run: work() });
    await manager.start();
    const { id } = await runToEnd(manager, 'report');
    // 200 characters once trimmed is the most.
    const longest = `report${' '.repeat(188)}report`;
    expect(ids((await manager.listTasks({ search: `  ${longest}  ` })).tasks)).toEqual([id]);
    expect(await manager.countTasks({ search: longest })).toMatchObject({ DONE: 1, ALL: 1 });
    for (const search of [`${longest} `.replace(' ', '  '), 'x'.repeat(201), '', '   ', 'report\u0000', 'rep\u0007ort', '\u001b[31m', '::: ---']) {
      await expect(manager.listTasks({ search }), JSON.stringify(search)).rejects.toSatisfy(isInvalid);
      await expect(manager.countTasks({ search }), JSON.stringify(search)).rejects.toSatisfy(isInvalid);
    }
  });
});

describe.each(KINDS)('countTasks(): $name', (kind) => {
  it('counts tasks per status and in all, within an affected object or a search', async () => {
    const { manager } = await make(kind, { concurrency: 1 });
    manager.define('import', { label: 'Import', run: work() });
    manager.define('hold', { label: 'Hold the line', run: work() });
    await manager.start();
    const empty = { PENDING: 0, RUNNING: 0, DONE: 0, FAILED: 0, CANCELLED: 0, ALL: 0 };
    expect(await manager.countTasks()).toEqual(empty);

    await runToEnd(manager, 'import', undefined, { affected: new Order(42), user: 'Ann' });
    await runToEnd(manager, 'import', undefined, { user: 'Bob' });
    await runToEnd(manager, 'import', { fail: true }, { affected: [new Order(42), new Order(43)], user: 'Ann' });
    const cancelled = await manager.launch('hold', { hold: true }, { affected: new Order(42), user: 'Bob' });
    await running(manager, cancelled.id);
    await manager.cancel(cancelled.id);
    await settled(manager, cancelled.id);
    const held = await manager.launch('hold', { hold: true }, { affected: new Order(43), user: 'Ann' });
    await running(manager, held.id);
    // Behind the running task on one slot.
    const queued = await manager.launch('import', undefined, { affected: new Order(43), user: 'Carol' });
    expect((await manager.getTask(queued.id))?.status).toBe('PENDING');

    expect(await manager.countTasks()).toEqual({ PENDING: 1, RUNNING: 1, DONE: 2, FAILED: 1, CANCELLED: 1, ALL: 6 });
    expect(await manager.countTasks({ affected: 'order:42' })).toEqual({ ...empty, DONE: 1, FAILED: 1, CANCELLED: 1, ALL: 3 });
    expect(await manager.countTasks({ affected: 'Order:43' })).toEqual({ ...empty, PENDING: 1, RUNNING: 1, FAILED: 1, ALL: 3 });
    expect(await manager.countTasks({ affected: 'order:44' })).toEqual(empty);
    expect(await manager.countTasks({ search: 'hold' })).toEqual({ ...empty, RUNNING: 1, CANCELLED: 1, ALL: 2 });
    expect(await manager.countTasks({ search: 'ann' })).toEqual({ ...empty, RUNNING: 1, DONE: 1, FAILED: 1, ALL: 3 });
    expect(await manager.countTasks({ search: 'ann import' })).toEqual({ ...empty, DONE: 1, FAILED: 1, ALL: 2 });
    expect(await manager.countTasks({ search: 'order:43 import' })).toEqual({ ...empty, PENDING: 1, FAILED: 1, ALL: 2 });
    expect(await manager.countTasks({ affected: 'order:42', search: 'bob' })).toEqual({ ...empty, CANCELLED: 1, ALL: 1 });
    // The counts agree with the lists they head.
    const counts = await manager.countTasks({ affected: 'order:43' });
    for (const status of ['PENDING', 'RUNNING', 'DONE', 'FAILED', 'CANCELLED'] as const) {
      expect((await manager.listTasks({ affected: 'order:43', status })).tasks).toHaveLength(counts[status]);
    }
  });
});

describe.each(KINDS)('progress milestones: $name', (kind) => {
  it('records each quarter a run passes, with the percent and message reported then', async () => {
    const clock = new Clock('2027-03-10T10:00:00.000Z');
    const { manager } = await make(kind, { progressIntervalMs: 0, milestonesAfterMs: 0, now: clock.now });
    manager.define('import', {
      run: ({ progress }) => {
        for (const [percent, message] of [[10, 'reading'], [30, 'parsed'], [55, 'half way'], [80, 'writing'], [100, 'done']] as const) {
          clock.advance(1_000);
          progress(percent, message);
        }
        return 'ok';
      },
    });
    await manager.start();
    const record = await runToEnd(manager, 'import');
    expect(record).toMatchObject({ status: 'DONE', progress: 100, message: 'done' });
    expect(record.milestones).toEqual([
      { percent: 30, message: 'parsed', at: '2027-03-10T10:00:02.000Z', attempt: 1 },
      { percent: 55, message: 'half way', at: '2027-03-10T10:00:03.000Z', attempt: 1 },
      { percent: 80, message: 'writing', at: '2027-03-10T10:00:04.000Z', attempt: 1 },
      { percent: 100, message: 'done', at: '2027-03-10T10:00:05.000Z', attempt: 1 },
    ]);
  });

  it('records none in a run\'s first second by default: quick tasks write no more than before', async () => {
    const clock = new Clock('2027-03-10T10:00:00.000Z');
    const { manager } = await make(kind, { progressIntervalMs: 0, now: clock.now });
    manager.define('import', {
      run: ({ progress }) => {
        progress(60, 'early');
        clock.advance(1_500);
        progress(80, 'later');
        return 'ok';
      },
    });
    await manager.start();
    const record = await runToEnd(manager, 'import');
    expect(record.milestones).toEqual([{ percent: 80, message: 'later', at: '2027-03-10T10:00:01.500Z', attempt: 1 }]);
  });

  it('keeps the milestones of a failed attempt and adds those of the next', async () => {
    const { manager } = await make(kind, { progressIntervalMs: 0, milestonesAfterMs: 0 });
    let attempt = 0;
    manager.define('sync', {
      attempts: 2,
      run: ({ progress }) => {
        attempt++;
        if (attempt === 1) {
          progress(30, 'first: a quarter');
          progress({ percent: 60, message: 'first: past half' });
          throw new Error('connection reset');
        }
        progress(20, 'second: starting');
        progress(50, 'second: half');
        progress(99, 'second: nearly');
        progress(100, 'second: done');
        return 'ok';
      },
    });
    await manager.start();
    const record = await runToEnd(manager, 'sync');
    expect(record).toMatchObject({ status: 'DONE', attempt: 2, maxAttempts: 2 });
    expect(record.attemptErrors).toHaveLength(1);
    expect(record.milestones?.map(({ percent, message, attempt: n }) => ({ percent, message, attempt: n }))).toEqual([
      { percent: 30, message: 'first: a quarter', attempt: 1 },
      { percent: 60, message: 'first: past half', attempt: 1 },
      { percent: 50, message: 'second: half', attempt: 2 },
      { percent: 99, message: 'second: nearly', attempt: 2 },
      { percent: 100, message: 'second: done', attempt: 2 },
    ]);
    for (const milestone of record.milestones ?? []) expect(new Date(milestone.at).toISOString()).toBe(milestone.at);
  });
});

describe.each(KINDS)('metrics(): $name', (kind) => {
  /** The bars with tasks, by their start (`2027-03-10T09:50`). */
  const filled = (buckets: readonly MetricsBucket[]) => Object.fromEntries(buckets
    .filter((bucket) => bucket.done + bucket.failed + bucket.cancelled > 0)
    .map(({ start, ...counts }) => [start.slice(0, 16), counts]));
  const kindIn = (metrics: { windows: { name: string; kinds: KindMetrics[] }[] }, window: 'hour' | 'day', name: string) =>
    metrics.windows.find((w) => w.name === window)?.kinds.find((k) => k.kind === name);

  it('counts finished tasks per kind over the hour and the day, with rates, throughput and run-time percentiles', async () => {
    const clock = new Clock('2027-03-08T10:00:00.000Z');
    const { manager } = await make(kind, { now: clock.now, metricsCacheMs: 10_000 });
    manager.define('export', { run: work(clock) });
    manager.define('report', { run: work(clock) });
    await manager.start();
    const launch = async (name: string, ...inputs: Work[]) => {
      for (const input of inputs) await runToEnd(manager, name, input as JsonValue);
    };

    await launch('export', { ms: 1_000 }); // before the day window
    clock.set('2027-03-10T08:00:00.000Z');
    await launch('export', { ms: 20_000 }); // in the day window only
    clock.set('2027-03-10T09:50:00.000Z');
    await launch('export', { ms: 4_000 }, { ms: 1_000 }, { ms: 3_000 }, { fail: true });
    await launch('report', { ms: 2_000 });
    clock.set('2027-03-10T10:20:00.000Z');
    await launch('export', { ms: 2_000 }, { ms: 5_000 });
    await launch('report', { fail: true });
    const cancelled = await manager.launch('report', { hold: true });
    await running(manager, cancelled.id);
    await manager.cancel(cancelled.id);
    await settled(manager, cancelled.id);
    clock.set('2027-03-10T10:31:00.000Z');
    const unfinished = await manager.launch('export', { hold: true });
    await running(manager, unfinished.id);
    clock.set('2027-03-10T10:32:00.000Z');

    const metrics = await manager.metrics();
    expect(metrics.generatedAt).toBe('2027-03-10T10:32:00.000Z');
    const [hour, day] = metrics.windows;
    // Bars aligned to their length, the last one holding now.
    expect(hour).toMatchObject({ name: 'hour', from: '2027-03-10T09:35:00.000Z', to: '2027-03-10T10:35:00.000Z', bucketMs: 300_000 });
    expect(day).toMatchObject({ name: 'day', from: '2027-03-09T11:00:00.000Z', to: '2027-03-10T11:00:00.000Z', bucketMs: 3_600_000 });
    expect(hour.kinds.map((k) => k.kind)).toEqual(['export', 'report']);
    expect(day.kinds.map((k) => k.kind)).toEqual(['export', 'report']);

    // The hour: 57 minutes of it have passed.
    const hourExport = kindIn(metrics, 'hour', 'export')!;
    expect(hourExport).toMatchObject({ finished: 6, done: 5, failed: 1, cancelled: 0, throughputPerHour: 6.3, durationP50: 3, durationP95: 5 });
    expect(hourExport.failureRate).toBeCloseTo(1 / 6, 10);
    expect(hourExport.buckets).toHaveLength(12);
    expect(hourExport.buckets[0].start).toBe('2027-03-10T09:35:00.000Z');
    expect(filled(hourExport.buckets)).toEqual({
      '2027-03-10T09:50': { done: 3, failed: 1, cancelled: 0 },
      '2027-03-10T10:20': { done: 2, failed: 0, cancelled: 0 },
    });
    const hourReport = kindIn(metrics, 'hour', 'report')!;
    expect(hourReport).toMatchObject({ finished: 3, done: 1, failed: 1, cancelled: 1, throughputPerHour: 3.2, durationP50: 2, durationP95: 2 });
    expect(hourReport.failureRate).toBeCloseTo(1 / 3, 10);
    expect(filled(hourReport.buckets)).toEqual({
      '2027-03-10T09:50': { done: 1, failed: 0, cancelled: 0 },
      '2027-03-10T10:20': { done: 0, failed: 1, cancelled: 1 },
    });

    // The day: 23 h 32 min of it have passed; the 20-second run is the 95th percentile (rank 6 of 6).
    const dayExport = kindIn(metrics, 'day', 'export')!;
    expect(dayExport).toMatchObject({ finished: 7, done: 6, failed: 1, cancelled: 0, throughputPerHour: 0.3, durationP50: 3, durationP95: 20 });
    expect(dayExport.failureRate).toBeCloseTo(1 / 7, 10);
    expect(dayExport.buckets).toHaveLength(24);
    expect(filled(dayExport.buckets)).toEqual({
      '2027-03-10T08:00': { done: 1, failed: 0, cancelled: 0 },
      '2027-03-10T09:00': { done: 3, failed: 1, cancelled: 0 },
      '2027-03-10T10:00': { done: 2, failed: 0, cancelled: 0 },
    });
    expect(kindIn(metrics, 'day', 'report')).toMatchObject({ finished: 3, done: 1, failed: 1, cancelled: 1, throughputPerHour: 0.1, durationP50: 2, durationP95: 2 });

    // Served from the cache for metricsCacheMs, even after another task finished...
    await launch('export', { ms: 1_000 });
    clock.set('2027-03-10T10:32:09.999Z');
    expect(await manager.metrics()).toBe(metrics);
    // ...then computed again.
    clock.set('2027-03-10T10:32:10.000Z');
    const fresh = await manager.metrics();
    expect(fresh).not.toBe(metrics);
    expect(fresh.generatedAt).toBe('2027-03-10T10:32:10.000Z');
    expect(kindIn(fresh, 'hour', 'export')).toMatchObject({ finished: 7, done: 6, durationP50: 2, durationP95: 5 });
    expect(filled(kindIn(fresh, 'hour', 'export')!.buckets)['2027-03-10T10:30']).toEqual({ done: 1, failed: 0, cancelled: 0 });
    expect(await manager.metrics()).toBe(fresh);
  });

  it('has no kinds in a window without finished tasks', async () => {
    const clock = new Clock('2027-03-10T10:32:00.000Z');
    const { manager } = await make(kind, { now: clock.now });
    await manager.start();
    const metrics = await manager.metrics();
    expect(metrics.windows.map((w) => [w.name, w.kinds])).toEqual([['hour', []], ['day', []]]);
  });
});

describe('ModelTrackingTaskManager without StablehandTaskKey', () => {
  it('is not searchable, and says which entity to register when asked to search or filter by object', async () => {
    const dataSource = own(new DataSource({
      type: 'better-sqlite3', database: join(tempDir(), 'no-keys.db'), entities: [StablehandTaskRecord, StablehandTaskLock], synchronize: true,
    }));
    await dataSource.initialize();
    const { manager } = await make(sqliteKind, { dataSource });
    manager.define('sync', { label: 'Sync', run: work() });
    await manager.start();
    expect(manager.searchable).toBe(false);
    const done = await runToEnd(manager, 'sync', undefined, { affected: new Order(1), user: 'Ann' });
    const failed = await runToEnd(manager, 'sync', { fail: true }, { affected: new Order(1), user: 'Ann' });
    const names = (error: unknown) => error instanceof InvalidInputError && error.message.includes('StablehandTaskKey');
    for (const query of [{ search: 'sync' }, { affected: 'order:1' }, { search: 'ann', affected: 'order:1' }]) {
      await expect(manager.listTasks(query)).rejects.toSatisfy(names);
      await expect(manager.countTasks(query)).rejects.toSatisfy(names);
    }
    // Everything else works without the index table.
    expect(ids((await manager.listTasks()).tasks)).toEqual([failed.id, done.id]);
    expect(await manager.countTasks()).toMatchObject({ DONE: 1, FAILED: 1, ALL: 2 });
    expect(await manager.affectedKeysOf(done.id)).toEqual([]);
    const retried = await manager.retry(failed.id, { user: 'Bob' });
    expect(await manager.getTask(retried.id)).toMatchObject({ retryOf: failed.id, affected: '1' });
    expect(await manager.getTask(failed.id)).toMatchObject({ retriedAs: retried.id, retriedBy: 'Bob' });
  });
});
