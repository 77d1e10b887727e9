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
}

/** The logical keys of a {@link TaskRecord}: the left-hand side of a fieldMap. */
export type RecordKey = keyof TaskRecord;

/** The logical record keys, in a fixed order (it decides column order in generated SQL). */
export const RECORD_KEYS: readonly RecordKey[] = [
  'id', 'taskName', 'label', 'status', 'message', 'progress', 'user', 'affected', 'input', 'result',
  'error', 'cleanedUp', 'createdAt', 'startedAt', 'updatedAt', 'completedAt', 'failedAt', 'duration',
  'owner', 'heartbeatAt', 'cancelRequestedAt', 'cancelRequestedBy',
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
