import { InvalidInputError } from './errors.js';

/*
 * A task's index keys: the rows of the side table that answer "which tasks touched order 42?" and
 * the search box. Two shapes share one table, and cannot be confused:
 * - an affected object, `type:id` (`order:42`): the type lower-cased, the id as given;
 * - a search word, `~word`: a lower-cased word of the task's kind, label or user.
 */

/** The longest type of an affected key (`order` in `order:42`). */
export const MAX_AFFECTED_TYPE_LENGTH = 50;
/** The longest id of an affected key (`42` in `order:42`). */
export const MAX_AFFECTED_ID_LENGTH = 200;
/** The most affected keys one task is indexed under; the rest are left out (and logged). */
export const MAX_AFFECTED_KEYS = 1000;
/** The most search words one task is indexed under (the first ones of its kind, label and user). */
export const MAX_SEARCH_WORDS = 24;
/** The longest search text `listTasks()` and `GET status/?q=` accept. */
export const MAX_SEARCH_LENGTH = 200;
/** The most terms a search combines (all must match). */
export const MAX_SEARCH_TERMS = 8;

const WORD_PREFIX = '~';
const MAX_WORD_LENGTH = 40;
const TYPE_PATTERN = /^[a-z0-9][a-z0-9_.-]*$/;
// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const UNSAFE = /[\u0000-\u001f\u007f]|\p{Cs}/u;
const WORD = /[\p{L}\p{N}]+/gu;

/**
 * The normalised key of an affected object given as text (`Order:42` → `order:42`), or null when
 * `text` is not `type:id`: a type of letters, digits, `_`, `.` or `-` (at most
 * {@link MAX_AFFECTED_TYPE_LENGTH}), a colon, and an id of 1 to {@link MAX_AFFECTED_ID_LENGTH}
 * characters without control characters.
 */
export function affectedKey(text: string): string | null {
  const colon = text.indexOf(':');
  if (colon < 1 || colon > MAX_AFFECTED_TYPE_LENGTH) return null;
  const type = text.slice(0, colon).toLowerCase();
  const id = text.slice(colon + 1).trim();
  if (!TYPE_PATTERN.test(type) || id === '' || id.length > MAX_AFFECTED_ID_LENGTH || UNSAFE.test(id)) return null;
  return `${type}:${id}`;
}

/**
 * The key of one affected object as `launch()` was given it: an object with an `id` is keyed by
 * its class (`Order` → `order:42`, a plain object `object:42`); text that is already `type:id` is
 * normalised; any other string or number is `object:<value>`. Null for what cannot be keyed.
 */
export function affectedKeyOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return affectedKey(value) ?? affectedKey(`object:${value}`);
  if (typeof value === 'number' || typeof value === 'bigint') return affectedKey(`object:${String(value)}`);
  if (typeof value !== 'object') return null;
  const id = (value as { id?: unknown }).id;
  if (typeof id !== 'string' && typeof id !== 'number' && typeof id !== 'bigint') return null;
  // An object made with Object.create(null) has no constructor.
  const kind = (value as { constructor?: { name?: string } }).constructor?.name;
  const type = kind && kind !== 'Object' ? kind.toLowerCase() : 'object';
  return affectedKey(`${type}:${String(id)}`);
}

/** The search words of a text: lower-cased runs of letters and digits, each once, in order. */
export function searchWords(text: string): string[] {
  const words = text.normalize('NFKC').toLowerCase().match(WORD) ?? [];
  return [...new Set(words.filter((word) => word.length <= MAX_WORD_LENGTH))];
}

/** Whether an index key is a search word (rather than an affected object). */
export function isWordKey(key: string): boolean {
  return key.startsWith(WORD_PREFIX);
}

/** The index key of a search word. */
export function wordKey(word: string): string {
  return WORD_PREFIX + word;
}

/**
 * What a task is indexed under: its affected keys, then the words of `texts` (each once) but the
 * words in `shared`, which every task of its kind has and its kind column answers for.
 */
export function indexKeysOf(affectedKeys: readonly string[], texts: readonly (string | null | undefined)[], shared?: ReadonlySet<string>): string[] {
  const keys = new Set(affectedKeys.slice(0, MAX_AFFECTED_KEYS));
  let words = 0;
  for (const text of texts) {
    if (!text) continue;
    for (const word of searchWords(text)) {
      if (shared?.has(word)) continue;
      if (words === MAX_SEARCH_WORDS) return [...keys];
      const key = wordKey(word);
      if (!keys.has(key)) {
        keys.add(key);
        words++;
      }
    }
  }
  return [...keys];
}

/**
 * One term of a search: a task matches it when it has the index key, or when its kind is one of
 * `kinds` (the kinds whose name or defined label has the word, which the manager fills in: words
 * every task of a kind shares are matched through the kind column, not stored per task).
 */
export interface SearchTerm {
  /** An affected key (`order:42`) or a word's key (`~import`). */
  key: string;
  /** Kinds that match the term as a whole; empty for an affected key. */
  kinds: readonly string[];
}

/**
 * A checked search: every term must match a task. A search of one text that could be the start
 * of a task id also matches ids by prefix.
 */
export interface SearchQuery {
  /** At least one term; all must match. */
  terms: readonly SearchTerm[];
  /** A lower-case task id prefix the search also matches (alone, as an alternative to `terms`). */
  idPrefix?: string;
}

const ID_PREFIX = /^[0-9a-f]{4,}(?:-[0-9a-f]*)*$/i;

/**
 * Reads the search box: whitespace-separated terms, each an affected key (`order:42`), or words
 * (`csv import`, which must all appear in the kind, label or user). One term that looks like the
 * start of a task id also finds the task by id. Throws {@link InvalidInputError} for text no task
 * can match (empty, too long, control characters, too many terms).
 */
export function parseSearch(text: unknown): SearchQuery {
  if (typeof text !== 'string') throw new InvalidInputError('search must be text.');
  const trimmed = text.trim();
  if (trimmed.length > MAX_SEARCH_LENGTH) throw new InvalidInputError(`search must be at most ${MAX_SEARCH_LENGTH} characters.`);
  if (UNSAFE.test(trimmed)) throw new InvalidInputError('search must not contain control characters.');
  const terms = trimmed.split(/\s+/).filter(Boolean);
  const keys = new Set<string>();
  for (const term of terms) {
    const key = term.includes(':') ? affectedKey(term) : null;
    if (key !== null) keys.add(key);
    else for (const word of searchWords(term)) keys.add(wordKey(word));
  }
  if (keys.size === 0) throw new InvalidInputError('search needs a word, an affected key such as "order:42" or a task id.');
  if (keys.size > MAX_SEARCH_TERMS) throw new InvalidInputError(`search combines at most ${MAX_SEARCH_TERMS} terms.`);
  const query: SearchQuery = { terms: [...keys].map((key) => ({ key, kinds: [] })) };
  if (terms.length === 1 && ID_PREFIX.test(terms[0]) && terms[0].length <= 36) query.idPrefix = terms[0].toLowerCase();
  return query;
}

/** The word of a word key (`~import` → `import`), or null for an affected key. */
export function wordOf(key: string): string | null {
  return isWordKey(key) ? key.slice(WORD_PREFIX.length) : null;
}

/**
 * Checks an affected key given to `listTasks({ affected })` or `?affected=` and normalises it;
 * throws {@link InvalidInputError} naming the expected shape.
 */
export function parseAffectedKey(text: unknown): string {
  const key = typeof text === 'string' ? affectedKey(text.trim()) : null;
  if (key === null) {
    throw new InvalidInputError(
      `affected must be a key such as "order:42": a type of letters, digits, "_", "." or "-", a colon, and an id of 1 to ${MAX_AFFECTED_ID_LENGTH} characters.`,
    );
  }
  return key;
}
