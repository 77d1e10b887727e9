import type { FleetReport } from '../core/fleet.js';
import type { TaskPage } from '../core/list-query.js';
import type { TaskRecord } from '../core/record.js';
import type { TaskStatus } from '../core/status.js';
import type { JsonValue } from '../core/types.js';

/** One task as `GET status/` lists it. Timestamps are ISO 8601 in UTC. */
export interface TaskSummaryJson {
  id: string;
  label: string;
  status: TaskStatus;
  /** The result of a finished task; the error message of a failed (or cancelled) one. */
  result: JsonValue | null;
  /** Seconds from start to the terminal event; `null` until the task ends. */
  duration: number | null;
  created_at: string | null;
  /** When the handler started; the page counts a running task's elapsed time from it. */
  started_at: string | null;
  completed_at: string | null;
  /** Percentage 0–100 from the latest progress report, or `null` when the task reports none. */
  progress: number | null;
  message: string | null;
  /** The app instance that holds the task (queued in its memory, or running there). */
  owner: string | null;
  /** When that instance last showed it is alive. */
  heartbeat_at: string | null;
  /** When a cancel was asked and not yet acknowledged: the page shows "Cancelling…". */
  cancel_requested_at: string | null;
  /** Who launched the task, as the manager's `formatUser` rendered them. */
  user: JsonValue | null;
  /** What the task works on, as the manager's `formatAffected` rendered it. */
  affected: JsonValue | null;
  /** The attempt under way or last made (from 1), for a kind with several; otherwise `null`. */
  attempt: number | null;
  /** How many attempts the task's kind allows, when more than one; otherwise `null`. */
  max_attempts: number | null;
  /** While the task waits between attempts: when the next is due ("Retrying in N s"). */
  retry_at: string | null;
  /** The task this one retries, when an operator retried it. */
  retry_of: string | null;
  /** The task that retries this one, once someone did; a task is retried at most once. */
  retried_as: string | null;
}

/** One task as `GET :id/` returns it: the summary plus everything the detail view shows. */
export interface TaskDetailJson extends TaskSummaryJson {
  kind: string | null;
  error: string | null;
  updated_at: string | null;
  failed_at: string | null;
  /** Who asked for the cancel, as the manager's `formatUser` rendered them. */
  cancel_requested_by: JsonValue | null;
  /** The error of each failed attempt, oldest first. */
  attempt_errors: { attempt: number; error: string; at: string | null }[];
  /** Who retried the task, as the manager's `formatUser` rendered them. */
  retried_by: JsonValue | null;
  retried_at: string | null;
  /** When the progress passed each quarter, oldest first. */
  milestones: { percent: number; message: string | null; at: string; attempt: number }[];
  /** Whether the task's cleanup ran (its locks and in-memory state are gone). */
  cleaned_up: boolean;
  /** The affected objects the task is indexed under (`order:42`), each a link to its history. */
  affected_keys: string[];
}

/** Tasks per status, and `ALL`, within the filters of a `GET status/` (the page's tabs). */
export type StatusCountsJson = Record<TaskStatus | 'ALL', number>;

/** The body of `GET status/`. */
export interface TaskStatusJson {
  tasks: TaskSummaryJson[];
  /** Pass as `before` to get the next, older page; `null` on the last page. */
  next_cursor: string | null;
  /** Pass as `after` to get the newer page; `null` on the first page. */
  prev_cursor: string | null;
  /** Tasks per status within the filters (a few seconds old at most); `null` when the manager cannot count. */
  counts: StatusCountsJson | null;
}

/** The body of a successful `POST run/`. */
export interface RunResponseJson {
  id: string;
  label: string;
  status: 'PENDING';
}

/** The body of a successful `POST :id/retry/`: the new task. */
export interface RetryResponseJson {
  id: string;
  label: string;
  status: 'PENDING';
  /** The task it retries. */
  retry_of: string;
}

/** The body of an accepted `POST :id/cancel/`. */
export interface CancelResponseJson {
  id: string;
  status: 'CANCELLED' | 'CANCELLING';
}

/** ISO 8601 UTC, or `null` for a missing or unparseable date (a custom store may hand over either). */
export function isoOrNull(value: Date | null | undefined): string | null {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) return null;
  return value.toISOString();
}

/** The percentage in a record's progress column, whether it holds a number or a whole payload. */
export function progressPercent(progress: TaskRecord['progress']): number | null {
  let value: unknown = progress;
  if (typeof progress === 'object' && progress !== null && !Array.isArray(progress)) value = progress.percent;
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  return Math.min(100, Math.max(0, value));
}

function pageResult(record: TaskRecord): JsonValue | null {
  // The page has one "outcome" line per finished task; for a failure that line is the error.
  if (record.status === 'FAILED') return record.error ?? record.result ?? null;
  if (record.status === 'CANCELLED') return record.error ?? record.result ?? null;
  return record.result ?? null;
}

function roundedDuration(value: number | null): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  return Math.round(value * 1000) / 1000;
}

/** A label to show for a record: its label, or failing that its kind, or its id. */
export function displayLabel(record: TaskRecord): string {
  return record.label ?? record.taskName ?? record.id;
}

/** Shapes a record for `GET status/`. */
export function toTaskSummary(record: TaskRecord): TaskSummaryJson {
  return {
    id: record.id,
    label: displayLabel(record),
    status: record.status,
    result: pageResult(record),
    duration: roundedDuration(record.duration),
    created_at: isoOrNull(record.createdAt),
    started_at: isoOrNull(record.startedAt),
    completed_at: isoOrNull(record.completedAt ?? record.failedAt),
    progress: progressPercent(record.progress),
    message: record.message ?? null,
    owner: record.owner ?? null,
    // Before its first heartbeat, a held task's creation is its last sign of life.
    heartbeat_at: isoOrNull(record.heartbeatAt ?? (record.owner === null ? null : record.createdAt)),
    cancel_requested_at: isoOrNull(record.cancelRequestedAt),
    user: record.user ?? null,
    affected: record.affected ?? null,
    ...attemptsOf(record),
    retry_of: record.retryOf ?? null,
    retried_as: record.retriedAs ?? null,
  };
}

function attemptsOf(record: TaskRecord): Pick<TaskSummaryJson, 'attempt' | 'max_attempts' | 'retry_at'> {
  const max = wholeNumber(record.maxAttempts);
  if (max === null || max < 2) return { attempt: null, max_attempts: null, retry_at: null };
  const retrying = record.status === 'PENDING' ? isoOrNull(record.retryAt) : null;
  return { attempt: wholeNumber(record.attempt) ?? (record.startedAt ? 1 : null), max_attempts: max, retry_at: retrying };
}

function wholeNumber(value: unknown): number | null {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) ? n : null;
}

/**
 * The entries of a JSON list column as `read` shapes them, leaving out those it refuses (null):
 * a host's column may hold anything, and anything but such a list reads as none.
 */
function entriesOf<T>(given: unknown, read: (entry: Record<string, unknown>) => T | null): T[] {
  if (!Array.isArray(given)) return [];
  const list: T[] = [];
  for (const entry of given as unknown[]) {
    const shaped = typeof entry === 'object' && entry !== null ? read(entry as Record<string, unknown>) : null;
    if (shaped !== null) list.push(shaped);
  }
  return list;
}

/** A record's attempt errors as the detail view lists them. */
function attemptErrorsOf(record: TaskRecord): TaskDetailJson['attempt_errors'] {
  return entriesOf(record.attemptErrors, ({ attempt, error, at }) => {
    const number = wholeNumber(attempt);
    return number === null || typeof error !== 'string' ? null : { attempt: number, error, at: typeof at === 'string' ? at : null };
  });
}

/**
 * Shapes a record for `GET :id/`. The task's input is left out on purpose: it may hold data the
 * launcher passed for the handler only, and the detail view has no use for it.
 */
export function toTaskDetail(record: TaskRecord, affectedKeys: readonly string[] = []): TaskDetailJson {
  return {
    ...toTaskSummary(record),
    kind: record.taskName ?? null,
    error: record.error ?? null,
    updated_at: isoOrNull(record.updatedAt),
    failed_at: isoOrNull(record.failedAt),
    cancel_requested_by: record.cancelRequestedBy ?? null,
    attempt_errors: attemptErrorsOf(record),
    retried_by: record.retriedBy ?? null,
    retried_at: isoOrNull(record.retriedAt),
    milestones: milestonesOf(record),
    cleaned_up: record.cleanedUp === true,
    affected_keys: [...affectedKeys],
  };
}

/** A record's milestones as the timeline lists them. */
function milestonesOf(record: TaskRecord): TaskDetailJson['milestones'] {
  return entriesOf(record.milestones, ({ percent, message, at, attempt }) =>
    typeof percent !== 'number' || typeof at !== 'string'
      ? null
      : { percent, message: typeof message === 'string' ? message : null, at, attempt: wholeNumber(attempt) ?? 1 });
}

/** Shapes a page of records for `GET status/`. */
export function toStatusJson(page: TaskPage, counts: StatusCountsJson | null = null): TaskStatusJson {
  return { tasks: page.tasks.map(toTaskSummary), next_cursor: page.nextCursor ?? null, prev_cursor: page.prevCursor ?? null, counts };
}

/** One instance in `GET fleet/`. */
export interface FleetInstanceJson {
  id: string;
  heartbeat_at: string | null;
  running: number;
  queued: number;
}

/** The body of `GET fleet/`: who holds the unfinished tasks, and how many wait for a worker. */
export interface FleetJson {
  instances: FleetInstanceJson[];
  /** PENDING tasks no instance holds (waiting in a distributed queue). */
  waiting: number;
  /** Workers the queue engine knows alive; `null` when the runner cannot tell. */
  workers: number | null;
  /** Heartbeats older than this read "not responding". */
  stale_after_ms: number;
}

/** Shapes a fleet report for `GET fleet/` and the page. */
export function toFleetJson(report: FleetReport): FleetJson {
  return {
    instances: report.instances.map((instance) => ({
      id: instance.id, heartbeat_at: isoOrNull(instance.heartbeatAt), running: instance.running, queued: instance.queued,
    })),
    waiting: report.waiting,
    workers: report.workers,
    stale_after_ms: report.staleAfterMs,
  };
}
