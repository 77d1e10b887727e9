import { ConfigurationError } from './errors.js';
import { stringOf } from './json.js';
import { MAX_ATTEMPT_ERRORS, type AttemptError } from './record.js';
import type { RetryBackoff } from './types.js';

// An attempt's error is kept whole up to this many characters; a stack trace need not fill a row.
const MAX_ERROR_LENGTH = 2_000;

/**
 * Milliseconds to wait before the retry that follows failed attempt `attempt` (from 1), with
 * BullMQ's formulas: `fixed` waits `delay`, `exponential` waits `delay × 2^(attempt − 1)`.
 */
export function backoffDelay(backoff: RetryBackoff | undefined, attempt: number): number {
  if (backoff === undefined) return 0;
  if (typeof backoff === 'number') return backoff;
  return backoff.type === 'fixed' ? backoff.delay : Math.round(backoff.delay * 2 ** (attempt - 1));
}

/** Throws a `ConfigurationError` naming `kind` for attempts or a backoff BullMQ would refuse too. */
export function checkRetryOptions(kind: string, attempts: unknown, backoff: unknown): void {
  if (attempts !== undefined && (typeof attempts !== 'number' || !Number.isInteger(attempts) || attempts < 1 || attempts > 1_000)) {
    throw new ConfigurationError(`attempts of "${kind}" must be a whole number from 1 to 1000; got ${stringOf(attempts)}.`);
  }
  if (backoff === undefined) return;
  const delay: unknown = typeof backoff === 'object' && backoff !== null ? (backoff as { delay?: unknown }).delay : backoff;
  const type: unknown = typeof backoff === 'object' && backoff !== null ? (backoff as { type?: unknown }).type : 'fixed';
  if (type !== 'fixed' && type !== 'exponential') {
    throw new ConfigurationError(`backoff.type of "${kind}" must be 'fixed' or 'exponential'; got ${stringOf(type)}.`);
  }
  if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) {
    throw new ConfigurationError(`backoff of "${kind}" must be milliseconds (at least 0), or { type, delay } with such a delay.`);
  }
  const unknownKey = typeof backoff === 'object' && backoff !== null ? Object.keys(backoff).find((key) => key !== 'type' && key !== 'delay') : undefined;
  if (unknownKey !== undefined) throw new ConfigurationError(`backoff of "${kind}" has an unknown key "${unknownKey}"; its keys are type and delay.`);
}

/**
 * The attempt errors of a record with one more: the first failure is always kept (it is often
 * the telling one), then the latest, up to {@link MAX_ATTEMPT_ERRORS}.
 */
export function withAttemptError(errors: readonly AttemptError[] | null, attempt: number, error: string, at: Date): AttemptError[] {
  const entry: AttemptError = {
    attempt, error: error.length > MAX_ERROR_LENGTH ? `${error.slice(0, MAX_ERROR_LENGTH - 1)}…` : error, at: at.toISOString(),
  };
  // A host's column may hold anything: only a list is carried on.
  const list: AttemptError[] = Array.isArray(errors) ? [...(errors as readonly AttemptError[]), entry] : [entry];
  return list.length > MAX_ATTEMPT_ERRORS ? [list[0], ...list.slice(list.length - MAX_ATTEMPT_ERRORS + 1)] : list;
}

/** How the record names an attempt: "attempt 2 of 3". */
export function attemptOf(attempt: number, maxAttempts: number): string {
  return `attempt ${attempt} of ${maxAttempts}`;
}
