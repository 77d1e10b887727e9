import type { TaskStatus } from './status.js';

/** The lifecycle events, in the order a task emits them. */
export const LIFECYCLE_EVENTS = ['create', 'start', 'progress', 'retry', 'complete', 'fail', 'cancel', 'cleanup'] as const;

/** Names of the lifecycle events, in the order a task emits them. */
export type LifecycleEventName = (typeof LIFECYCLE_EVENTS)[number];

/** A JSON value: what task inputs, results and progress payloads must be made of. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A progress report with a percentage and any extra JSON keys. */
export interface ProgressPayload {
  /** Completion from 0 to 100. */
  percent?: number;
  /** Human-readable step description; also becomes the task's message. */
  message?: string;
  [key: string]: JsonValue | undefined;
}

/**
 * What every lifecycle event carries. Keys absent from an event are not written to the record:
 * a `cleanup` event has no `status`, a `progress` event no `message` unless one was given.
 */
export interface LifecyclePayload {
  /** The task's id. */
  id: string;
  /** The task kind, as given to `define()`. */
  taskName: string;
  /** Human-readable label of this run. */
  label: string;
  /** When the event happened. */
  timestamp: Date;
  status?: TaskStatus;
  message?: string | null;
  /** Percentage (0–100) from the latest progress report. */
  progress?: number | null;
  /** Extra keys of the latest progress report, when it was given as an object. */
  progressPayload?: ProgressPayload;
  /** Whoever launched the task, as passed to `launch()`. */
  user?: unknown;
  /** Objects the task works on, as passed to `launch()`. */
  affected?: unknown;
  input?: JsonValue;
  result?: JsonValue;
  /** Error message of a failed task. */
  error?: string | null;
  /** Seconds between start (or creation, if it never started) and the terminal event. */
  duration?: number | null;
  startedAt?: Date;
  completedAt?: Date;
  failedAt?: Date;
  /** Set on `cleanup`: the task's locks and in-memory state are gone. */
  cleanedUp?: boolean;
  /** The attempt that started (`start`) or failed (`retry`), from 1; set when the kind has several. */
  attempt?: number;
  /** Set on `retry`: when the next attempt is due. */
  retryAt?: Date;
  /** Set on `create` of a task launched by `retry()`: the task it retries. */
  retryOf?: string;
  /** Set on `cancel` when someone asked for it (from any process): who, as `formatUser` rendered them. */
  cancelledBy?: JsonValue;
  [extra: string]: unknown;
}

/** Listener signature for `manager.on(event, listener)`. */
export type LifecycleListener = (payload: LifecyclePayload) => void;

/** What a task handler receives. */
export interface TaskContext<Input extends JsonValue | undefined = JsonValue | undefined> {
  /** The task's id, the same as its record's. */
  readonly id: string;
  /** The task kind. */
  readonly taskName: string;
  /** The label of this run. */
  readonly label: string;
  /** The input given to `launch()`. */
  readonly input: Input;
  /** Aborted on cancel, on timeout and when the manager stops; pass it to fetch, streams, queries. */
  readonly signal: AbortSignal;
  /**
   * Reports progress: a percentage from 0 to 100, or an object with `percent`, `message`
   * and any JSON keys. Cheap to call often: writes are coalesced per task. It is bound to its
   * task, so it may be taken out of the context: `run: async ({ progress }) => { ... }`.
   */
  progress(this: void, progress: number | ProgressPayload, message?: string): void;
}

/** Defines one kind of task. */
export interface TaskDefinition<Input extends JsonValue | undefined = JsonValue | undefined> {
  /**
   * The label of each run: a text, or a function of the run's input that returns one (for
   * "Export 1,200 orders"). `launch(..., { label })` overrides it for one run.
   * @defaultValue the kind
   */
  label?: string | ((input: Input) => string);
  /**
   * The work. What it returns (or resolves to), made JSON-safe by `formatPayload`, becomes the
   * task's result; a throw (or rejection) fails the task.
   */
  run(context: TaskContext<Input>): unknown;
  /**
   * Aborts the signal and fails the task after this many milliseconds.
   * @defaultValue the manager's `defaultTimeoutMs` (none)
   */
  timeoutMs?: number;
  /**
   * How many times the task may run: a throw, a timeout, or the death of the process running it
   * ends an attempt, and another starts after `backoff` while attempts remain. The record keeps
   * the attempt number and each failed attempt's error. Same meaning as BullMQ's job option.
   * @defaultValue 1
   */
  attempts?: number;
  /**
   * The wait before each retry, as in BullMQ: milliseconds, or `{ type: 'fixed', delay }`, or
   * `{ type: 'exponential', delay }` (`delay`, then twice, four times as long...).
   * @defaultValue 0
   */
  backoff?: RetryBackoff;
}

/** The wait before a retry: see {@link TaskDefinition.backoff}. */
export type RetryBackoff = number | {
  /** `fixed` waits `delay` each time; `exponential` waits `delay × 2^(retry − 1)`. */
  type: 'fixed' | 'exponential';
  /** Milliseconds. */
  delay: number;
};

/**
 * The kinds a manager defines and the input each takes, given as the manager's type parameter so
 * that `define()` and `launch()` check kinds and inputs at compile time:
 * `new TaskManager<{ 'export-orders': { since: string }; 'rebuild-index': undefined }>()`.
 * Without it, any kind and any JSON input type-check (and are checked at run time).
 */
export type TaskKinds = Record<string, JsonValue | undefined>;

/**
 * The constraint on a manager's kinds type: each kind's input is JSON (or undefined). Written over
 * the type itself so that an `interface` of kinds fits too, not only a `type` with an index.
 */
export type KindsOf<Kinds> = { [K in keyof Kinds]: JsonValue | undefined };

/** What `launch()` takes after the kind: the input may be left out only when the kind takes none. */
export type LaunchArgs<Input> = undefined extends Input ? [input?: Input, options?: LaunchOptions] : [input: Input, options?: LaunchOptions];

/** Options of one `launch()` call. */
export interface LaunchOptions {
  /** Whoever launched the task: a user object, a name, anything `formatUser` understands. */
  user?: unknown;
  /** Objects the task works on: an id, a list of ids, anything `formatAffected` understands. */
  affected?: unknown;
  /** Overrides the definition's label for this run. */
  label?: string;
  /**
   * Refuse to launch, with a `TaskConflictError`, while another running task holds any of the
   * affected objects. The locks are released at `cleanup`.
   * @defaultValue false
   */
  lock?: boolean;
}

/** What `launch()` resolves to, once the PENDING record is durable. */
export interface LaunchedTask {
  id: string;
  taskName: string;
  label: string;
  status: 'PENDING';
}

/** Options of one `cancel()` call. */
export interface CancelOptions {
  /** Whoever asks for the cancel, recorded as `cancelRequestedBy` through `formatUser`. */
  user?: unknown;
}

/** Options of one `retry()` call. */
export interface RetryOptions {
  /** Whoever retries the task: the new task's launching user, and `retriedBy` on the old record. */
  user?: unknown;
}

/** What `cancel()` resolves to. */
export interface CancelResult {
  id: string;
  /** CANCELLED when it is already recorded; CANCELLING while a running handler is given its grace. */
  status: 'CANCELLED' | 'CANCELLING';
}
