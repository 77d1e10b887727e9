/**
 * Whether `id` can name a record at all: 1 to 200 characters, none of them a control character or
 * half of a surrogate pair. Anything else is refused before it reaches a database, which may
 * reject it with an error of its own (PostgreSQL refuses NUL in text) rather than find nothing.
 * Not a format check: a host's own table may hold ids stablehand did not make.
 */
export function isPlausibleId(id: unknown): id is string {
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH && !/[\u0000-\u001f\u007f]|\p{Cs}/u.test(id);
}

/** The longest id {@link isPlausibleId} accepts. */
export const MAX_ID_LENGTH = 200;
