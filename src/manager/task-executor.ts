import { errorMessage } from '../core/logger.js';
import { attemptOf, backoffDelay, withAttemptError } from '../core/retry.js';
import { SETTLED } from '../core/settled.js';
import { isThenable } from '../core/thenable.js';
import type { TaskStatus } from '../core/status.js';
import { MAX_MILESTONES, type AttemptError, type ProgressMilestone, type RecordPatch, type TaskRecord } from '../core/record.js';
import type { JsonValue, LifecycleEventName, LifecyclePayload, ProgressPayload, TaskDefinition } from '../core/types.js';
import type { TaskManagerConfig } from './task-manager-options.js';
import type { RecordStore } from '../ports/record-store.js';
import type { JobExecutor, JobOutcome, TaskJob, TaskRunner } from '../ports/task-runner.js';
import { taskFromRecord, type ActiveTask } from './active-task.js';
import { JobAdoption, type OrphanDecider } from './job-adoption.js';
import { ProgressReporter } from './progress-reporter.js';

const TERMINAL_EVENT = { DONE: 'complete', FAILED: 'fail', CANCELLED: 'cancel' } as const;

/** What a terminal state records besides its status. */
export interface TerminalFields {
  result?: JsonValue;
  error?: string;
  message?: string;
  /** The record's attempt errors with the last one, when the kind has several attempts. */
  attemptErrors?: AttemptError[];
}

/** What the executor needs from the manager that owns it: definitions, formatters and events. */
export interface ExecutionHost {
  /** The definition of a kind, or undefined when this process does not define it. */
  definition(kind: string): TaskDefinition | undefined;
  /** Runs the manager's (possibly overridden) payload formatter. */
  format(key: 'result' | 'progress', value: unknown): JsonValue;
  /** Whether anyone hears `event`; payloads are only built when someone does. */
  wants(event: LifecycleEventName): boolean;
  /** Emits a lifecycle event (hook first, then listeners). */
  emit(event: LifecycleEventName, task: ActiveTask, fields: Partial<LifecyclePayload> & { timestamp: Date }): void;
}

/**
 * Runs jobs: moves each task from PENDING to RUNNING, runs its handler with progress, timeout and
 * abort, and records its terminal state, once. It runs a job launched here (found in memory) and
 * a job known only by its id (launched by another manager on the same store), which it reads from
 * the store first. It holds the in-memory state of every unfinished task of this process.
 */
export class TaskExecutor {
  /** Unfinished tasks of this process, by id, from launch (or adoption) to cleanup. */
  readonly active = new Map<string, ActiveTask>();
  private readonly executions = new Set<Promise<unknown>>();
  // Tasks whose handler was aborted and is being given its grace; drain() ends their timers.
  private readonly graceful = new Set<ActiveTask>();
  private readonly progress: ProgressReporter;
  // Set by open(): jobs reach the executor only after the manager's start() has opened the store.
  private store!: RecordStore;
  private runner!: TaskRunner;
  /** This manager's id in the records it holds; undefined when the store does not track owners. */
  owner: string | undefined = undefined;

  /** Runs the jobs this process did not launch (see {@link JobAdoption}). */
  private readonly adoption = new JobAdoption(this);
  /** Set by the manager when the store tracks owners: decides what becomes of a stopped worker's task. */
  orphans: OrphanDecider | null = null;

  /** The executor the manager hands to its runner. */
  readonly execute: JobExecutor = (job) => this.track(job);

  constructor(readonly config: TaskManagerConfig, private readonly host: ExecutionHost) {
    this.progress = new ProgressReporter(config.progressIntervalMs, (task) => this.writeProgress(task));
  }

  /** The definition of a kind, or undefined when this process does not define it. */
  definition(kind: string): TaskDefinition | undefined {
    return this.host.definition(kind);
  }

  /** Binds the opened store and the runner; called by the manager's `start()`. */
  open(store: RecordStore, runner: TaskRunner): void {
    this.store = store;
    this.runner = runner;
    this.owner = store.tracksOwners ? this.config.instanceId : undefined;
  }

  /**
   * Waits up to `graceMs` for running handlers, then records the ones still running as FAILED
   * (or CANCELLED, when a cancel was under way) and aborts their signals.
   */
  async drain(graceMs: number): Promise<void> {
    if (this.executions.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); });
      await Promise.race([Promise.allSettled([...this.executions]), grace]);
      clearTimeout(timer);
    }
    for (const task of [...this.active.values()]) {
      if (task.status !== 'RUNNING') continue;
      if (task.abortCause === 'cancel') this.finish(task, 'CANCELLED', { message: 'Cancelled' });
      else this.finish(task, 'FAILED', { error: 'Interrupted — the app stopped before the task finished' });
      task.abort('stop', new DOMException('The task manager stopped', 'AbortError'));
    }
    for (const task of this.graceful) {
      if (task.graceTimer) clearTimeout(task.graceTimer);
      task.releaseSlot?.();
    }
    this.graceful.clear();
  }

  /** The ids of the tasks this manager holds (queued here or running), for its heartbeat. */
  heldIds(): string[] {
    const ids: string[] = [];
    for (const task of this.active.values()) if (task.held && !task.finished) ids.push(task.id);
    return ids;
  }

  /**
   * Lets go of a task another process took over (or ended): its handler's signal is aborted,
   * nothing more is written or emitted for it, and its runner slot is freed when the handler
   * settles or its grace ends. Logs one line.
   */
  lose(id: string): void {
    const task = this.active.get(id);
    if (!task || task.finished) return;
    this.config.logger.error(
      `[stablehand] task ${id} is no longer held by this process (${this.config.instanceId}): another process took it over ` +
      'or ended it; its handler here is aborted and its outcome will not be recorded',
    );
    task.clearTimers();
    task.pendingProgress = null;
    task.status = 'FAILED';
    this.active.delete(id);
    task.abort('lost', new DOMException('The task was taken over by another process', 'AbortError'));
    if (task.releaseSlot) this.startGrace(task, null);
  }

  /** Aborts a running task's signal for a cancel and records CANCELLED when it settles or its grace ends. */
  cancelRunning(task: ActiveTask): void {
    if (task.abortCause === 'cancel') return;
    task.abort('cancel', new DOMException('The task was cancelled', 'AbortError'));
    this.startGrace(task, 'CANCELLED');
  }

  // The methods of the write path make no closures themselves: V8 would allocate a context for
  // every call of a function that creates one, even on calls that never reach it. Rarer paths
  // that need closures live in small methods of their own.
  private track(job: TaskJob): Promise<JobOutcome | undefined> {
    const task = this.active.get(job.id);
    const run = task ? this.start(task, job.input) : this.adoption.adopt(job);
    const execution = this.runner.inProcess === true ? run : this.durably(run);
    if (execution !== SETTLED) this.remember(execution);
    return execution;
  }

  /**
   * A distributed engine hears that a job is done only once its record says so durably: a worker
   * that dies in between would otherwise leave a record RUNNING under its name for a job the
   * engine counts as completed, and the sweep would fail a task whose work was done.
   */
  private async durably(run: Promise<JobOutcome | undefined>): Promise<JobOutcome | undefined> {
    const outcome = await run;
    await this.store.flush();
    return outcome;
  }

  private remember(execution: Promise<unknown>): void {
    this.executions.add(execution);
    void execution.finally(() => this.executions.delete(execution));
  }

  /** The opened record store. */
  get recordStore(): RecordStore {
    return this.store;
  }

  /** The in-memory state of a task known from its record: one this process did not launch. */
  adoptedTask(record: TaskRecord, kind: string, definition: TaskDefinition | undefined): ActiveTask {
    const task = taskFromRecord(record, kind, definition, this.config.now());
    task.held = this.owner !== undefined && record.owner === this.owner;
    return task;
  }

  /** Starts a task that is PENDING in memory: the first step of every run. */
  start(task: ActiveTask, input: JsonValue | undefined): Promise<JobOutcome | undefined> {
    if (task.status !== 'PENDING') return SETTLED;
    // A task the store claimed for this manager is written RUNNING already; others start now.
    const claimed = task.startedAt;
    const now = claimed ?? this.config.now();
    task.status = 'RUNNING';
    task.startedAt = now;
    // A task this manager does not hold yet (one queued on a distributed runner that came back
    // here) is claimed by its start; one it holds is fenced by its owner.
    const start: RecordPatch = claimed ? {} : { status: 'RUNNING', startedAt: now, updatedAt: now };
    if (!task.held && this.owner !== undefined) {
      start.owner = this.owner;
      start.heartbeatAt = now;
      task.held = true;
    }
    const several = task.maxAttempts > 1;
    if (several) {
      start.attempt = task.attempt;
      start.maxAttempts = task.maxAttempts;
      if (task.attempt > 1) start.retryAt = null;
    }
    if (!claimed || several) this.store.update(task.id, start, this.owner);
    if (this.host.wants('start')) {
      this.host.emit('start', task, { status: 'RUNNING', startedAt: now, timestamp: now, ...(several ? { attempt: task.attempt } : {}) });
    }
    const timeoutMs = task.definition.timeoutMs ?? this.config.defaultTimeoutMs;
    if (timeoutMs !== undefined) this.armTimeout(task, timeoutMs);
    let outcome: unknown;
    try {
      outcome = task.definition.run(this.progress.context(task, input));
    } catch (error) {
      this.settle(task, false, error);
      return task.retry ?? SETTLED;
    }
    // A handler that returns a plain value is settled at once, without a promise per task.
    if (!isThenable(outcome)) {
      this.settle(task, true, outcome);
      return SETTLED;
    }
    return this.settleWhenDone(task, outcome);
  }

  private armTimeout(task: ActiveTask, timeoutMs: number): void {
    task.timeoutTimer = setTimeout(() => this.timeOut(task, timeoutMs), timeoutMs);
  }

  /** Settles a task when its handler's promise does; resolves when the runner slot is free. */
  private settleWhenDone(task: ActiveTask, outcome: PromiseLike<unknown>): Promise<JobOutcome | undefined> {
    return new Promise<JobOutcome | undefined>((resolve) => {
      // Called early by the grace timer when a handler ignores its aborted signal.
      task.releaseSlot = () => {
        resolve(task.retry ?? undefined);
      };
      const done = (ok: boolean) => (value: unknown) => {
        this.settle(task, ok, value);
        if (task.graceTimer) clearTimeout(task.graceTimer);
        this.graceful.delete(task);
        resolve(task.retry ?? undefined);
      };
      outcome.then(done(true), done(false));
    });
  }

  private settle(task: ActiveTask, ok: boolean, outcome: unknown): void {
    if (task.finished) return;
    if (task.abortCause === 'cancel') this.finish(task, 'CANCELLED', { message: 'Cancelled' });
    else if (ok) this.finish(task, 'DONE', { result: outcome === undefined ? null : this.host.format('result', outcome) });
    else this.failAttempt(task, errorMessage(outcome));
  }

  private timeOut(task: ActiveTask, timeoutMs: number): void {
    if (task.finished) return;
    const message = `Timed out after ${timeoutMs} ms`;
    this.failAttempt(task, message);
    task.abort('timeout', new DOMException(message, 'TimeoutError'));
    this.startGrace(task, null);
  }

  /**
   * Ends an attempt that failed: the task FAILED when it was the last its kind allows; otherwise
   * PENDING until `backoff` has passed, with the error kept in the record, and the runner told to
   * run the job again then. An in-process runner's task stays this process's; a distributed one's
   * is let go, durably before the engine may give the job to another worker.
   */
  private failAttempt(task: ActiveTask, error: string): void {
    // Off this process, only the record can count attempts: a store that cannot keep them gives
    // a distributed task one attempt, or it could be retried for ever.
    const max = this.store.tracksAttempts || this.runner.inProcess === true ? task.maxAttempts : 1;
    const now = this.config.now();
    if (task.attempt >= max) {
      if (max === 1) this.finish(task, 'FAILED', { error });
      else this.finish(task, 'FAILED', { error: `${error} (${attemptOf(task.attempt, max)})`, attemptErrors: withAttemptError(task.attemptErrors, task.attempt, error, now) });
      return;
    }
    this.progress.flush(task);
    task.clearTimers();
    // The attempt is over for this object: its handler's late progress calls find it finished.
    task.status = 'FAILED';
    const delay = backoffDelay(task.definition.backoff, task.attempt);
    const retryAt = new Date(now.getTime() + delay);
    const attemptErrors = withAttemptError(task.attemptErrors, task.attempt, error, now);
    const patch: RecordPatch = {
      status: 'PENDING', retryAt, attemptErrors, progress: null, updatedAt: now,
      message: `${attemptOf(task.attempt, max)} failed: ${attemptErrors[attemptErrors.length - 1].error}`,
    };
    const next = task.nextAttempt(attemptErrors);
    if (this.runner.inProcess === true) {
      this.store.update(task.id, patch, this.owner);
      this.active.set(task.id, next);
      task.retry = Promise.resolve({ retryInMs: delay });
    } else {
      this.active.delete(task.id);
      if (this.owner !== undefined) patch.owner = null;
      task.retry = this.release(task.id, patch, delay);
    }
    if (this.host.wants('retry')) this.host.emit('retry', task, { status: 'PENDING', error, attempt: task.attempt, retryAt, timestamp: now });
  }

  // The claim that made the task this process's was written before it started (RecordStore.claim),
  // so the release is the only write to wait for.
  private async release(id: string, patch: RecordPatch, delay: number): Promise<JobOutcome> {
    this.store.update(id, patch, this.owner);
    await this.store.flush();
    return { retryInMs: delay };
  }

  /** Gives an aborted handler `cancelGraceMs` to settle; then records `onExpiry` (if any) and frees its slot. */
  private startGrace(task: ActiveTask, onExpiry: 'CANCELLED' | null): void {
    this.graceful.add(task);
    task.graceTimer = setTimeout(() => {
      this.graceful.delete(task);
      if (onExpiry) this.finish(task, onExpiry, { message: 'Cancelled' });
      task.releaseSlot?.();
    }, this.config.cancelGraceMs);
  }

  private writeProgress(task: ActiveTask): void {
    const pending = task.pendingProgress;
    if (!pending || task.finished) return;
    task.pendingProgress = null;
    const now = this.config.now();
    const progress = pending.payload ? this.host.format('progress', { ...pending.payload, percent: pending.percent }) : pending.percent;
    const wanted = this.host.wants('progress');
    // Built before the patch is handed to the store, which owns it from then on.
    const fields = wanted ? {
      status: 'RUNNING' as const, progress: pending.percent, timestamp: now,
      ...(pending.payload ? { progressPayload: progress as ProgressPayload } : {}),
      ...(pending.message !== undefined ? { message: pending.message } : {}),
    } : null;
    const patch: RecordPatch = { progress, updatedAt: now };
    if (pending.message !== undefined) patch.message = pending.message;
    const milestones = passedMilestone(task, pending.percent, pending.message ?? null, now, this.config.milestonesAfterMs);
    if (milestones) patch.milestones = milestones;
    this.store.update(task.id, patch, this.owner);
    if (fields) this.host.emit('progress', task, fields);
  }

  /** Moves a task to a terminal status (once), writes it, emits its event, then cleans it up. */
  finish(task: ActiveTask, status: TaskStatus, fields: TerminalFields): void {
    if (task.finished) return;
    this.progress.flush(task);
    task.clearTimers();
    task.status = status;
    const now = this.config.now();
    const duration = Math.max(0, now.getTime() - (task.startedAt ?? task.createdAt).getTime()) / 1000;
    const message = fields.message ?? fields.error;
    const change: RecordPatch & Partial<LifecyclePayload> = { status, updatedAt: now, completedAt: now, duration };
    if (message !== undefined) change.message = message;
    if (status === 'DONE') change.result = fields.result ?? null;
    if (status === 'FAILED') {
      change.error = fields.error ?? null;
      change.failedAt = now;
      if (fields.attemptErrors) change.attemptErrors = fields.attemptErrors;
    }
    const event = TERMINAL_EVENT[status as keyof typeof TERMINAL_EVENT];
    // Built before the patch is handed to the store, which owns it from then on.
    const payload = this.host.wants(event) ? { ...change, timestamp: now } : null;
    if (payload && status === 'CANCELLED' && task.cancelledBy !== undefined) payload.cancelledBy = task.cancelledBy;
    // A task queued on a distributed runner and never started here (cancelled, or refused by
    // the queue) is ended by a claim, which lands only while nobody else holds it.
    if (!task.held && this.owner !== undefined) change.owner = this.owner;
    this.store.update(task.id, change, this.owner);
    if (payload) this.host.emit(event, task, payload);
    this.store.markCleanedUp(task.id, now, task.holdsLocks);
    this.active.delete(task.id);
    if (this.host.wants('cleanup')) this.host.emit('cleanup', task, { cleanedUp: true, timestamp: now });
  }
}

/**
 * The task's milestones with a new one when `percent` passed a quarter this attempt has not passed
 * yet (a fresh list, for the store to own), or null.
 */
function passedMilestone(task: ActiveTask, percent: number | null, message: string | null, now: Date, afterMs: number): ProgressMilestone[] | null {
  // See TaskManagerOptions.milestonesAfterMs.
  if (percent === null || now.getTime() - (task.startedAt ?? task.createdAt).getTime() < afterMs) return null;
  const quarter = Math.floor(percent / 25) * 25;
  const reached = task.milestones?.filter((entry) => entry.attempt === task.attempt).reduce((top, entry) => Math.max(top, entry.percent), 0) ?? 0;
  if (quarter === 0 || Math.floor(reached / 25) * 25 >= quarter) return null;
  const entry: ProgressMilestone = { percent, message, at: now.toISOString(), attempt: task.attempt };
  const list = [...task.milestones ?? [], entry];
  // The first is kept with the latest, like attempt errors: where the run began, and where it got.
  task.milestones = list.length > MAX_MILESTONES ? [list[0], ...list.slice(-(MAX_MILESTONES - 1))] : list;
  return [...task.milestones];
}
