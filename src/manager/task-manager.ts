import {
  ConfigurationError, InvalidInputError, ManagerStoppedError, QueueUnavailableError, StablehandError, TaskNotFoundError, UnknownTaskKindError,
} from '../core/errors.js';
import { isPlausibleId } from '../core/ids.js';
import type { FleetReport } from '../core/fleet.js';
import type { CountTasksOptions, ListTasksOptions, TaskPage } from '../core/list-query.js';
import type { StatusCounts, TaskMetrics } from '../core/metrics.js';
import { MAX_AFFECTED_KEYS, affectedKeyOf, indexKeysOf } from '../core/task-keys.js';
import { TaskReader } from './task-reader.js';
import { retryTask, type RetrySource } from './task-retry.js';
import type { CancelOptions, CancelResult, RetryOptions, JsonValue, LaunchArgs, LaunchOptions, LaunchedTask, LifecycleEventName, LifecycleListener, LifecyclePayload, TaskDefinition, KindsOf, TaskKinds } from '../core/types.js';
import { resolveTaskManagerOptions, type CleanupOptions, type TaskManagerConfig, type TaskManagerOptions } from './task-manager-options.js';
import type { RecordStore } from '../ports/record-store.js';
import { assertJson } from '../core/json.js';
import { errorMessage } from '../core/logger.js';
import { SETTLED } from '../core/settled.js';
import { isThenable } from '../core/thenable.js';
import type { TaskRecord } from '../core/record.js';
import type { TaskStatus } from '../core/status.js';
import type { TaskRunner } from '../ports/task-runner.js';
import { ActiveTask } from './active-task.js';
import { defaultRunner, defaultStore } from './defaults.js';
import { affectedList, defaultFormatAffected, defaultFormatPayload, defaultFormatUser, labelOf, lockKeyOf } from './formatters.js';
import { LifecycleListeners } from './lifecycle-listeners.js';
import { runningHereAs, stoppedHere } from './instance-id.js';
import { Liveness } from './liveness.js';
import { Orphans } from './orphans.js';
import { cancelElsewhere } from './remote-cancel.js';
import { labelFor, validateDefinition } from './task-definition.js';
import { TaskExecutor } from './task-executor.js';
import { newTaskId } from './task-id.js';

/** What `cleanupCompletedTasks()` did. */
export interface CleanupSummary {
  /** Locks of finished or abandoned tasks that were released. */
  locksReleased: number;
  /** Finished records newly marked as cleaned up. */
  recordsMarked: number;
  /** Records deleted (with `deleteRecords`). */
  recordsDeleted: number;
  /** Sum of what `cleanupDashboardData()` returned for the swept task kinds. */
  dashboardDataRemoved: number;
}

/** Options of {@link TaskManager.stop}. */
export interface StopOptions {
  /**
   * How long running tasks may take to finish before they are aborted and recorded as failed.
   * @defaultValue 10000
   */
  graceMs?: number;
}

/**
 * Runs tasks and records their lifecycle. Define kinds with {@link TaskManager.define}, call
 * {@link TaskManager.start}, then {@link TaskManager.launch} them; every step is written to the
 * record store and emitted as a lifecycle event.
 *
 * @example
 * ```ts
 * const manager = new TaskManager();
 * manager.define('export', { label: 'Export orders', run: async ({ progress }) => { progress(50); return 'done'; } });
 * await manager.start();
 * const { id } = await manager.launch('export');
 * ```
 */
export class TaskManager<Kinds extends KindsOf<Kinds> = TaskKinds> {
  /** Options after defaults. */
  protected readonly config: TaskManagerConfig;
  private readonly options: TaskManagerOptions;
  private readonly runner: TaskRunner;
  private readonly definitions = new Map<string, TaskDefinition>();
  private readonly listeners: LifecycleListeners;
  private readonly executor: TaskExecutor;
  private storeInstance: RecordStore | null = null;
  private state: ManagerState = 'new';
  private startPromise: Promise<void> | null = null;
  private stopPromise: Promise<void> | null = null;
  private cleanupTimer: NodeJS.Timeout | null = null;
  private liveness: Liveness | null = null;
  private readerInstance: TaskReader | null = null;
  // A cancel another process asked for (its record says who and when): found by the heartbeat,
  // or signalled by the runner. A task that ended meanwhile needs nothing.
  private readonly cancelAskedElsewhere = (id: string): void => {
    this.cancelAskedElsewhereBy(id).catch(() => undefined);
  };

  /** Cancels a task this manager holds for a request another process recorded, naming who asked. */
  private async cancelAskedElsewhereBy(id: string): Promise<void> {
    const task = this.executor.active.get(id);
    if (!task) return;
    // Who asked is on the record (one read per cancel): the cancel event carries it as for a local cancel.
    const by = (await this.store.get(id).catch(() => null))?.cancelRequestedBy ?? null;
    if (by !== null) task.cancelledBy = by;
    await this.cancelHere(id);
  }

  /**
   * Checks the options (a `ConfigurationError` names a bad or unknown one); nothing runs until
   * `start()`. `extraOptionKeys` lets a subclass accept options of its own.
   */
  constructor(options: TaskManagerOptions = {}, extraOptionKeys: Readonly<Record<string, true>> = {}) {
    this.config = resolveTaskManagerOptions(options, extraOptionKeys);
    this.listeners = new LifecycleListeners(this.config.logger);
    this.options = options;
    this.runner = options.runner ?? defaultRunner(this.config.concurrency);
    this.executor = new TaskExecutor(this.config, {
      definition: (kind) => this.definitions.get(kind),
      format: (key, value) => this.format(key, value),
      wants: (event) => this.wants(event),
      emit: (event, task, fields) => this.emit(event, task, fields),
    });
  }

  /**
   * Registers a task kind; with the manager's {@link TaskKinds} type, the handler's input is typed
   * by its kind. Throws a `ConfigurationError` for a bad or duplicate definition.
   */
  define<K extends keyof Kinds & string>(kind: K, definition: TaskDefinition<Kinds[K]>): this {
    validateDefinition(kind, definition, this.definitions.has(kind));
    // Stored with the widest input type; launch() checks every input is JSON before a handler sees it.
    this.definitions.set(kind, definition as unknown as TaskDefinition);
    return this;
  }

  /** The defined task kinds, in definition order. */
  get kinds(): string[] {
    return [...this.definitions.keys()];
  }

  /** See {@link TaskManagerOptions.staleAfterMs}; the page reads it. */
  get staleAfterMs(): number {
    return this.config.staleAfterMs;
  }

  /** This manager's name in the records of the tasks it holds; see {@link TaskManagerOptions.instanceId}. */
  get instanceId(): string {
    return this.config.instanceId;
  }

  /** True between a finished `start()` and the beginning of `stop()`. */
  get running(): boolean {
    return this.state === 'running';
  }

  /** Reads and counts records, with the kinds this manager defines. */
  private get reader(): TaskReader {
    this.readerInstance ??= new TaskReader(() => this.store, this.definitions, this.config);
    return this.readerInstance;
  }

  /** The record store; available once `start()` has opened it. */
  protected get store(): RecordStore {
    if (!this.storeInstance) throw new ManagerStoppedError('The task manager has not been started: call start() first.');
    return this.storeInstance;
  }

  /** Builds the record store at `start()`. Subclasses override it to store records elsewhere. */
  protected createStore(): RecordStore {
    return this.options.store ?? defaultStore();
  }

  /**
   * Opens the store, reconciles records an earlier run left unfinished (see `reconcileOnStart`),
   * and starts taking work. Calling it again while started does nothing.
   */
  start(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') {
      return Promise.reject(new ManagerStoppedError('A stopped task manager cannot start again; create a new one.'));
    }
    this.startPromise ??= this.open().catch((error: unknown) => {
      this.state = 'new';
      this.startPromise = null;
      throw error;
    });
    return this.startPromise;
  }

  private async open(): Promise<void> {
    this.state = 'starting';
    const store = this.createStore();
    await store.open();
    checkFits(store, 'owner', store.tracksOwners ? [this.config.instanceId] : [], 'instanceId');
    checkFits(store, 'taskName', this.kinds, 'the task kind');
    this.storeInstance = store;
    this.executor.open(store, this.runner);
    if (store.tracksOwners) {
      runningHereAs(this.config.instanceId);
      const orphans = new Orphans(this.config, store, this.executor, this.runner);
      this.executor.orphans = orphans;
      this.liveness = new Liveness(this.config, store, this.executor, orphans, this.cancelAskedElsewhere);
      if (this.config.reconcileOnStart) {
        // Records nobody holds were left by a version before owners: RUNNING ones are surely
        // orphans, and PENDING ones too when this app runs its tasks in process (on a
        // distributed runner they wait in its queue).
        const orphans: TaskStatus[] = this.runner.inProcess === true ? ['PENDING', 'RUNNING'] : ['RUNNING'];
        await store.abandonActive(this.config.abandonedMessage, this.config.now(), orphans);
      }
      await this.liveness.sweep(true);
      this.liveness.start();
    } else if (this.config.reconcileOnStart) {
      await store.abandonActive(this.config.abandonedMessage, this.config.now());
    }
    this.runner.onCancelSignal?.(this.cancelAskedElsewhere);
    await this.runner.start(this.executor.execute);
    if (this.config.cleanupIntervalMs > 0) {
      this.cleanupTimer = setInterval(() => {
        this.cleanupCompletedTasks(this.config.cleanup).catch((error: unknown) => {
          this.config.logger.error('[stablehand] periodic cleanup failed', error);
        });
      }, this.config.cleanupIntervalMs);
      this.cleanupTimer.unref();
    }
    this.state = 'running';
  }

  /**
   * Stops taking work: queued tasks are cancelled, running ones get `graceMs` to finish, then are
   * aborted and recorded as failed; every write is flushed before it resolves.
   */
  stop(options: StopOptions = {}): Promise<void> {
    const graceMs = options.graceMs ?? 10_000;
    if (typeof graceMs !== 'number' || !Number.isFinite(graceMs) || graceMs < 0) {
      return Promise.reject(new InvalidInputError(`graceMs must be a number of milliseconds of at least 0; got ${String(graceMs)}.`));
    }
    this.stopPromise ??= this.close(graceMs);
    return this.stopPromise;
  }

  private async close(graceMs: number): Promise<void> {
    if (this.state === 'starting') await this.startPromise?.catch(() => undefined);
    const wasOpen = this.storeInstance !== null;
    this.state = 'stopping';
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    if (!wasOpen) {
      this.state = 'stopped';
      return;
    }
    for (const id of await this.runner.stop()) {
      const task = this.executor.active.get(id);
      if (task?.status !== 'PENDING') continue;
      if (task.attempt > 1) this.executor.finish(task, 'FAILED', { error: `Interrupted — the app stopped before attempt ${task.attempt} of ${task.maxAttempts}` });
      else this.executor.finish(task, 'CANCELLED', { message: STOPPED_BEFORE_START });
    }
    await this.executor.drain(graceMs);
    await this.liveness?.stop();
    stoppedHere(this.config.instanceId);
    await this.store.close();
    this.state = 'stopped';
  }

  /**
   * Launches a task of a defined kind. Resolves once its PENDING record is durable; the task then
   * runs in the background. Rejects with `UnknownTaskKindError`, `InvalidInputError` (input that
   * is not JSON), `TaskConflictError` (with `lock`) or `ManagerStoppedError`.
   */
  launch<K extends keyof Kinds & string>(kind: K, ...args: LaunchArgs<Kinds[K]>): Promise<LaunchedTask>;
  async launch(kind: string, input?: JsonValue, options: LaunchOptions = {}): Promise<LaunchedTask> {
    return this.launchTask(kind, input, options, null);
  }

  private async launchTask(kind: string, input: JsonValue | undefined, options: LaunchOptions, retry: RetrySource | null): Promise<LaunchedTask> {
    if (this.state !== 'running') throw new ManagerStoppedError(this.state === 'new' || this.state === 'starting'
      ? 'The task manager has not been started: call start() first.' : undefined);
    const definition = this.definitions.get(kind);
    // Typed as a string and an object, but JavaScript callers may pass anything.
    const givenKind: unknown = kind;
    const givenOptions: unknown = options;
    if (!definition) throw new UnknownTaskKindError(String(givenKind), this.kinds);
    const kindLimit = this.store.maxLength?.('taskName');
    if (kindLimit !== undefined && kind.length > kindLimit) {
      throw new InvalidInputError(`The task kind "${kind}" is longer than the record's kind column holds (${kindLimit} characters).`);
    }
    assertJson(input, 'input');
    if (givenOptions === null || typeof givenOptions !== 'object') throw new InvalidInputError('launch options must be an object.');
    if (options.label !== undefined && (typeof options.label !== 'string' || !options.label)) {
      throw new InvalidInputError('label must be a non-empty string.');
    }
    const lockKeys = options.lock ? this.lockKeysFor(options.affected) : [];
    if (options.lock && lockKeys.length === 0) throw new InvalidInputError('lock: true needs affected objects to lock.');
    const label = options.label ?? labelFor(kind, definition, input, this.config.logger);
    const now = this.config.now();
    const id = retry?.id ?? newTaskId(now.getTime());
    const record = this.newRecord(id, kind, label, input, options, now);
    if (retry) Object.assign(record, { retryOf: retry.of, affected: retry.affected });
    // Most launches have nothing to index: no objects, no user, the kind's own label (whose words
    // its kind column answers for); they skip the word splitting.
    const byKind = this.store.tracksKinds !== false;
    const plain = byKind && retry === null && options.affected === undefined && options.user === undefined && label === definition.label;
    const indexKeys = this.store.indexesKeys && !plain
      ? indexKeysOf(
        retry ? retry.affectedKeys : this.affectedKeysFor(options.affected),
        [byKind ? null : kind, label, options.user === undefined ? null : labelOf(record.user)],
        byKind ? this.reader.kindWords(kind) : undefined,
      )
      : undefined;
    // A retry's events carry the objects as the old record has them, like a task adopted from its record.
    const task = new ActiveTask(id, kind, label, definition, options.user, retry ? retry.affected : options.affected, now, lockKeys.length > 0);
    task.held = record.owner !== null;
    // Known from now on, so that cancel() can wait for the record; nothing else acts on a task
    // before it is queued.
    const active = this.executor.active;
    task.creating = this.store.create(record, lockKeys, indexKeys);
    active.set(id, task);
    try {
      await task.creating;
    } catch (error) {
      active.delete(id);
      throw error;
    } finally {
      task.creating = null;
    }
    if (retry) retry.written = true;
    if (this.wants('create')) {
      this.emit('create', task, { status: 'PENDING', input: record.input ?? undefined, timestamp: now, ...(retry ? { retryOf: retry.of } : {}) });
    }
    // stop() may have begun while the record was written (TypeScript keeps the narrowing from the
    // top of launch() across the await, hence the widening).
    if ((this.state as ManagerState) !== 'running') {
      this.executor.finish(task, 'CANCELLED', { message: STOPPED_BEFORE_START });
      throw new ManagerStoppedError();
    }
    try {
      const queued = this.runner.enqueue({ id, taskName: kind, input });
      if (queued !== SETTLED) await queued;
    } catch (error) {
      this.executor.finish(task, 'FAILED', { error: `Could not be queued: ${errorMessage(error)}` });
      if (error instanceof StablehandError) throw error;
      throw new QueueUnavailableError(`The task could not be queued: ${errorMessage(error)}`, error);
    }
    // A job that may run in another process is that process's to track from here on.
    if (this.runner.inProcess !== true && task.status === 'PENDING') active.delete(id);
    return { id, taskName: kind, label, status: 'PENDING' };
  }

  private newRecord(id: string, kind: string, label: string, input: JsonValue | undefined, options: LaunchOptions, now: Date): TaskRecord {
    const owner = this.runner.inProcess === true ? this.executor.owner ?? null : null;
    return {
      id, taskName: kind, label, status: 'PENDING', message: null, progress: null,
      user: this.format('user', options.user), affected: this.format('affected', options.affected),
      input: input === undefined ? null : this.format('input', input), result: null, error: null,
      cleanedUp: false, createdAt: now, startedAt: null, updatedAt: now, completedAt: null, failedAt: null, duration: null,
      // On an in-process runner the launcher holds the task until it ends; a distributed one
      // leaves it to whichever worker claims it.
      // No heartbeat yet: until the first, the creation counts as the last sign of life.
      owner, heartbeatAt: null, cancelRequestedAt: null, cancelRequestedBy: null, attempt: null, maxAttempts: null, retryAt: null, attemptErrors: null,
      retryOf: null, retriedAs: null, retriedBy: null, retriedAt: null, milestones: null,
    };
  }

  /**
   * Launches a FAILED or CANCELLED task again: a new task of the same kind, input, label and
   * affected objects, launched by `options.user`, linked both ways (`retryOf` on the new record;
   * `retriedAs`, `retriedBy` and `retriedAt` on the old). A task is retried at most once, however
   * many processes try at the same time. Rejects with `TaskNotFoundError`, `TaskNotRetryableError`,
   * `UnknownTaskKindError` (its kind is not defined here) and the errors of `launch()`.
   */
  retry(id: string, options: RetryOptions = {}): Promise<LaunchedTask> {
    return retryTask({
      store: this.store,
      defines: (kind) => this.definitions.has(kind),
      kinds: () => this.kinds,
      formatUser: (user) => this.format('user', user),
      now: this.config.now,
      launch: (kind, input, launchOptions, source) => this.launchTask(kind, input, launchOptions, source),
    }, id, options);
  }

  /**
   * Cancels a task: a queued one at once, a running one by aborting its signal and recording
   * CANCELLED when its handler settles or after `cancelGraceMs`. Rejects with
   * `TaskNotFoundError` or `TaskAlreadyFinishedError`.
   */
  async cancel(id: string, options: CancelOptions = {}): Promise<CancelResult> {
    if (typeof id !== 'string' || !id) throw new InvalidInputError('A task id must be a non-empty string.');
    if (!isPlausibleId(id)) throw new TaskNotFoundError(id);
    const givenOptions: unknown = options;
    if (givenOptions === null || typeof givenOptions !== 'object') throw new InvalidInputError('cancel options must be an object.');
    const store = this.store;
    // A record can be seen (by a page polling the store) before its launch() has taken it in:
    // wait for that launch, whose continuation runs first, so the task is found where it belongs.
    await this.executor.active.get(id)?.creating?.catch(() => undefined);
    const by = this.format('user', options.user);
    const here = await this.cancelHere(id, by);
    return here ?? cancelElsewhere(store, this.runner, this.config, id, by);
  }

  /**
   * Cancels a task this manager holds: a queued one at once, a running one by aborting its signal
   * (CANCELLED when it settles or its grace ends). Null when it holds no such task. With `by`,
   * who asked and when is recorded; without, the request came from elsewhere and is recorded.
   */
  private async cancelHere(id: string, by?: JsonValue): Promise<CancelResult | null> {
    const active = this.executor.active;
    let task = active.get(id);
    if (!task) return null;
    if (by !== undefined) {
      task.cancelledBy = by;
      const now = this.config.now();
      this.store.update(id, { cancelRequestedAt: now, cancelRequestedBy: by }, this.executor.owner);
    }
    if (task.status === 'PENDING') {
      await this.runner.remove(id);
      // The task may have started while remove() ran (the widening undoes TypeScript's narrowing
      // from before the await).
      if ((task.status as TaskStatus) === 'PENDING') {
        this.executor.finish(task, 'CANCELLED', { message: task.attempt > 1 ? 'Cancelled before its next attempt' : 'Cancelled before it started' });
        return { id, status: 'CANCELLED' };
      }
      task = active.get(id);
    }
    if (task?.status === 'RUNNING') {
      this.executor.cancelRunning(task);
      return { id, status: 'CANCELLING' };
    }
    return null;
  }


  /**
   * Which instances hold unfinished tasks (running and queued counts, latest heartbeat), how many
   * tasks wait for a worker, and how many workers the runner's engine knows alive.
   */
  async fleet(): Promise<FleetReport> {
    // An engine that cannot answer (Redis away) makes the worker count unknown, not the page fail.
    const workers = this.runner.workers?.().catch((): null => null) ?? Promise.resolve(null);
    const [snapshot, count] = await Promise.all([this.store.fleet(), workers]);
    return { ...snapshot, workers: count, staleAfterMs: this.config.staleAfterMs };
  }

  /** Reads one task's record from the store, or `null`. */
  getTask(id: string): Promise<TaskRecord | null> {
    return this.reader.getTask(id);
  }

  /**
   * Reads a page of task records, newest first, within the filters of `options` (status, affected
   * object, search). Throws `InvalidInputError` for bad values, and for `affected` or `search`
   * when the store keeps no index keys (see {@link TaskManager.searchable}).
   */
  listTasks(options: ListTasksOptions = {}): Promise<TaskPage> {
    return this.reader.listTasks(options);
  }

  /**
   * How many tasks are in each status (and `ALL`), within the affected-object and search filters
   * of `options`. One aggregate query on the status index; with filters, on their index keys.
   */
  countTasks(options: CountTasksOptions = {}): Promise<StatusCounts> {
    return this.reader.countTasks(options);
  }

  /**
   * Per kind, over the last hour (5-minute bars) and the last day (hourly bars): finished tasks,
   * throughput, failure rate and run-time percentiles. Served from a cache for `metricsCacheMs`.
   */
  metrics(): Promise<TaskMetrics> {
    return this.reader.metrics();
  }

  /** The affected keys a task is indexed under (`order:42`), for its detail view; empty when not indexed. */
  affectedKeysOf(id: string): Promise<string[]> {
    return this.reader.affectedKeysOf(id);
  }

  /**
   * Whether tasks can be searched and listed by affected object: the store keeps index keys (the
   * TypeORM store does with `StablehandTaskKey` registered). False until `start()`.
   */
  get searchable(): boolean {
    return this.storeInstance?.indexesKeys ?? false;
  }

  /**
   * Sweeps finished work: releases locks of finished or abandoned tasks, marks records that
   * finished at least `olderThanMs` ago as cleaned up (or deletes them), and calls
   * `cleanupDashboardData()` once per swept task kind.
   */
  async cleanupCompletedTasks(options: CleanupOptions = {}): Promise<CleanupSummary> {
    const olderThanMs = options.olderThanMs ?? 0;
    if (typeof olderThanMs !== 'number' || !Number.isFinite(olderThanMs) || olderThanMs < 0) {
      throw new InvalidInputError('olderThanMs must be a number of milliseconds of at least 0.');
    }
    await this.store.flush();
    const olderThan = new Date(this.config.now().getTime() - olderThanMs);
    const swept = await this.store.cleanup(olderThan, options.deleteRecords ?? false);
    let dashboardDataRemoved = 0;
    for (const taskName of swept.taskNames) {
      try {
        // Typed as a number, but an override written in JavaScript may return anything.
        const removed: unknown = await this.cleanupDashboardData(taskName);
        dashboardDataRemoved += Number(removed) || 0;
      } catch (error) {
        this.config.logger.error(`[stablehand] cleanupDashboardData("${taskName}") threw`, error);
      }
    }
    return {
      locksReleased: swept.locksReleased, recordsMarked: swept.recordsMarked,
      recordsDeleted: swept.recordsDeleted, dashboardDataRemoved,
    };
  }

  /** Subscribes to a lifecycle event; returns a function that unsubscribes. A throwing listener is logged. */
  on(event: LifecycleEventName, listener: LifecycleListener): () => void {
    return this.listeners.on(event, listener);
  }

  /** Unsubscribes a listener added with {@link TaskManager.on}. */
  off(event: LifecycleEventName, listener: LifecycleListener): void {
    this.listeners.off(event, listener);
  }

  /**
   * Called for every lifecycle event after the record write is queued and before listeners.
   * A no-op here; override it for side effects and call `super.onLifecycle(...)`. Whatever it
   * throws (or rejects with) is logged and never changes the task's outcome.
   */
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- a no-op hook: the parameters are what an override receives
  protected onLifecycle(event: LifecycleEventName, taskName: string, payload: LifecyclePayload): void | Promise<void> {
    // Nothing to do unless a subclass overrides it.
  }

  /** Called once per task kind swept by `cleanupCompletedTasks()`; returns how many extra things it removed. */
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- a default for overrides: the parameter is what an override receives
  protected cleanupDashboardData(taskName: string): number | Promise<number> {
    return 0;
  }

  /**
   * Runs a formatter; if it throws, logs it and stores the default rendering instead, so a bug in
   * an override can never leave a task stuck or crash the process.
   */
  private format(kind: 'user' | 'affected' | 'input' | 'result' | 'progress', value: unknown): JsonValue {
    try {
      if (kind === 'user') return this.formatUser(value);
      if (kind === 'affected') return this.formatAffected(value);
      return this.formatPayload(value, kind);
    } catch (error) {
      this.config.logger.error(`[stablehand] formatting the ${kind} threw; the default rendering is stored`, error);
      if (kind === 'user') return defaultFormatUser(value);
      if (kind === 'affected') return defaultFormatAffected(value);
      return defaultFormatPayload(value);
    }
  }

  /** What the record's `user` field holds. Default: the user's name-like field, id or "Anonymous". */
  protected formatUser(user: unknown): JsonValue {
    return this.options.formatUser ? this.options.formatUser(user) : defaultFormatUser(user);
  }

  /** What the record's `affected` field holds. Default: labels joined with ", ", or null. */
  protected formatAffected(affected: unknown): JsonValue {
    return this.options.formatAffected ? this.options.formatAffected(affected) : defaultFormatAffected(affected);
  }

  /** Makes `input`, `result` and progress payloads JSON-safe. Default: see `toJsonValue`. */
  protected formatPayload(value: unknown, key: 'input' | 'result' | 'progress'): JsonValue {
    return this.options.formatPayload ? this.options.formatPayload(value, key) : defaultFormatPayload(value);
  }

  /**
   * The keys a task's affected objects are indexed under, for `listTasks({ affected })`: see
   * `affectedKeyOf` (an `Order` with id 42 is `order:42`; text already `type:id` is kept).
   * Override to key the host's objects differently; at most 1,000 are kept.
   */
  protected affectedKeysFor(affected: unknown): string[] {
    const keys = [...new Set(affectedList(affected).map(affectedKeyOf).filter((key): key is string => key !== null))];
    if (keys.length > MAX_AFFECTED_KEYS) {
      this.config.logger.warn(`[stablehand] a task touches ${keys.length} objects; the first ${MAX_AFFECTED_KEYS} are indexed`);
      keys.length = MAX_AFFECTED_KEYS;
    }
    return keys;
  }

  /**
   * The lock keys for `launch(..., { affected, lock: true })`, one per affected object: strings and
   * numbers as they are, objects with an `id` as `ClassName:id` (so order 7 and customer 7 differ),
   * other objects as their JSON.
   */
  protected lockKeysFor(affected: unknown): string[] {
    return [...new Set(affectedList(affected).map(lockKeyOf).filter(Boolean))];
  }

  /**
   * Whether anyone hears `event`. Callers check it before building an event's fields: with no
   * listener and no overridden hook, six payloads per task are never made.
   */
  private wants(event: LifecycleEventName): boolean {
    // Read each time: a subclass may define the hook as a class field, set after this constructor.
    return this.onLifecycle !== TaskManager.prototype.onLifecycle || this.listeners.has(event);
  }

  private emit(event: LifecycleEventName, task: ActiveTask, fields: Partial<LifecyclePayload> & { timestamp: Date }): void {
    const payload: LifecyclePayload = {
      id: task.id, taskName: task.taskName, label: task.label, user: task.user, affected: task.affected, ...fields,
    };
    try {
      const outcome = this.onLifecycle(event, task.taskName, payload);
      if (isThenable(outcome)) this.watchHook(event, task.id, outcome);
    } catch (error) {
      this.hookFailed(event, task.id, error);
    }
    this.listeners.emit(event, payload);
  }

  private watchHook(event: LifecycleEventName, id: string, outcome: PromiseLike<unknown>): void {
    outcome.then(undefined, (error: unknown) => this.hookFailed(event, id, error, 'rejected'));
  }

  private hookFailed(event: LifecycleEventName, id: string, error: unknown, how: 'threw' | 'rejected' = 'threw'): void {
    this.config.logger.error(`[stablehand] onLifecycle("${event}") ${how} for task ${id}; the task goes on`, error);
  }
}

type ManagerState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';


/** Refuses, before anything is written, a value that names a task or its holder and would not fit its column. */
function checkFits(store: RecordStore, key: 'owner' | 'taskName', values: readonly string[], what: string): void {
  const limit = store.maxLength?.(key);
  const long = limit === undefined ? undefined : values.find((value) => value.length > limit);
  if (long !== undefined) {
    throw new ConfigurationError(`${what} "${long}" is longer than the record's ${key} column holds (${String(limit)} characters).`);
  }
}

const STOPPED_BEFORE_START = 'Cancelled — the app stopped before it started';
