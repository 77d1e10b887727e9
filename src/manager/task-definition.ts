import { ConfigurationError } from '../core/errors.js';
import { stringOf } from '../core/json.js';
import { checkRetryOptions } from '../core/retry.js';
import type { Logger } from '../core/logger.js';
import type { JsonValue, TaskDefinition } from '../core/types.js';

/** Rejects a definition that could never run, naming the kind and what is wrong. */
export function validateDefinition(kind: unknown, definition: unknown, duplicate: boolean): void {
  if (typeof kind !== 'string' || !kind.trim()) throw new ConfigurationError('A task kind must be a non-empty string.');
  if (duplicate) throw new ConfigurationError(`Task kind "${kind}" is already defined.`);
  if (definition === null || typeof definition !== 'object') {
    throw new ConfigurationError(`The definition of "${kind}" must be an object with a run() function.`);
  }
  const def = definition as Partial<TaskDefinition>;
  if (typeof def.run !== 'function') throw new ConfigurationError(`The definition of "${kind}" needs a run() function.`);
  const label: unknown = def.label;
  if (label !== undefined && typeof label !== 'function' && (typeof label !== 'string' || !label)) {
    throw new ConfigurationError(`label of "${kind}" must be a non-empty string or a function of the input that returns one.`);
  }
  if (def.timeoutMs !== undefined && (typeof def.timeoutMs !== 'number' || !(def.timeoutMs >= 1) || !Number.isFinite(def.timeoutMs))) {
    throw new ConfigurationError(`timeoutMs of "${kind}" must be a number of milliseconds of at least 1.`);
  }
  checkRetryOptions(kind, def.attempts, def.backoff);
}

/**
 * The label of one run: the definition's text, or what its label function makes of the input.
 * A label function that throws or returns no text is the host's bug: it is logged, and the run
 * is labelled with its kind rather than refused.
 */
export function labelFor(kind: string, definition: TaskDefinition, input: JsonValue | undefined, logger: Logger): string {
  const { label } = definition;
  if (typeof label !== 'function') return label ?? kind;
  try {
    const made: unknown = label(input);
    if (typeof made === 'string' && made) return made;
    logger.error(`[stablehand] the label function of "${kind}" returned ${stringOf(made)}, not a text; the run is labelled "${kind}"`);
  } catch (error) {
    logger.error(`[stablehand] the label function of "${kind}" threw; the run is labelled "${kind}"`, error);
  }
  return kind;
}
