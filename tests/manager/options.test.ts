import { describe, expect, it } from 'vitest';
import {
  ConfigurationError, InProcessRunner, MemoryRecordStore, ModelTrackingTaskManager, StablehandTaskRecord, TaskManager, TypeOrmRecordStore,
} from '../../src/index.js';
import { recordingLogger, waitFor } from '../helpers/wait.js';

describe('TaskManager options and definitions', () => {
  it.each([
    [{ concurrency: 0 }, /concurrency must be a whole number of at least 1; got 0/],
    [{ concurrency: 1.5 }, /concurrency must be a whole number/],
    [{ cancelGraceMs: -1 }, /cancelGraceMs must be a number of milliseconds of at least 0; got -1/],
    [{ progressIntervalMs: Number.NaN }, /progressIntervalMs must be a number/],
    [{ defaultTimeoutMs: 0 }, /defaultTimeoutMs must be a number of milliseconds of at least 1/],
    [{ cleanupIntervalMs: '5' }, /cleanupIntervalMs must be a number/],
    [{ logger: { warn: () => undefined } }, /logger must have warn\(\) and error\(\) methods/],
    [{ abandonedMessage: '' }, /abandonedMessage must be a non-empty string/],
    [{ now: 'yesterday' }, /now must be a function/],
    [{ concurrancy: 2 }, /TaskManager: concurrancy is not an option; the options are store, runner, concurrency/],
    [{ cleanup: { olderThan: 5 } }, /cleanup: olderThan is not an option; the options are olderThanMs, deleteRecords/],
    [{ reconcileOnStart: 'no' }, /reconcileOnStart must be true or false/],
    [{ runner: new InProcessRunner(), concurrency: 8 }, /concurrency sets up the default in-process runner; with your own runner, give the concurrency to the runner/],
    ['fast', /TaskManager options must be an object/],
  ])('rejects %j with a ConfigurationError naming the option', (options, message) => {
    const attempt = () => new TaskManager(options as never);
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(message);
  });

  it('rejects bad runner options', () => {
    expect(() => new InProcessRunner({ concurrency: -2 })).toThrow(/concurrency must be a whole number of at least 1; got -2/);
    expect(() => new InProcessRunner({ concurency: 2 } as never)).toThrow(/InProcessRunner: concurency is not an option; the options are concurrency/);
  });

  it('refuses options ModelTrackingTaskManager does not take, and accepts its own', () => {
    expect(() => new ModelTrackingTaskManager({ entity: StablehandTaskRecord, fieldMap: {}, statusValues: {} })).not.toThrow();
    expect(() => new ModelTrackingTaskManager({ store: new MemoryRecordStore() } as never)).toThrow(/builds its own store from dataSource/);
    expect(() => new ModelTrackingTaskManager({ fieldmap: {} } as never)).toThrow(/fieldmap is not an option; the options are .*dataSource, entity, fieldMap, statusValues/);
    expect(() => new TypeOrmRecordStore({ dataSource: {} } as never)).toThrow(ConfigurationError);
  });

  const one = (): number => 1;
  it.each([
    ['', { run: one }, /A task kind must be a non-empty string/],
    ['x', null, /The definition of "x" must be an object with a run\(\) function/],
    ['x', { label: 'X' }, /The definition of "x" needs a run\(\) function/],
    ['x', { run: one, label: 42 }, /label of "x" must be a non-empty string or a function of the input that returns one/],
    ['x', { run: one, label: '' }, /label of "x" must be a non-empty string/],
    ['x', { run: one, timeoutMs: 0 }, /timeoutMs of "x" must be a number of milliseconds of at least 1/],
  ])('rejects the definition of %j', (kind, definition, message) => {
    expect(() => new TaskManager().define(kind, definition as never)).toThrow(message);
  });

  it('refuses to define a kind twice and lists kinds in definition order', () => {
    const manager = new TaskManager().define('b', { run: () => 1 }).define('a', { run: () => 2 });
    expect(manager.kinds).toEqual(['b', 'a']);
    expect(() => manager.define('a', { run: () => 3 })).toThrow(/Task kind "a" is already defined/);
  });

  it('labels each run by the definition\'s text or function of the input, and a launch may override it', async () => {
    const logger = recordingLogger();
    const manager = new TaskManager<{ routine: undefined; export: { orders: number[] }; 'broken-label': undefined; bare: undefined }>({ logger })
      .define('routine', { label: 'Restocking hay loft', run: () => 'ok' })
      .define('export', { label: ({ orders }) => `Export ${orders.length} orders`, run: () => 'ok' })
      .define('broken-label', { label: () => { throw new Error('no words'); }, run: () => 'ok' })
      .define('bare', { run: () => 'ok' });
    await manager.start();
    expect((await manager.launch('routine')).label).toBe('Restocking hay loft');
    expect((await manager.launch('export', { orders: [1, 2, 3] })).label).toBe('Export 3 orders');
    expect((await manager.launch('bare')).label).toBe('bare');
    const broken = await manager.launch('broken-label');
    expect(broken.label).toBe('broken-label');
    expect(await manager.getTask(broken.id)).toMatchObject({ label: 'broken-label' });
    expect(logger.lines.some((line) => line.includes('the label function of "broken-label" threw') && line.includes('no words'))).toBe(true);
    expect((await manager.launch('routine', undefined, { label: 'Special' })).label).toBe('Special');
    await expect(manager.launch('routine', undefined, { label: '' })).rejects.toThrow(/label must be a non-empty string/);
    await manager.stop();
  });

  it('uses the injected clock for every timestamp', async () => {
    let clock = new Date('2026-01-01T12:00:00.000Z');
    const manager = new TaskManager({ now: () => clock });
    manager.define('tick', {
      label: 'Tick',
      run: () => {
        clock = new Date('2026-01-01T12:00:01.500Z');
        return 'ok';
      },
    });
    await manager.start();
    const { id } = await manager.launch('tick');
    const record = await waitFor(async () => ((await manager.getTask(id))?.cleanedUp ? manager.getTask(id) : null));
    expect(record.createdAt!.toISOString()).toBe('2026-01-01T12:00:00.000Z');
    expect(record.startedAt!.toISOString()).toBe('2026-01-01T12:00:00.000Z');
    expect(record.completedAt!.toISOString()).toBe('2026-01-01T12:00:01.500Z');
    expect(record.duration).toBe(1.5);
    await manager.stop();
  });

  it('runs the periodic cleanup sweep when cleanupIntervalMs is set, and stops it at stop()', async () => {
    const manager = new TaskManager({ cleanupIntervalMs: 20, cleanup: { olderThanMs: 0, deleteRecords: true } });
    manager.define('ok', { label: 'Ok', run: () => 'ok' });
    await manager.start();
    await manager.launch('ok');
    await waitFor(async () => (await manager.listTasks()).tasks.length === 0, 2_000, 'the periodic sweep');
    await manager.stop();
  });

  it('can be started twice, stopped twice, and never restarted once stopped', async () => {
    const manager = new TaskManager();
    await Promise.all([manager.start(), manager.start()]);
    expect(manager.running).toBe(true);
    await Promise.all([manager.stop(), manager.stop()]);
    expect(manager.running).toBe(false);
    await expect(manager.start()).rejects.toThrow(/A stopped task manager cannot start again/);
  });
});
