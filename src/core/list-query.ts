import { isPlausibleId } from './ids.js';
import { InvalidInputError } from './errors.js';
import type { TaskRecord } from './record.js';
import { TASK_STATUSES, type TaskStatus } from './status.js';

/** Page size of `listTasks()` and of the page when none is given. */
export const DEFAULT_LIST_LIMIT = 50;
/** The largest page `listTasks()` and `GET status/` return. */
export const MAX_LIST_LIMIT = 500;
/**
 * The longest cursor (`before`) accepted. Task ids are 36 characters; anything much longer is
 * not a cursor stablehand gave out.
 */
export const MAX_CURSOR_LENGTH = 64;

/** What a caller asks `listTasks()` (and the router's `GET status/`) for. */
export interface ListTasksOptions {
  /** Only tasks in this status or these statuses. */
  status?: TaskStatus | readonly TaskStatus[];
  /**
   * Page size, from 1 to {@link MAX_LIST_LIMIT}.
   * @defaultValue 50
   */
  limit?: number;
  /** Cursor: the `nextCursor` of the previous page. */
  before?: string;
}

/** {@link ListTasksOptions} checked, with defaults applied: what a record store is asked. */
export interface ListQuery {
  /** Only records in these statuses (each once); absent for every status. */
  status?: readonly TaskStatus[];
  /** Page size, from 1 to {@link MAX_LIST_LIMIT}. */
  limit: number;
  /** Cursor: only records older than the one with this id (a previous page's `nextCursor`). */
  before?: string;
}

/** One page of task records. */
export interface TaskPage {
  /** Newest first. */
  tasks: TaskRecord[];
  /** Pass as `before` for the next page; `null` on the last page. */
  nextCursor: string | null;
}

/** Checks list options and applies defaults; throws {@link InvalidInputError} naming the bad value. */
export function resolveListQuery(options: ListTasksOptions): ListQuery {
  // Typed, but a JavaScript caller may pass anything.
  const given: unknown = options;
  if (given === null || typeof given !== 'object') throw new InvalidInputError('List options must be an object.');
  const limit = options.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new InvalidInputError(`limit must be a whole number from 1 to ${MAX_LIST_LIMIT}; got ${String(limit)}.`);
  }
  const query: ListQuery = { limit };
  if (options.status !== undefined) {
    const statuses: readonly unknown[] = Array.isArray(options.status) ? options.status : [options.status];
    const unknown = statuses.find((s) => !TASK_STATUSES.includes(s as TaskStatus));
    if (statuses.length === 0 || unknown !== undefined) {
      throw new InvalidInputError(`status must be one of ${TASK_STATUSES.join(', ')}; got ${JSON.stringify(unknown ?? statuses)}.`);
    }
    query.status = [...new Set(statuses as TaskStatus[])];
  }
  if (options.before !== undefined) {
    if (!isPlausibleId(options.before) || options.before.length > MAX_CURSOR_LENGTH) {
      throw new InvalidInputError('before must be a task id (a cursor from a previous page).');
    }
    query.before = options.before;
  }
  return query;
}
