import { InvalidInputError } from './errors.js';
import type { JsonValue } from './types.js';

/**
 * Throws an {@link InvalidInputError} naming the path of the first part of `value` that would not
 * survive a trip through JSON unchanged. Task inputs must, because a distributed runner sends
 * them to another process.
 */
export function assertJson(value: unknown, what: string): asserts value is JsonValue | undefined {
  // Most values are plain JSON (or absent): they pass without the walk that builds error paths.
  if (value === undefined || isPlainJson(value, 0)) return;
  const problem = findNonJson(value, what, new Set());
  if (problem) throw new InvalidInputError(problem);
}

function findNonJson(value: unknown, path: string, seen: Set<object>): string | null {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      return Number.isFinite(value) ? null : `${path} is ${value}, which JSON cannot hold.`;
    case 'undefined':
      return null;
    case 'object': {
      if (value === null) return null;
      if (seen.has(value)) return `${path} refers back to itself; JSON cannot hold cycles.`;
      const proto: unknown = Object.getPrototypeOf(value);
      if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
        // Its prototype chain may lack a constructor (one that starts at Object.create(null)).
        const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
        return `${path} is a ${name}; only plain objects, arrays, strings, finite numbers, booleans and null are JSON.`;
      }
      seen.add(value);
      const entries = Array.isArray(value) ? value.map((v, i) => [`${path}[${i}]`, v] as const)
        : Object.entries(value).map(([k, v]) => [`${path}.${k}`, v] as const);
      for (const [childPath, child] of entries) {
        const problem = findNonJson(child, childPath, seen);
        if (problem) return problem;
      }
      seen.delete(value);
      return null;
    }
    default:
      return `${path} is a ${typeof value}, which JSON cannot hold.`;
  }
}

/**
 * Turns anything into a JSON value without throwing: dates become ISO strings, errors their
 * message, maps and sets objects and arrays, bigints strings, cycles `"[Circular]"`, and
 * functions, symbols and `undefined` members disappear as `JSON.stringify` would drop them.
 */
export function toJsonValue(value: unknown): JsonValue {
  // Most results are already plain JSON: hand them back as they are, without a copy or a cycle set.
  return isPlainJson(value, 0) ? (value as JsonValue) : convert(value, new Set());
}

/**
 * `String(value)` for a value of any type. Ids and names may be objects with a `toString()` of
 * their own (a MongoDB `ObjectId`, a driver's value class), which is what this is for; a plain
 * object still becomes `"[object Object]"`.
 */
export function stringOf(value: unknown): string {
  return String(value);
}

const MAX_PLAIN_DEPTH = 32;

function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      // Deep structures (and cycles, which are endless) take the careful path.
      if (depth >= MAX_PLAIN_DEPTH) return false;
      if (Array.isArray(value)) {
        for (const item of value) if (!isPlainJson(item, depth + 1)) return false;
        return true;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key in value) {
        if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

function convert(value: unknown, seen: Set<object>): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return null;
  }
  if (value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Error) return value.message;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  try {
    if (Array.isArray(value) || value instanceof Set) {
      return Array.from(value as Iterable<unknown>, (item) => convert(item, seen));
    }
    const source: object = value instanceof Map ? Object.fromEntries(value as Map<PropertyKey, unknown>) : value;
    const maybeToJson = (source as { toJSON?: () => unknown }).toJSON;
    if (typeof maybeToJson === 'function') return convert(maybeToJson.call(source), seen);
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(source)) {
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
      out[key] = convert(item, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
