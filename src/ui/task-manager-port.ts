import type { TaskPage, TaskRecord } from '../adapters/record-store.js';
import type {
  CancelResult, JsonValue, LaunchOptions, LaunchedTask, LifecycleEventName, LifecycleListener, TaskStatus,
} from '../manager/types.js';

/** A page query as the router asks the manager for it. */
export interface TaskListRequest {
  status?: TaskStatus | TaskStatus[];
  limit?: number;
  before?: string;
}

/**
 * The part of a task manager the router uses. `TaskManager` and `ModelTrackingTaskManager` both
 * satisfy it; naming only these members keeps the web layer testable with any compatible manager
 * and keeps it from reaching into manager internals.
 */
export interface TaskRouterManager {
  /** Kinds the manager can launch; read on every request, so kinds defined later are offered too. */
  readonly kinds: readonly string[];
  /** Launches a task for `POST run/`; resolves once its PENDING record is durable. */
  launch(kind: string, input?: JsonValue, options?: LaunchOptions): Promise<LaunchedTask>;
  /** Cancels a task for `POST :id/cancel/`; rejects with the manager's not-found or finished errors. */
  cancel(id: string): Promise<CancelResult>;
  /** Reads one task for `GET :id/`. */
  getTask(id: string): Promise<TaskRecord | null>;
  /** Reads a page of tasks, newest first, for the page and `GET status/`. */
  listTasks(query?: TaskListRequest): Promise<TaskPage>;
  /**
   * Lifecycle events, when the manager has them; the router listens to drop cached status
   * answers as soon as something changes.
   */
  on?(event: LifecycleEventName, listener: LifecycleListener): unknown;
}

/**
 * The lifecycle events that change what `GET status/` answers. Not `cleanup`: it only marks a
 * record cleaned up, which the status JSON does not show, and it always follows a terminal event
 * in the same tick. Each event listened to makes the manager build a payload per task.
 */
export const STATUS_CHANGING_EVENTS: readonly LifecycleEventName[] = [
  'create', 'start', 'progress', 'complete', 'fail', 'cancel',
];

const REQUIRED_METHODS = ['launch', 'cancel', 'getTask', 'listTasks'] as const;

/** Names the first missing member, or returns null when `value` looks like a usable manager. */
export function findMissingManagerMember(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'the manager itself';
  const record = value as Record<string, unknown>;
  for (const name of REQUIRED_METHODS) {
    if (typeof record[name] !== 'function') return `${name}()`;
  }
  if (!Array.isArray(record['kinds'])) return 'kinds';
  return null;
}
