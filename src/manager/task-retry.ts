import { InvalidInputError, TaskNotFoundError, TaskNotRetryableError, UnknownTaskKindError } from '../core/errors.js';
import { isPlausibleId } from '../core/ids.js';
import { isWordKey } from '../core/task-keys.js';
import type { JsonValue, LaunchOptions, LaunchedTask, RetryOptions } from '../core/types.js';
import type { RecordStore } from '../ports/record-store.js';
import { newTaskId } from './task-id.js';

/** What `retry()` hands the launch: the new task's id, the task it retries, and what it touched. */
export interface RetrySource {
  id: string;
  of: string;
  affected: JsonValue | null;
  affectedKeys: string[];
  /** Set by the launch once the new record is durable. */
  written: boolean;
}

/** What a retry needs of its manager. */
export interface RetryHost {
  store: RecordStore;
  defines(kind: string): boolean;
  kinds(): string[];
  formatUser(user: unknown): JsonValue;
  now(): Date;
  launch(kind: string, input: JsonValue | undefined, options: LaunchOptions, source: RetrySource): Promise<LaunchedTask>;
}

/** See `TaskManager.retry`. */
export async function retryTask(host: RetryHost, id: string, options: RetryOptions): Promise<LaunchedTask> {
  const { store } = host;
  if (!isPlausibleId(id)) throw new TaskNotFoundError(String(id));
  const givenOptions: unknown = options;
  if (givenOptions === null || typeof givenOptions !== 'object') throw new InvalidInputError('retry options must be an object.');
  // A task that just ended here may have its terminal state still queued.
  await store.flush();
  const old = await store.get(id);
  if (!old) throw new TaskNotFoundError(id);
  if (old.retriedAs) throw new TaskNotRetryableError(id, { retriedAs: old.retriedAs });
  if (old.status !== 'FAILED' && old.status !== 'CANCELLED') throw new TaskNotRetryableError(id, { status: old.status });
  if (store.tracksInputs === false) throw new TaskNotRetryableError(id, { input: 'unstored' });
  if (isCutJson(old.input)) throw new TaskNotRetryableError(id, { input: 'cut' });
  const kind = old.taskName ?? '';
  if (!host.defines(kind)) throw new UnknownTaskKindError(kind, host.kinds());
  const now = host.now();
  const newId = newTaskId(now.getTime());
  // The link is taken first, so two operators retrying at once make one task, not two.
  if (!(await store.linkRetry(id, newId, host.formatUser(options.user), now, null))) {
    const seen = await store.get(id);
    throw new TaskNotRetryableError(id, seen?.retriedAs ? { retriedAs: seen.retriedAs } : { status: seen?.status ?? 'gone' });
  }
  const affectedKeys = (await store.keysOf(id)).filter((key) => !isWordKey(key));
  const launchOptions: LaunchOptions = { user: options.user, ...(old.label ? { label: old.label } : {}) };
  const source: RetrySource = { id: newId, of: id, affected: old.affected, affectedKeys, written: false };
  try {
    return await host.launch(kind, old.input ?? undefined, launchOptions, source);
  } catch (error) {
    // Nothing was launched: the old task may be retried again. But a new record that was written
    // (then ended: the manager stopped, or the queue refused it) is its retry, linked both ways,
    // so that the old task is still retried once.
    if (!source.written) await store.linkRetry(id, null, null, null, newId).catch(() => false);
    throw error;
  }
}

/**
 * Whether a stored JSON value is the mark a store leaves of JSON too long for its column
 * (`{ truncated: true, length, preview }`, see the TypeORM adapter's storable.ts).
 */
function isCutJson(value: JsonValue | null): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 3 && value.truncated === true && typeof value.length === 'number' && typeof value.preview === 'string';
}
