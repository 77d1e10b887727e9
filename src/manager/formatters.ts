import { stringOf, toJsonValue } from '../core/json.js';
import type { JsonValue } from '../core/types.js';

/** What the default `formatUser` stores when a task was launched without a user. */
export const ANONYMOUS_USER = 'Anonymous';

const USER_NAME_KEYS = ['username', 'userName', 'name', 'displayName', 'email', 'login'] as const;

/** A readable label for one object: its name-like field, its id, or its JSON. */
export function labelOf(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of USER_NAME_KEYS) {
      if (typeof record[key] === 'string' && record[key]) return record[key];
    }
    if (record.id !== undefined && record.id !== null) return stringOf(record.id);
    return JSON.stringify(toJsonValue(value));
  }
  return stringOf(value);
}

/** A lock key for one affected object: see `TaskManager.lockKeysFor`. */
export function lockKeyOf(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return stringOf(value);
  const id = (value as { id?: unknown }).id;
  if (id === undefined || id === null) return JSON.stringify(toJsonValue(value));
  // An object made with Object.create(null) has no constructor.
  const kind = (value as { constructor?: { name: string } }).constructor?.name;
  return `${kind && kind !== 'Object' ? kind : 'object'}:${stringOf(id)}`;
}

/** Default `formatUser`: the user's name-like field, id or string form, or "Anonymous". */
export function defaultFormatUser(user: unknown): JsonValue {
  const label = labelOf(user);
  return label || ANONYMOUS_USER;
}

/** The affected objects as a list, whatever shape they were given in. */
export function affectedList(affected: unknown): unknown[] {
  if (affected === null || affected === undefined) return [];
  if (Array.isArray(affected)) return affected;
  if (affected instanceof Set) return [...affected];
  return [affected];
}

/** Default `formatAffected`: labels of the affected objects joined with ", ", or null if none. */
export function defaultFormatAffected(affected: unknown): JsonValue {
  if (affected === null || affected === undefined) return null;
  const labels = affectedList(affected).map(labelOf).filter(Boolean);
  return labels.length ? labels.join(', ') : null;
}

/** Default `formatPayload`: any value made JSON-safe by {@link toJsonValue}. */
export function defaultFormatPayload(value: unknown): JsonValue {
  return toJsonValue(value);
}
