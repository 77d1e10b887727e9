import type { ListQuery } from '../adapters/record-store.js';
import { InvalidInputError } from './errors.js';
import { TASK_STATUSES, type TaskStatus } from './types.js';

/** Options of `listTasks()`. */
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

/** Page size of `listTasks()` when none is given. */
export const DEFAULT_LIST_LIMIT = 50;
/** The largest page `listTasks()` returns. */
export const MAX_LIST_LIMIT = 500;

/** Checks list options and applies defaults; throws {@link InvalidInputError} naming the bad value. */
export function resolveListQuery(options: ListTasksOptions): ListQuery {
  if (options === null || typeof options !== 'object') throw new InvalidInputError('List options must be an object.');
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
    if (typeof options.before !== 'string' || !options.before || options.before.length > 64) {
      throw new InvalidInputError('before must be a task id (a cursor from a previous page).');
    }
    query.before = options.before;
  }
  return query;
}
