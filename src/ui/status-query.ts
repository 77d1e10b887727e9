import { StablehandError } from '../core/errors.js';
import { isPlausibleId } from '../core/ids.js';
import { MAX_CURSOR_LENGTH, MAX_LIST_LIMIT, type ListTasksOptions } from '../core/list-query.js';
import { MAX_SEARCH_LENGTH, parseAffectedKey, parseSearch } from '../core/task-keys.js';
import { TASK_STATUSES, type TaskStatus } from '../core/status.js';
import { TaskRouterHttpError } from './http-error.js';

function invalid(message: string): never {
  throw new TaskRouterHttpError(400, 'INVALID_QUERY', message);
}

/** Reads a single-valued parameter; a repeated one (`?limit=1&limit=2`) is ambiguous and refused. */
function single(query: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') invalid(`Give "${name}" once, as plain text.`);
  return value;
}

function parseStatuses(raw: unknown): TaskStatus[] | undefined {
  if (raw === undefined) return undefined;
  // "?status=A,B" and "?status=A&status=B" mean the same; any other shape is a client mistake.
  const parts: string[] = [];
  const values = Array.isArray(raw) ? raw : [raw];
  for (const value of values) {
    if (typeof value !== 'string') invalid('"status" must be one or more comma-separated statuses.');
    parts.push(...value.split(','));
  }
  const statuses: TaskStatus[] = [];
  for (const part of parts) {
    const name = part.trim().toUpperCase();
    if (!(TASK_STATUSES as readonly string[]).includes(name)) {
      invalid(`"status" must be made of ${TASK_STATUSES.join(', ')}.`);
    }
    if (!statuses.includes(name as TaskStatus)) statuses.push(name as TaskStatus);
  }
  return statuses;
}

/** Checks with a core parser, turning its `InvalidInputError` into a 400 naming the parameter. */
function checked<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof StablehandError) invalid(`"${name}": ${error.message.replace(/^\w+ /, '')}`);
    throw error;
  }
}

/**
 * Turns the query string of `GET status/` (and of the page, whose URL carries the same state)
 * into a manager query, refusing anything malformed with a 400 `INVALID_QUERY` rather than
 * guessing. `q` is the search text, `affected` an affected key (`order:42`), `before` and `after`
 * the cursors. Unknown parameters (cache busters) are ignored; empty `q` and `affected`
 * read as absent, as an emptied search box submits them; an empty `status` is refused.
 */
export function parseStatusQuery(query: Readonly<Record<string, unknown>>, defaultLimit: number): ListTasksOptions {
  const request: ListTasksOptions = { limit: defaultLimit };
  // `status[]=x` is a key of its own to Express's query parser: refused rather than ignored.
  const bracketed = Object.keys(query).find((key) => /^(status|limit|before|after|q|affected)\[/.test(key));
  if (bracketed !== undefined) invalid(`Give "${bracketed.slice(0, bracketed.indexOf('['))}" as plain text, not as a list or an object.`);

  const statuses = parseStatuses(query.status);
  if (statuses) request.status = statuses;

  const limit = single(query, 'limit');
  if (limit !== undefined) {
    if (!/^\d{1,6}$/.test(limit)) invalid(`"limit" must be an integer from 1 to ${MAX_LIST_LIMIT}.`);
    const value = Number(limit);
    if (value < 1 || value > MAX_LIST_LIMIT) invalid(`"limit" must be an integer from 1 to ${MAX_LIST_LIMIT}.`);
    request.limit = value;
  }

  const before = single(query, 'before');
  if (before !== undefined) {
    if (!isPlausibleId(before) || before.length > MAX_CURSOR_LENGTH) invalid('"before" must be a cursor from "next_cursor".');
    request.before = before;
  }
  const after = single(query, 'after');
  if (after !== undefined) {
    if (!isPlausibleId(after) || after.length > MAX_CURSOR_LENGTH) invalid('"after" must be a cursor from "prev_cursor".');
    if (before !== undefined) invalid('Give "before" or "after", not both.');
    request.after = after;
  }
  const search = single(query, 'q');
  if (search !== undefined && search.trim() !== '') {
    if (search.trim().length > MAX_SEARCH_LENGTH) invalid(`"q" must be at most ${MAX_SEARCH_LENGTH} characters.`);
    checked('q', () => parseSearch(search));
    request.search = search;
  }
  const affected = single(query, 'affected');
  if (affected !== undefined && affected.trim() !== '') request.affected = checked('affected', () => parseAffectedKey(affected));
  return request;
}
