import { isPlausibleId } from './ids.js';
import { InvalidInputError } from './errors.js';
import type { TaskRecord } from './record.js';
import { TASK_STATUSES, type TaskStatus } from './status.js';
import { parseAffectedKey, parseSearch, type SearchQuery } from './task-keys.js';

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
  /** Cursor: the `nextCursor` of the page before, to read older tasks. */
  before?: string;
  /**
   * Cursor: the `prevCursor` of the page after, to read newer tasks. When fewer than a page
   * of newer tasks remain, the first page is returned (with `prevCursor` null).
   */
  after?: string;
  /** Only tasks that touched this affected object, as a key such as `order:42`. */
  affected?: string;
  /**
   * Search text: words of the kind, label or user, affected keys (`order:42`) and, alone, the
   * start of a task id; every term must match. Up to 200 characters.
   */
  search?: string;
}

/** What `countTasks()` counts within: the filters of {@link ListTasksOptions} but the status. */
export type CountTasksOptions = Pick<ListTasksOptions, 'affected' | 'search'>;

/** {@link CountTasksOptions} checked: what a record store is asked to count. */
export interface CountQuery {
  /** Only records indexed under this normalised affected key. */
  affected?: string;
  /** Only records matching this search. */
  search?: SearchQuery;
}

/** {@link ListTasksOptions} checked, with defaults applied: what a record store is asked. */
export interface ListQuery extends CountQuery {
  /** Only records in these statuses (each once); absent for every status. */
  status?: readonly TaskStatus[];
  /** Page size, from 1 to {@link MAX_LIST_LIMIT}. */
  limit: number;
  /** Cursor: only records older than the one with this id (a previous page's `nextCursor`). */
  before?: string;
  /**
   * Cursor: only records newer than the one with this id, the oldest of them first read; the
   * page still lists them newest first. Never given with `before`.
   */
  after?: string;
}

/** One page of task records. */
export interface TaskPage {
  /** Newest first. */
  tasks: TaskRecord[];
  /** Pass as `before` for the page of older tasks; `null` on the last page. */
  nextCursor: string | null;
  /**
   * Pass as `after` for the page of newer tasks; `null` on the first page. Stores may leave it
   * out; the manager fills it.
   */
  prevCursor?: string | null;
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
  for (const name of ['before', 'after'] as const) {
    const cursor = options[name];
    if (cursor === undefined) continue;
    if (!isPlausibleId(cursor) || cursor.length > MAX_CURSOR_LENGTH) {
      throw new InvalidInputError(`${name} must be a task id (a cursor from another page).`);
    }
    query[name] = cursor;
  }
  if (query.before !== undefined && query.after !== undefined) throw new InvalidInputError('Give before or after, not both.');
  Object.assign(query, resolveCountQuery(options));
  return query;
}

/** Checks the filters of a count (or a list); throws {@link InvalidInputError} naming the bad value. */
export function resolveCountQuery(options: CountTasksOptions): CountQuery {
  const given: unknown = options;
  if (given === null || typeof given !== 'object') throw new InvalidInputError('Count options must be an object.');
  const query: CountQuery = {};
  if (options.affected !== undefined) query.affected = parseAffectedKey(options.affected);
  if (options.search !== undefined) query.search = parseSearch(options.search);
  return query;
}
