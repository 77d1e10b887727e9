import { ConfigurationError } from '../core/errors.js';
import type { TaskDefinition } from '../core/types.js';

/** Rejects a definition that could never run, naming the kind and what is wrong. */
export function validateDefinition(kind: unknown, definition: unknown, duplicate: boolean): void {
  if (typeof kind !== 'string' || !kind.trim()) throw new ConfigurationError('A task kind must be a non-empty string.');
  if (duplicate) throw new ConfigurationError(`Task kind "${kind}" is already defined.`);
  if (definition === null || typeof definition !== 'object') {
    throw new ConfigurationError(`The definition of "${kind}" must be an object with a run() function.`);
  }
  const def = definition as Partial<TaskDefinition>;
  if (typeof def.run !== 'function') throw new ConfigurationError(`The definition of "${kind}" needs a run() function.`);
  if (def.label !== undefined && (typeof def.label !== 'string' || !def.label)) {
    throw new ConfigurationError(`label of "${kind}" must be a non-empty string.`);
  }
  if (def.labels !== undefined) {
    if (!Array.isArray(def.labels) || def.labels.length === 0 || def.labels.some((l) => typeof l !== 'string' || !l)) {
      throw new ConfigurationError(`labels of "${kind}" must be a non-empty array of non-empty strings.`);
    }
  }
  if (def.timeoutMs !== undefined && (typeof def.timeoutMs !== 'number' || !(def.timeoutMs >= 1) || !Number.isFinite(def.timeoutMs))) {
    throw new ConfigurationError(`timeoutMs of "${kind}" must be a number of milliseconds of at least 1.`);
  }
}

/** The label of one run: a random one of `labels`, else `label`. */
export function pickLabel(definition: TaskDefinition): string | undefined {
  const { labels } = definition;
  if (labels && labels.length > 0) return labels[Math.floor(Math.random() * labels.length)];
  return definition.label;
}
