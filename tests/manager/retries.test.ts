import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError, TaskManager, type TaskManager as Manager, type TaskRecord } from '../../src/index.js';
import { backoffDelay, withAttemptError } from '../../src/core/retry.js';
import { memoryKind, recordEvents, sqliteKind } from '../helpers/managers.js';
import { deferred, recordingLogger, waitFor } from '../helpers/wait.js';

describe('backoff and attempt errors', () => {
  it('waits as BullMQ does: a number or fixed delay each time, an exponential one doubling', () => {
    expect([1, 2, 3].map((attempt) => backoffDelay(undefined, attempt))).toEqual([0, 0, 0]);
    expect([1, 2, 3].map((attempt) => backoffDelay(250, attempt))).toEqual([250, 250, 250]);
    expect([1, 2, 3].map((attempt) => backoffDelay({ type: 'fixed', delay: 100 }, attempt))).toEqual([100, 100, 100]);
    expect([1, 2, 3, 4].map((attempt) => backoffDelay({ type: 'exponential', delay: 100 }, attempt))).toEqual([100, 200, 400, 800]);
  });

  it('keeps the first failure and the latest ones, each error cut to a readable length', () => {
    let errors = null as ReturnType<typeof withAttemptError> | null;
    const at = new Date('2026-12-01T10:00:00.000Z');
    for (let attempt = 1; attempt <= 30; attempt++) errors = withAttemptError(errors, attempt, `boom ${attempt}`, at);
    expect(errors).toHaveLength(20);
    expect(errors?.map((entry) => entry.attempt)).toEqual([1, ...Array.from({ length: 19 }, (_, i) => i + 12)]);
    expect(errors?.[0]).toEqual({ attempt: 1, error: 'boom 1', at: '2026-12-01T10:00:00.000Z' });
    const long = withAttemptError(null, 1, 'x'.repeat(5_000), at);
    expect(long[0].error).toHaveLength(2_000);
    expect(long[0].error.endsWith('…')).toBe(true);
  });

  it('refuses attempts and backoffs that could not run, naming the kind', () => {
    const manager = new TaskManager({ logger: recordingLogger() });
    const run = () => 1;
    for (const [definition, message] of [
      [{ run, attempts: 0 }, /attempts of "bad" must be a whole number from 1 to 1000; got 0/],
      [{ run, attempts: 2.5 }, /attempts of "bad"/],
      [{ run, backoff: -1 }, /backoff of "bad" must be milliseconds/],
      [{ run, backoff: { type: 'linear', delay: 10 } }, /backoff.type of "bad" must be 'fixed' or 'exponential'; got linear/],
      [{ run, backoff: { type: 'fixed', delay: 10, jitter: 1 } }, /backoff of "bad" has an unknown key "jitter"/],
    ] as const) {
      expect(() => manager.define('bad', definition as never)).toThrow(ConfigurationError);
      expect(() => manager.define('bad', definition as never)).toThrow(message);
    }
  });
});

describe.each([memoryKind, sqliteKind])('retries: $name', (kind) => {
  let manager: Manager;
  afterEach(async () => {
    await (manager as Manager | undefined)?.stop({ graceMs: 100 });
  });

  const settled = (id: string) => waitFor(async () => {
    const record = await manager.getTask(id);
    return record && ['DONE', 'FAILED', 'CANCELLED'].includes(record.status) && record.cleanedUp ? record : null;
  }, 10_000, `task ${id} to end`);

  it('runs a failing task again after its backoff, keeps each error, and records the attempt that succeeded', async () => {
    ({ manager } = await kind.create({ progressIntervalMs: 0, logger: recordingLogger() }));
    const runs: { attempt: number; at: number; aborted: boolean }[] = [];
    manager.define('sync', {
      attempts: 3,
      backoff: { type: 'fixed', delay: 300 },
      run: ({ progress, signal }) => {
        runs.push({ attempt: runs.length + 1, at: Date.now(), aborted: signal.aborted });
        progress(10 * runs.length);
        if (runs.length < 3) throw new Error(`upstream said no (${runs.length})`);
        return { synced: true };
      },
    });
    const events = recordEvents(manager);
    await manager.start();
    const { id } = await manager.launch('sync');
    // Between attempts: PENDING, with when the next one is due and why the last one failed.
    const waiting = await waitFor(async () => {
      const record = await manager.getTask(id);
      return record?.status === 'PENDING' && record.retryAt ? record : null;
    }, 5_000, 'the wait before attempt 2');
    expect(waiting).toMatchObject({
      attempt: 1, maxAttempts: 3, progress: null, message: 'attempt 1 of 3 failed: upstream said no (1)',
      attemptErrors: [{ attempt: 1, error: 'upstream said no (1)', at: expect.any(String) }],
    } satisfies Partial<Record<keyof TaskRecord, unknown>>);
    const record = await settled(id);
    expect(record).toMatchObject({ status: 'DONE', result: { synced: true }, attempt: 3, maxAttempts: 3, retryAt: null, progress: 30, error: null });
    expect(record.attemptErrors?.map((entry) => entry.error)).toEqual(['upstream said no (1)', 'upstream said no (2)']);
    expect(runs.map((run) => run.attempt)).toEqual([1, 2, 3]);
    expect(runs.every((run) => !run.aborted)).toBe(true);
    // Each retry waited for its backoff (a timer may fire late, never early).
    expect(runs[1].at - runs[0].at).toBeGreaterThanOrEqual(290);
    expect(runs[2].at - runs[1].at).toBeGreaterThanOrEqual(290);
    const names = events.map((event) => event.event);
    expect(names).toEqual(['create', 'start', 'progress', 'retry', 'start', 'progress', 'retry', 'start', 'progress', 'complete', 'cleanup']);
    const retries = events.filter((event) => event.event === 'retry').map((event) => event.payload);
    expect(retries.map((payload) => [payload.attempt, payload.error, payload.status])).toEqual([
      [1, 'upstream said no (1)', 'PENDING'], [2, 'upstream said no (2)', 'PENDING'],
    ]);
    for (const payload of retries) expect((payload.retryAt!).getTime() - payload.timestamp.getTime()).toBe(300);
    expect(events.filter((event) => event.event === 'start').map((event) => event.payload.attempt)).toEqual([1, 2, 3]);
  });

  it('fails a task once its attempts are spent, saying which attempt it was, with every error kept', async () => {
    ({ manager } = await kind.create({ progressIntervalMs: 0, logger: recordingLogger() }));
    let runs = 0;
    manager.define('flaky', {
      attempts: 3, backoff: { type: 'exponential', delay: 20 },
      run: async () => {
        runs++;
        await Promise.resolve();
        throw new Error(`no luck ${runs}`);
      },
    });
    const retryDelays: number[] = [];
    manager.on('retry', (payload) => retryDelays.push((payload.retryAt!).getTime() - payload.timestamp.getTime()));
    await manager.start();
    const { id } = await manager.launch('flaky');
    const record = await settled(id);
    expect(record).toMatchObject({ status: 'FAILED', error: 'no luck 3 (attempt 3 of 3)', attempt: 3, maxAttempts: 3 });
    expect(record.attemptErrors?.map((entry) => [entry.attempt, entry.error])).toEqual([[1, 'no luck 1'], [2, 'no luck 2'], [3, 'no luck 3']]);
    expect(retryDelays).toEqual([20, 40]);
    expect(runs).toBe(3);
  });

  it('keeps a kind without attempts as it was: one run, the bare error, no attempt columns written', async () => {
    ({ manager } = await kind.create({ progressIntervalMs: 0, logger: recordingLogger() }));
    manager.define('once', { run: () => { throw new Error('nope'); } });
    await manager.start();
    const { id } = await manager.launch('once');
    expect(await settled(id)).toMatchObject({ status: 'FAILED', error: 'nope', attempt: null, maxAttempts: null, attemptErrors: null });
  });

  it('counts a timeout as a failed attempt and runs the task again with a fresh signal', async () => {
    ({ manager } = await kind.create({ progressIntervalMs: 0, logger: recordingLogger() }));
    const signals: AbortSignal[] = [];
    manager.define('slow', {
      attempts: 2, timeoutMs: 80,
      run: async ({ signal }) => {
        signals.push(signal);
        if (signals.length === 1) {
          await new Promise((_resolve, reject) => signal.addEventListener('abort', () => { reject(signal.reason as Error); }, { once: true }));
        }
        return 'fast enough';
      },
    });
    await manager.start();
    const { id } = await manager.launch('slow');
    const record = await settled(id);
    expect(record).toMatchObject({ status: 'DONE', result: 'fast enough', attempt: 2 });
    expect(record.attemptErrors?.map((entry) => entry.error)).toEqual(['Timed out after 80 ms']);
    expect(signals[0].aborted).toBe(true);
    expect(signals[1].aborted).toBe(false);
  });

  it('cancels a task waiting for its next attempt, which then never runs again', async () => {
    ({ manager } = await kind.create({ progressIntervalMs: 0, logger: recordingLogger() }));
    let runs = 0;
    manager.define('later', { attempts: 3, backoff: 60_000, run: () => { runs++; throw new Error('not yet'); } });
    await manager.start();
    const { id } = await manager.launch('later');
    await waitFor(async () => (await manager.getTask(id))?.retryAt != null, 5_000, 'the wait before attempt 2');
    expect(await manager.cancel(id, { user: 'ops' })).toEqual({ id, status: 'CANCELLED' });
    expect(await settled(id)).toMatchObject({ status: 'CANCELLED', message: 'Cancelled before its next attempt', attempt: 1, cancelRequestedBy: 'ops' });
    expect(runs).toBe(1);
  });

  it('fails a task waiting for its next attempt when the app stops, saying so', async () => {
    ({ manager } = await kind.create({ progressIntervalMs: 0, logger: recordingLogger() }));
    manager.define('later', { attempts: 2, backoff: 60_000, run: () => { throw new Error('not yet'); } });
    await manager.start();
    const { id } = await manager.launch('later');
    await waitFor(async () => (await manager.getTask(id))?.retryAt != null, 5_000, 'the wait before attempt 2');
    const gate = deferred();
    void manager.stop({ graceMs: 100 }).then(() => { gate.resolve(); });
    await gate.promise;
    const store = manager as unknown as { store: { get(id: string): Promise<TaskRecord | null> } };
    expect(await store.store.get(id)).toMatchObject({ status: 'FAILED', error: 'Interrupted — the app stopped before attempt 2 of 2' });
  });
});
