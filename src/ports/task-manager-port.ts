import type { FleetReport } from '../core/fleet.js';
import type { CountTasksOptions, ListTasksOptions, TaskPage } from '../core/list-query.js';
import type { StatusCounts, TaskMetrics } from '../core/metrics.js';
import type { CancelOptions, CancelResult, RetryOptions, JsonValue, LaunchOptions, LaunchedTask, LifecycleEventName, LifecycleListener } from '../core/types.js';
import type { TaskRecord } from '../core/record.js';

/**
 * A page query as the router asks the manager for it.
 * @deprecated The same type as {@link ListTasksOptions}; use that.
 */
export type TaskListRequest = ListTasksOptions;

/**
 * The part of a task manager the router uses. `TaskManager` and `ModelTrackingTaskManager` both
 * satisfy it; naming only these members keeps the web layer testable with any compatible manager
 * and keeps it from reaching into manager internals.
 */
export interface TaskRouterManager {
  /** Kinds the manager can launch; read on every request, so kinds defined later are offered too. */
  readonly kinds: readonly string[];
  /**
   * How long an instance may stay silent before its tasks are taken back; the page reads a
   * running task's heartbeat older than this as "not responding".
   * @defaultValue 30000 when the manager does not say
   */
  readonly staleAfterMs?: number;
  /** Launches a task for `POST run/`; resolves once its PENDING record is durable. */
  launch(kind: string, input?: JsonValue, options?: LaunchOptions): Promise<LaunchedTask>;
  /** Cancels a task for `POST :id/cancel/`; rejects with the manager's not-found or finished errors. */
  cancel(id: string, options?: CancelOptions): Promise<CancelResult>;
  /**
   * Who holds the unfinished tasks and how many wait for a worker, for `GET fleet/` and the page's
   * workers strip. Optional: without it the page shows no strip.
   */
  fleet?(): Promise<FleetReport>;
  /**
   * Whether tasks can be searched and listed by affected object; the page shows its search box
   * and affected-object links only then. Optional: absent reads as false.
   */
  readonly searchable?: boolean;
  /** Per-status counts for the page's tabs and `GET status/`. Optional: without it, tabs show no counts. */
  countTasks?(options?: CountTasksOptions): Promise<StatusCounts>;
  /** Figures for `GET metrics/` and the page's charts. Optional: without it, neither exists. */
  metrics?(): Promise<TaskMetrics>;
  /** Retries a FAILED or CANCELLED task for `POST :id/retry/`. Optional: without it, no retry. */
  retry?(id: string, options?: RetryOptions): Promise<LaunchedTask>;
  /** The affected keys of a task (`order:42`) for its detail view. Optional. */
  affectedKeysOf?(id: string): Promise<string[]>;
  /** Reads one task for `GET :id/`. */
  getTask(id: string): Promise<TaskRecord | null>;
  /** Reads a page of tasks, newest first, for the page and `GET status/`. */
  listTasks(query?: ListTasksOptions): Promise<TaskPage>;
  /**
   * Lifecycle events, when the manager has them; the router listens to drop cached status
   * answers as soon as something changes.
   */
  on?(event: LifecycleEventName, listener: LifecycleListener): unknown;
}
