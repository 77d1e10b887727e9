import { EntitySchema } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfigurationError, MemoryRecordStore, ModelTrackingTaskManager, StoreUnavailableError, TaskManager,
  type LifecycleEventName, type LifecyclePayload, type RecordStore, type TaskRecord,
} from '../../src/index.js';
import { sqlite } from '../helpers/data-sources.js';
import { deferred, recordingLogger, waitFor } from '../helpers/wait.js';

const finished = (manager: TaskManager, id: string) => waitFor(async () => {
  const record = await manager.getTask(id);
  return record?.cleanedUp ? record : null;
}, 5_000, `task ${id} to finish`);

describe('a misbehaving host cannot break a task', () => {
  const managers: TaskManager[] = [];
  afterEach(async () => {
    for (const manager of managers.splice(0)) await manager.stop({ graceMs: 50 });
  });

  it('stores the default rendering when a formatter throws, on the sync and async paths', async () => {
    const logger = recordingLogger();
    const manager = new TaskManager({
      logger,
      formatPayload: (value, key) => {
        if (key === 'result') throw new Error('formatter bug');
        return value as never;
      },
      formatUser: () => { throw new Error('user formatter bug'); },
    });
    managers.push(manager);
    manager.define('sync', { label: 'Sync', run: () => ({ n: 1 }) });
    manager.define('async', { label: 'Async', run: () => Promise.resolve({ n: 2 }) });
    await manager.start();
    const a = await manager.launch('sync', null, { user: { username: 'ann' } });
    const b = await manager.launch('async');
    expect(await finished(manager, a.id)).toMatchObject({ status: 'DONE', result: { n: 1 }, user: 'ann' });
    expect(await finished(manager, b.id)).toMatchObject({ status: 'DONE', result: { n: 2 }, user: 'Anonymous' });
    expect(logger.lines.filter((l) => l.includes('formatting the result threw'))).toHaveLength(2);
    expect(logger.lines.some((l) => l.includes('formatting the user threw'))).toBe(true);
  });

  it('runs an onLifecycle hook written as a class field for every event', async () => {
    const seen: LifecycleEventName[] = [];
    class FieldHook extends TaskManager {
      protected override onLifecycle = (event: LifecycleEventName): void => {
        seen.push(event);
      };
    }
    const manager = new FieldHook();
    managers.push(manager);
    manager.define('ok', { label: 'Ok', run: () => 'ok' });
    await manager.start();
    await finished(manager, (await manager.launch('ok')).id);
    expect(seen).toEqual(['create', 'start', 'complete', 'cleanup']);
  });

  it('hands listeners the formatted input, result and progress, as stored', async () => {
    const manager = new TaskManager({
      progressIntervalMs: 0,
      formatPayload: (value) => JSON.parse(JSON.stringify(value).replaceAll('s3cret', '[redacted]')),
    });
    managers.push(manager);
    const events: LifecyclePayload[] = [];
    for (const event of ['create', 'progress', 'complete'] as const) manager.on(event, (p) => events.push(p));
    manager.define('leaky', { label: 'Leaky', run: ({ progress }) => { progress({ percent: 10, token: 's3cret' }); return { token: 's3cret' }; } });
    await manager.start();
    await finished(manager, (await manager.launch('leaky', { token: 's3cret' })).id);
    expect(JSON.stringify(events)).not.toContain('s3cret');
    expect(events.map((e) => e.input ?? e.progressPayload ?? e.result)).toEqual([
      { token: '[redacted]' }, { percent: 10, token: '[redacted]' }, { token: '[redacted]' },
    ]);
  });

  it('cancels a task whose record is visible before its launch() resolved, in lifecycle order', async () => {
    const gate = deferred();
    const inner = new MemoryRecordStore();
    // A slow database: the record is readable before create() reports it durable.
    const slow: RecordStore = Object.assign(Object.create(inner) as RecordStore, {
      create: async (record: TaskRecord, keys?: readonly string[]) => {
        await inner.create(record, keys);
        if (record.taskName === 'target') await gate.promise;
      },
    });
    const manager = new TaskManager({ store: slow, concurrency: 1 });
    managers.push(manager);
    let ran = 0;
    manager.define('blocker', { label: 'Blocker', run: () => new Promise<never>(() => undefined) });
    manager.define('target', { label: 'Target', run: () => { ran++; return 'ran'; } });
    const events: string[] = [];
    for (const event of ['create', 'start', 'cancel', 'cleanup'] as const) manager.on(event, (p) => p.taskName === 'target' && events.push(event));
    await manager.start();
    await manager.launch('blocker');
    const launching = manager.launch('target');
    const seen = await waitFor(async () => (await manager.listTasks({ limit: 5 })).tasks.find((t) => t.taskName === 'target'));
    const cancelling = manager.cancel(seen.id);
    gate.resolve();
    expect(await launching).toMatchObject({ id: seen.id, status: 'PENDING' });
    expect(await cancelling).toEqual({ id: seen.id, status: 'CANCELLED' });
    expect(await manager.getTask(seen.id)).toMatchObject({ status: 'CANCELLED', startedAt: null });
    expect(ran).toBe(0);
    expect(events).toEqual(['create', 'cancel', 'cleanup']);
  });

  it('keys locks by class and id, so equal names or equal ids of different kinds do not collide', async () => {
    class Order { constructor(readonly id: number, readonly name: string) {} }
    class Customer { constructor(readonly id: number, readonly name: string) {} }
    const manager = new TaskManager();
    managers.push(manager);
    manager.define('hold', { label: 'Hold', run: () => new Promise<never>(() => undefined) });
    await manager.start();
    await manager.launch('hold', null, { affected: [new Order(7, 'Ann')], lock: true });
    await manager.launch('hold', null, { affected: [new Order(8, 'Ann'), new Customer(7, 'Bob')], lock: true });
    await expect(manager.launch('hold', null, { affected: [new Order(7, 'Zed')], lock: true })).rejects.toMatchObject({ objects: ['Order:7'] });
  });
});

interface NoteRow { id: string; status: string; label: string; message: string | null; createdAt: Date }

/** A host table whose CHECK constraints refuse long labels and long messages. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- TypeORM declares EntitySchemaOptions as a class but takes plain option objects
const StrictNote = new EntitySchema<NoteRow>({
  name: 'StrictNote',
  tableName: 'strict_note',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    status: { type: 'varchar', length: 20 },
    label: { type: 'varchar', length: 200 },
    message: { type: 'varchar', length: 200, nullable: true },
    createdAt: { name: 'created_at', type: Date, precision: 3 },
  },
  checks: [{ name: 'CHK_strict_label', expression: 'length(label) < 40' }, { name: 'CHK_strict_message', expression: 'length(message) < 40' }],
});

describe('writes the database refuses for good', () => {
  it('fail only their own task, never the writes queued with them or after them', async () => {
    const dataSource = await sqlite.open([StrictNote]);
    const logger = recordingLogger();
    const manager = new ModelTrackingTaskManager({ dataSource, entity: StrictNote, logger, progressIntervalMs: 0 });
    manager.define('note', { label: 'Note', run: ({ progress, input }) => { progress(50, input as string); return 'ok'; } });
    await manager.start();
    const launches = await Promise.allSettled([
      manager.launch('note', 'short'),
      manager.launch('note', 'short', { label: 'x'.repeat(60) }),
      manager.launch('note', 'a message far longer than the forty characters allowed'),
      manager.launch('note', 'also short'),
    ]);
    expect(launches.map((l) => l.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((launches[1] as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
    const [ok, , long, ok2] = launches.map((l) => (l.status === 'fulfilled' ? l.value.id : ''));
    const rows = () => dataSource.query('SELECT id, status, message FROM strict_note ORDER BY id');
    await waitFor(async () => (await rows()).every((r: { status: string }) => r.status === 'DONE'), 5_000, 'every stored task to finish');
    expect(await rows()).toEqual([
      { id: ok, status: 'DONE', message: 'short' },
      { id: long, status: 'DONE', message: null },
      { id: ok2, status: 'DONE', message: 'also short' },
    ]);
    expect(logger.lines.some((l) => l.includes(`refused a change to task record ${long}`))).toBe(true);
    const later = await manager.launch('note', 'after');
    await waitFor(async () => (await manager.getTask(later.id))?.status === 'DONE');
    await manager.stop();
    await dataSource.destroy();
  });

  it('are caught at start() when a NOT NULL column has no key to fill it', async () => {
    const dataSource = await sqlite.open([StrictNote]);
    const manager = new ModelTrackingTaskManager({ dataSource, entity: StrictNote, fieldMap: { label: null } });
    const error = await manager.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/Column "label" of entity StrictNote is NOT NULL without a default and no fieldMap key fills it/);
    await dataSource.destroy();
  });
});
