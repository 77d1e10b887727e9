import type { TaskStatus } from './status.js';
import type { JsonValue } from './types.js';

/**
 * A task's record as stablehand reads it back, whatever the host's column names are.
 * Keys the host's fieldMap leaves out read as `null`.
 */
export interface TaskRecord {
  id: string;
  taskName: string | null;
  label: string | null;
  status: TaskStatus;
  message: string | null;
  /** Percentage 0–100 (or the whole progress payload, when the column holds JSON or text). */
  progress: number | JsonValue | null;
  /** The launching user, as `formatUser` rendered it. */
  user: JsonValue | null;
  /** The affected objects, as `formatAffected` rendered them. */
  affected: JsonValue | null;
  input: JsonValue | null;
  result: JsonValue | null;
  error: string | null;
  cleanedUp: boolean | null;
  createdAt: Date | null;
  startedAt: Date | null;
  updatedAt: Date | null;
  completedAt: Date | null;
  failedAt: Date | null;
  /** Seconds from start to the terminal event. */
  duration: number | null;
  /**
   * The manager instance that holds the task (its `instanceId`): the launcher while the task
   * waits in an in-process queue, the worker while it runs; `null` while it waits in a
   * distributed queue. Only the owner may change an owned record.
   */
  owner: string | null;
  /**
   * When the owner last showed it is alive; `null` before the first heartbeat, when the creation
   * counts instead. A task whose owner stops beating is taken back.
   */
  heartbeatAt: Date | null;
  /** When someone asked to cancel the task; the owner acknowledges by ending it CANCELLED. */
  cancelRequestedAt: Date | null;
  /** Who asked to cancel it, as `formatUser` rendered them. */
  cancelRequestedBy: JsonValue | null;
  /**
   * The attempt under way, or the last one made, from 1; `null` reads as 1 once the task started
   * (only kinds with several `attempts` write it, from their first start).
   */
  attempt: number | null;
  /** How many attempts the task's kind allows; `null` reads as 1. */
  maxAttempts: number | null;
  /** While a task waits between attempts (PENDING): when the next one is due. */
  retryAt: Date | null;
  /** The error of each failed attempt, oldest first (at most {@link MAX_ATTEMPT_ERRORS}). */
  attemptErrors: AttemptError[] | null;
  /** The task this one retries (launched by `retry()`, with the same kind and input). */
  retryOf: string | null;
  /** The task that retries this one, once someone retried it; a task is retried at most once. */
  retriedAs: string | null;
  /** Who retried this task, as `formatUser` rendered them. */
  retriedBy: JsonValue | null;
  /** When this task was retried. */
  retriedAt: Date | null;
  /**
   * When the task's progress passed each quarter (25, 50, 75 and 100 %), oldest first, across its
   * attempts (at most {@link MAX_MILESTONES}): the detail view's timeline.
   */
  milestones: ProgressMilestone[] | null;
}

/** One entry of {@link TaskRecord.milestones}. */
export interface ProgressMilestone {
  /** The percentage reported when the quarter was passed. */
  percent: number;
  /** The progress message at that moment, if any. */
  message: string | null;
  /** When, as an ISO 8601 text. */
  at: string;
  /** The attempt that reported it, from 1. */
  attempt: number;
}

/** How many progress milestones a record keeps (the latest ones). */
export const MAX_MILESTONES = 20;

/** Why one attempt of a task failed: an entry of {@link TaskRecord.attemptErrors}. */
export interface AttemptError {
  /** The attempt's number, from 1. */
  attempt: number;
  /** Its error message. */
  error: string;
  /** When it failed, as an ISO 8601 text. */
  at: string;
}

/** How many failed attempts a record keeps (the latest ones); the first is always kept too. */
export const MAX_ATTEMPT_ERRORS = 20;

/** The logical keys of a {@link TaskRecord}: the left-hand side of a fieldMap. */
export type RecordKey = keyof TaskRecord;

/** The logical record keys, in a fixed order (it decides column order in generated SQL). */
export const RECORD_KEYS: readonly RecordKey[] = [
  'id', 'taskName', 'label', 'status', 'message', 'progress', 'user', 'affected', 'input', 'result',
  'error', 'cleanedUp', 'createdAt', 'startedAt', 'updatedAt', 'completedAt', 'failedAt', 'duration',
  'owner', 'heartbeatAt', 'cancelRequestedAt', 'cancelRequestedBy', 'attempt', 'maxAttempts', 'retryAt', 'attemptErrors',
  'retryOf', 'retriedAs', 'retriedBy', 'retriedAt', 'milestones',
];

/** The fields one write changes. Only keys present are written. */
export type RecordPatch = Partial<Omit<TaskRecord, 'id'>>;

/**
 * Maps logical record keys to properties of the host's entity. A key mapped to `null` is not
 * stored; a key left out is stored in the property of the same name when the entity has one.
 * `id` and `status` must end up mapped.
 *
 * @example
 * ```ts
 * { taskName: 'name', status: 'state', progress: 'percentDone', input: null }
 * ```
 */
export type FieldMap = Partial<Record<RecordKey, string | null>>;

/**
 * The host's own words for statuses, e.g. `{ RUNNING: 'in_progress', DONE: 'success' }`.
 * Statuses left out are stored as their own names.
 */
export type StatusValues = Partial<Record<TaskStatus, string>>;
