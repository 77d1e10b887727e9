import { ConfigurationError } from './errors.js';

/**
 * Every key of an options interface, each mapped to `true`. Typing a key set as `KeySet<Options>`
 * makes the compiler refuse a set that misses a key or names one the interface lacks, so the
 * runtime check of unknown keys can never drift from the interface.
 */
export type KeySet<T> = { readonly [K in keyof Required<T>]: true };

/** Throws a {@link ConfigurationError} when `options` is not an object or has a key `known` lacks. */
export function checkOptionKeys(options: unknown, known: Readonly<Record<string, true>>, what: string): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigurationError(`${what} options must be an object.`);
  }
  for (const key of Object.keys(options)) {
    // Unknown keys are almost always typos ("pollInterval"), which would otherwise be ignored.
    if (!Object.hasOwn(known, key)) {
      throw new ConfigurationError(`${what}: ${key} is not an option; the options are ${Object.keys(known).join(', ')}.`);
    }
  }
  return options as Record<string, unknown>;
}

/** Checks a duration option: a finite number of milliseconds, at least `min`. */
export function checkMs(name: string, value: unknown, min = 0): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ConfigurationError(`${name} must be a number of milliseconds of at least ${min}; got ${String(value)}.`);
  }
  return value;
}
