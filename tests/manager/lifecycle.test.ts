import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidInputError, ManagerStoppedError, TaskAlreadyFinishedError, TaskNotFoundError, UnknownTaskKindError,
  type LifecycleListener, type TaskManager,
} from '../../src/index.js';
import { memoryKind, recordEvents, sqliteKind } from '../helpers/managers.js';
import { deferred, recordingLogger, waitFor } from '../helpers/wait.js';

describe.each([memoryKind, sqliteKind])('lifecycle: $name', (kind) => {
  let manager: TaskManager;
  afterEach(async () => {
    // Unset when a test failed before creating one.
    await (manager as TaskManager | undefined)?.stop({ graceMs: 100 });
  });

  async function finished(id: string) {
    return waitFor(async () => {
      const record = await manager.getTask(id);
      return record && ['DONE', 'FAILED', 'CANCELLED'].includes(record.status) && record.cleanedUp ? record : null;
    }, 5_000, `task ${id} to finish`);
  }

  it('emits create, start, progress, complete, cleanup in order and records each step', async () => {
    ({ manager } = await kind.create({ progressIntervalMs: 0 }));
    const gate = deferred();
    manager.define('import', {
      label: 'Import rows',
      run: async ({ progress, input }) => {
        progress(40, 'reading');
        await gate.promise;
        return { rows: (input as { rows: number }).rows };
      },
    });
    const events = recordEvents(manager);
    await manager.start();
    const launched = await manager.launch('import', { rows: 3 }, { user: { username: 'ann' }, affected: ['order:1', 'order:2'] });
    expect(launched).toEqual({ id: expect.any(String), taskName: 'import', label: 'Import rows', status: 'PENDING' });

    const pending = await manager.getTask(launched.id);
    expect(pending).toMatchObject({ status: expect.stringMatching(/PENDING|RUNNING/), user: 'ann', affected: 'order:1, order:2', input: { rows: 3 } });
    const running = await waitFor(async () => {
      const record = await manager.getTask(launched.id);
      return record?.status === 'RUNNING' && record.progress === 40 ? record : null;
    });
    expect(running).toMatchObject({ message: 'reading', completedAt: null, result: null });
    expect(running.startedAt).toBeInstanceOf(Date);

    gate.resolve();
    const done = await finished(launched.id);
    expect(done).toMatchObject({
      status: 'DONE', result: { rows: 3 }, error: null, failedAt: null, progress: 40, message: 'reading', cleanedUp: true, label: 'Import rows', taskName: 'import',
    });
    expect(done.completedAt!.getTime()).toBeGreaterThanOrEqual(done.startedAt!.getTime());
    expect(done.duration).toBeCloseTo((done.completedAt!.getTime() - done.startedAt!.getTime()) / 1000, 3);

    expect(events.map((e) => e.event)).toEqual(['create', 'start', 'progress', 'complete', 'cleanup']);
    const [create, start, progress, complete, cleanup] = events.map((e) => e.payload);
    expect(create).toMatchObject({ id: launched.id, taskName: 'import', label: 'Import rows', status: 'PENDING', input: { rows: 3 }, user: { username: 'ann' } });
    expect(start).toMatchObject({ status: 'RUNNING', startedAt: expect.any(Date) });
    expect(progress).toMatchObject({ status: 'RUNNING', progress: 40, message: 'reading' });
    expect(complete).toMatchObject({ status: 'DONE', result: { rows: 3 }, completedAt: expect.any(Date), duration: expect.any(Number) });
    expect(cleanup).toMatchObject({ cleanedUp: true });
    expect(cleanup.status).toBeUndefined();
    for (const { payload } of events) expect(payload.timestamp).toBeInstanceOf(Date);
  });

  it('records a throwing handler as FAILED with its message', async () => {
    ({ manager } = await kind.create());
    manager.define('broken', { label: 'Broken', run: () => { throw new Error('hay loft is empty'); } });
    const events = recordEvents(manager);
    await manager.start();
    const { id } = await manager.launch('broken');
    const record = await finished(id);
    expect(record).toMatchObject({ status: 'FAILED', error: 'hay loft is empty', message: 'hay loft is empty', result: null });
    expect(record.failedAt).toBeInstanceOf(Date);
    expect(record.completedAt).toEqual(record.failedAt);
    expect(events.map((e) => e.event)).toEqual(['create', 'start', 'fail', 'cleanup']);
    expect(events[2].payload).toMatchObject({ status: 'FAILED', error: 'hay loft is empty' });
  });

  it('rejects bad launches with typed errors', async () => {
    ({ manager } = await kind.create());
    manager.define('ok', { label: 'Ok', run: () => 'fine' });
    await expect(manager.launch('ok')).rejects.toBeInstanceOf(ManagerStoppedError);
    await manager.start();
    await expect(manager.launch('nope')).rejects.toSatisfy((e) => e instanceof UnknownTaskKindError && e.code === 'UNKNOWN_KIND' && e.message.includes('Defined kinds: ok'));
    await expect(manager.launch('ok', { when: new Date() } as never)).rejects.toSatisfy((e) => e instanceof InvalidInputError && e.message.includes('input.when is a Date'));
    await expect(manager.launch('ok', Number.NaN)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(manager.launch('ok', undefined, { lock: true })).rejects.toThrow(/lock: true needs affected objects/);
    expect((await manager.listTasks()).tasks).toHaveLength(0);
  });

  it('cancels a running task: aborts its signal and records CANCELLED when it settles', async () => {
    ({ manager } = await kind.create());
    let signal: AbortSignal | undefined;
    manager.define('long', {
      label: 'Long',
      run: (ctx) => new Promise<never>((resolve, reject) => {
        signal = ctx.signal;
        // stablehand aborts the signal with a DOMException.
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error));
      }),
    });
    const events = recordEvents(manager);
    await manager.start();
    const { id } = await manager.launch('long');
    await waitFor(() => signal);
    expect(await manager.cancel(id)).toEqual({ id, status: 'CANCELLING' });
    const record = await finished(id);
    expect(signal!.aborted).toBe(true);
    expect(record).toMatchObject({ status: 'CANCELLED', message: 'Cancelled', error: null });
    expect(events.map((e) => e.event)).toEqual(['create', 'start', 'cancel', 'cleanup']);
    await expect(manager.cancel(id)).rejects.toBeInstanceOf(TaskAlreadyFinishedError);
    await expect(manager.cancel('00000000-0000-7000-8000-000000000000')).rejects.toBeInstanceOf(TaskNotFoundError);
  });

  it('cancels a queued task at once, and it never starts', async () => {
    ({ manager } = await kind.create({ concurrency: 1 }));
    const gate = deferred();
    let runs = 0;
    manager.define('slot', { label: 'Slot', run: async () => { runs++; await gate.promise; } });
    await manager.start();
    const first = await manager.launch('slot');
    const second = await manager.launch('slot');
    expect(await manager.cancel(second.id)).toEqual({ id: second.id, status: 'CANCELLED' });
    gate.resolve();
    await finished(first.id);
    const record = await finished(second.id);
    expect(record).toMatchObject({ status: 'CANCELLED', startedAt: null });
    expect(runs).toBe(1);
  });

  it('gives a handler that ignores its signal the grace period, then records CANCELLED and frees the slot', async () => {
    ({ manager } = await kind.create({ concurrency: 1, cancelGraceMs: 50 }));
    const stubborn = deferred<string>();
    manager.define('stubborn', { label: 'Stubborn', run: () => stubborn.promise });
    manager.define('quick', { label: 'Quick', run: () => 'quick' });
    await manager.start();
    const { id } = await manager.launch('stubborn');
    await waitFor(async () => (await manager.getTask(id))?.status === 'RUNNING');
    const next = await manager.launch('quick');
    await manager.cancel(id);
    expect(await finished(id)).toMatchObject({ status: 'CANCELLED' });
    expect(await finished(next.id)).toMatchObject({ status: 'DONE', result: 'quick' });
    stubborn.resolve('too late');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await manager.getTask(id)).toMatchObject({ status: 'CANCELLED', result: null });
  });

  it('fails a task that outlives its timeout, aborts its signal, and ignores its late result', async () => {
    ({ manager } = await kind.create({ cancelGraceMs: 1_000 }));
    const late = deferred<string>();
    let signal: AbortSignal | undefined;
    manager.define('slow', { label: 'Slow', timeoutMs: 30, run: (ctx) => { signal = ctx.signal; return late.promise; } });
    const events = recordEvents(manager);
    await manager.start();
    const { id } = await manager.launch('slow');
    const record = await finished(id);
    expect(record).toMatchObject({ status: 'FAILED', error: 'Timed out after 30 ms' });
    expect(signal!.aborted).toBe(true);
    expect((signal!.reason as DOMException).name).toBe('TimeoutError');
    late.resolve('finally');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await manager.getTask(id)).toMatchObject({ status: 'FAILED', result: null });
    expect(events.filter((e) => e.event === 'complete')).toHaveLength(0);
    await expect(manager.cancel(id)).rejects.toBeInstanceOf(TaskAlreadyFinishedError);
  });

  it('never runs more tasks at once than the concurrency limit', async () => {
    ({ manager } = await kind.create({ concurrency: 3 }));
    let now = 0;
    let peak = 0;
    manager.define('work', {
      label: 'Work',
      run: async () => {
        peak = Math.max(peak, ++now);
        await new Promise((resolve) => setTimeout(resolve, 5));
        now--;
      },
    });
    await manager.start();
    const ids = await Promise.all(Array.from({ length: 20 }, () => manager.launch('work').then((t) => t.id)));
    for (const id of ids) expect(await finished(id)).toMatchObject({ status: 'DONE' });
    expect(peak).toBe(3);
  });

  it('coalesces progress: many calls, few writes, the exact last value before the terminal state', async () => {
    ({ manager } = await kind.create({ progressIntervalMs: 40 }));
    manager.define('chatty', {
      label: 'Chatty',
      run: async ({ progress }) => {
        for (let i = 1; i <= 1000; i++) {
          progress(i / 10, i === 500 ? 'halfway' : undefined);
          if (i % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 10));
        }
        progress({ percent: 99.9, stage: 'final' });
      },
    });
    const events = recordEvents(manager);
    await manager.start();
    const { id } = await manager.launch('chatty');
    const record = await finished(id);
    const progress = events.filter((e) => e.event === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.length).toBeLessThan(15);
    expect(progress.at(-1)!.payload).toMatchObject({ progress: 99.9, progressPayload: { percent: 99.9, stage: 'final' } });
    expect(events.findIndex((e) => e.event === 'complete')).toBeGreaterThan(events.indexOf(progress.at(-1)!));
    expect(record.progress).toBe(99.9);
    expect(record.message).toBe('halfway');
  });

  it('keeps terminal states final against late events', async () => {
    ({ manager } = await kind.create({ progressIntervalMs: 0, cancelGraceMs: 20 }));
    let report: ((value: number) => void) | undefined;
    const gate = deferred<string>();
    manager.define('racy', { label: 'Racy', run: ({ progress }) => { report = progress; return gate.promise; } });
    await manager.start();
    const { id } = await manager.launch('racy');
    await waitFor(() => report);
    await manager.cancel(id);
    const cancelled = await finished(id);
    report!(77);
    gate.resolve('result after cancel');
    await new Promise((resolve) => setTimeout(resolve, 30));
    const after = await manager.getTask(id);
    expect(after).toMatchObject({ status: 'CANCELLED', result: null, progress: null });
    expect(after!.updatedAt).toEqual(cancelled.updatedAt);
  });

  it('logs and swallows listener and hook errors without changing the outcome', async () => {
    const logger = recordingLogger();
    ({ manager } = await kind.create({ logger }));
    manager.define('ok', { label: 'Ok', run: () => 42 });
    manager.on('start', () => { throw new Error('listener exploded'); });
    const seen: string[] = [];
    manager.on('complete', (p) => seen.push(JSON.stringify(p.result)));
    await manager.start();
    const { id } = await manager.launch('ok');
    expect(await finished(id)).toMatchObject({ status: 'DONE', result: 42 });
    expect(seen).toEqual(['42']);
    expect(logger.lines.some((line) => line.includes('"start" listener threw') && line.includes('listener exploded'))).toBe(true);
  });

  it('isolates async listeners that reject: logged once with the event and task id, nothing else changes', async () => {
    const logger = recordingLogger();
    ({ manager } = await kind.create({ logger }));
    manager.define('ok', { label: 'Ok', run: () => 42 });
    // Listeners are typed as returning nothing; hosts pass async ones all the same.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the very case under test
    manager.on('complete', async () => {
      await Promise.resolve();
      throw new Error('async listener exploded');
    });
    const rejecting = (() => Promise.reject(new Error('cleanup listener rejected'))) as unknown as LifecycleListener;
    manager.on('cleanup', rejecting);
    const later: string[] = [];
    manager.on('cleanup', (payload) => later.push(payload.id));
    await manager.start();
    const { id } = await manager.launch('ok');
    expect(await finished(id)).toMatchObject({ status: 'DONE', result: 42, cleanedUp: true });
    await waitFor(() => logger.lines.filter((line) => line.includes(id)).length >= 2, 2_000, 'both rejections to be logged');
    const lines = logger.lines.filter((line) => line.includes(id));
    expect(lines).toHaveLength(2);
    expect(lines.some((line) => line.includes('"complete"') && line.includes('async listener exploded'))).toBe(true);
    expect(lines.some((line) => line.includes('"cleanup"') && line.includes('cleanup listener rejected'))).toBe(true);
    expect(later).toEqual([id]);
    // The manager goes on: another task runs to its end.
    const next = await manager.launch('ok');
    expect(await finished(next.id)).toMatchObject({ status: 'DONE' });
  });

  it('unsubscribes listeners with off() and with the function on() returns', async () => {
    ({ manager } = await kind.create());
    manager.define('ok', { label: 'Ok', run: () => 1 });
    const calls: string[] = [];
    const a = () => calls.push('a');
    const unsubscribeB = manager.on('complete', () => calls.push('b'));
    manager.on('complete', a);
    manager.off('complete', a);
    unsubscribeB();
    await manager.start();
    await finished((await manager.launch('ok')).id);
    expect(calls).toEqual([]);
  });

  it('lists tasks newest first with status filters and cursor pages', async () => {
    ({ manager } = await kind.create({ concurrency: 1 }));
    manager.define('ok', { label: 'Ok', run: () => 'ok' });
    manager.define('bad', { label: 'Bad', run: () => { throw new Error('no'); } });
    await manager.start();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await manager.launch(i % 3 === 0 ? 'bad' : 'ok')).id);
    for (const id of ids) await finished(id);
    const first = await manager.listTasks({ limit: 3 });
    expect(first.tasks.map((t) => t.id)).toEqual([...ids].reverse().slice(0, 3));
    const second = await manager.listTasks({ limit: 3, before: first.nextCursor! });
    expect(second.tasks.map((t) => t.id)).toEqual([...ids].reverse().slice(3, 6));
    const third = await manager.listTasks({ limit: 3, before: second.nextCursor! });
    expect(third).toEqual({ tasks: [expect.objectContaining({ id: ids[0] })], nextCursor: null, prevCursor: ids[0] });
    expect(first.prevCursor).toBeNull();
    // Back towards the newest: a whole page of newer tasks, then (less than a page left) the first page.
    const back = await manager.listTasks({ limit: 3, after: third.prevCursor! });
    expect(back.tasks.map((t) => t.id)).toEqual([ids[3], ids[2], ids[1]]);
    expect(back.prevCursor).toBe(ids[3]);
    const top = await manager.listTasks({ limit: 3, after: ids[4] });
    expect(top.tasks.map((t) => t.id)).toEqual([ids[6], ids[5], ids[4]]);
    expect(top.prevCursor).toBeNull();
    await expect(manager.listTasks({ before: ids[3], after: ids[1] })).rejects.toThrow(/before or after, not both/);
    const failed = await manager.listTasks({ status: 'FAILED' });
    expect(failed.tasks.map((t) => t.id)).toEqual([ids[6], ids[3], ids[0]]);
    expect((await manager.listTasks({ status: ['FAILED', 'DONE'], limit: 500 })).tasks).toHaveLength(7);
    await expect(manager.listTasks({ limit: 501 })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(manager.listTasks({ limit: 0 })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(manager.listTasks({ status: 'DONEISH' as never })).rejects.toThrow(/status must be one of/);
  });

  it('stops gracefully: queued tasks are cancelled, running ones finish within the grace or are interrupted', async () => {
    ({ manager } = await kind.create({ concurrency: 2 }));
    const quick = deferred();
    manager.define('finishes', { label: 'Finishes', run: async () => { await quick.promise; return 'made it'; } });
    manager.define('hangs', { label: 'Hangs', run: () => new Promise<never>(() => undefined) });
    await manager.start();
    const finishing = await manager.launch('finishes');
    const hanging = await manager.launch('hangs');
    const queued = await manager.launch('finishes');
    setTimeout(() => quick.resolve(), 20);
    await manager.stop({ graceMs: 100 });
    await expect(manager.launch('finishes')).rejects.toBeInstanceOf(ManagerStoppedError);
    const read = kind === memoryKind ? manager : await reopen(manager);
    expect(await read.getTask(finishing.id)).toMatchObject({ status: 'DONE', result: 'made it' });
    expect(await read.getTask(hanging.id)).toMatchObject({ status: 'FAILED', error: expect.stringMatching(/^Interrupted/) });
    expect(await read.getTask(queued.id)).toMatchObject({ status: 'CANCELLED', startedAt: null });
    if (read !== manager) await read.stop();
  });
});

/** A second manager over the same database, started without reconciliation, to read what the first left. */
async function reopen(stopped: TaskManager): Promise<TaskManager> {
  const { ModelTrackingTaskManager } = await import('../../src/index.js');
  const dataSource = (stopped as unknown as { trackingOptions: { dataSource: import('typeorm').DataSource } }).trackingOptions.dataSource;
  const reader = new ModelTrackingTaskManager({ dataSource, reconcileOnStart: false });
  await reader.start();
  return reader;
}
