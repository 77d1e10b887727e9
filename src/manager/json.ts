import { InvalidInputError } from './errors.js';
import type { JsonValue } from './types.js';

/**
 * Throws an {@link InvalidInputError} naming the path of the first part of `value` that would not
 * survive a trip through JSON unchanged. Task inputs must, because a distributed runner sends
 * them to another process.
 */
export function assertJson(value: unknown, what: string): asserts value is JsonValue | undefined {
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
      const proto = Object.getPrototypeOf(value);
      if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
        const name = (value as object).constructor?.name ?? 'object';
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
export function toJsonValue(value: unknown, seen: Set<object> = new Set()): JsonValue {
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
      return Array.from(value as Iterable<unknown>, (item) => toJsonValue(item, seen));
    }
    const source = value instanceof Map ? Object.fromEntries(value) : value;
    const maybeToJson = (source as { toJSON?: () => unknown }).toJSON;
    if (typeof maybeToJson === 'function') return toJsonValue(maybeToJson.call(source), seen);
    const out: { [key: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(source)) {
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
      out[key] = toJsonValue(item, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
