import { ConfigurationError } from '../core/errors.js';
import { DEFAULT_STALE_AFTER_MS } from '../core/fleet.js';
import type { JsonValue } from '../core/types.js';
import type { RecordStore } from '../ports/record-store.js';
import type { Logger } from '../core/logger.js';
import { defaultInstanceId } from './instance-id.js';
import { checkMs, checkOptionKeys, type KeySet } from '../core/options.js';
import type { TaskRunner } from '../ports/task-runner.js';

/** Options of a periodic or manual cleanup sweep. */
export interface CleanupOptions {
  /**
   * Only records that finished at least this long ago are marked cleaned up (and deleted).
   * @defaultValue 0
   */
  olderThanMs?: number;
  /**
   * Delete the swept records instead of only marking them.
   * @defaultValue false
   */
  deleteRecords?: boolean;
}

/** Options of a {@link TaskManager}. */
export interface TaskManagerOptions {
  /**
   * Where records live.
   * @defaultValue a new `MemoryRecordStore`
   */
  store?: RecordStore;
  /**
   * Decides when and where tasks run.
   * @defaultValue a new `InProcessRunner` with `concurrency`
   */
  runner?: TaskRunner;
  /**
   * Tasks run at once by the default in-process runner. Not allowed together with `runner`
   * (give the concurrency to that runner instead).
   * @defaultValue 4
   */
  concurrency?: number;
  /**
   * Timeout of every task kind that sets none of its own, in milliseconds.
   * @defaultValue no timeout
   */
  defaultTimeoutMs?: number;
  /**
   * How long a cancelled or timed-out handler may take to notice its aborted signal before its
   * slot is given to the next task.
   * @defaultValue 5000
   */
  cancelGraceMs?: number;
  /**
   * Progress reports of one task are written at most once per this many milliseconds; the last
   * one is always written before the terminal status.
   * @defaultValue 250
   */
  progressIntervalMs?: number;
  /**
   * At `start()`, fail at once the unfinished records of processes that are gone: earlier runs
   * of this app (on this host, or under this `instanceId`), with `abandonedMessage`. Records held
   * by live processes are never touched; owners on other hosts are judged by their heartbeat
   * whatever this says. With a store that does not track owners (a host entity without `owner`
   * and `heartbeatAt`), it fails every unfinished record, as a single process may.
   * @defaultValue true
   */
  reconcileOnStart?: boolean;
  /**
   * Names this manager in the records of the tasks it holds (their `owner`). It must be unique
   * among the processes sharing the database; a restart may reuse it (a replica's stable name),
   * and a process that starts under an `instanceId` takes every unfinished task recorded under it
   * as left behind by its previous run. See "Running several processes" in the guides.
   * @defaultValue `<hostname>:<pid>:<random>`, new at each start of a process
   */
  instanceId?: string;
  /**
   * How often this manager shows it is alive: one statement per interval for all of its tasks,
   * which also picks up cancel requests made by other processes.
   * @defaultValue 5000
   */
  heartbeatIntervalMs?: number;
  /**
   * How long an owner may stay silent before its tasks are taken back by the other processes
   * (failed, or cancelled when a cancel was asked). At least twice `heartbeatIntervalMs`.
   * @defaultValue 30000
   */
  staleAfterMs?: number;
  /**
   * Message of records failed by start-up reconciliation.
   * @defaultValue "Abandoned — app restarted"
   */
  abandonedMessage?: string;
  /**
   * How long a task runs before the progress milestones of its timeline are recorded, in
   * milliseconds. A timeline in seconds has nothing to show of a shorter run, and leaving it out
   * keeps the progress writes of quick tasks as small as they were.
   * @defaultValue 1000
   */
  milestonesAfterMs?: number;
  /**
   * How long `metrics()` serves the figures it computed, in milliseconds: each computation is a
   * few aggregate queries over the last day's records.
   * @defaultValue 15000
   */
  metricsCacheMs?: number;
  /**
   * Run `cleanupCompletedTasks(cleanup)` this often, in milliseconds; 0 turns it off.
   * @defaultValue 0
   */
  cleanupIntervalMs?: number;
  /**
   * Options of the periodic cleanup.
   * @defaultValue `{ olderThanMs: 0, deleteRecords: false }`
   */
  cleanup?: CleanupOptions;
  /**
   * Receives warnings and errors stablehand recovered from.
   * @defaultValue `console`
   */
  logger?: Logger;
  /**
   * Renders the launching user for the record's `user` field (subclasses may override the
   * `formatUser` method instead).
   * @defaultValue the user's name-like field, id or string form, or "Anonymous"
   */
  formatUser?: (user: unknown) => JsonValue;
  /**
   * Renders the affected objects for the record's `affected` field.
   * @defaultValue labels of the objects joined with ", ", or null
   */
  formatAffected?: (affected: unknown) => JsonValue;
  /**
   * Makes inputs, results and progress payloads JSON-safe before they are stored; a place to
   * redact secrets.
   * @defaultValue dates to ISO strings, errors to messages, maps and sets to objects and arrays
   */
  formatPayload?: (value: unknown, key: 'input' | 'result' | 'progress') => JsonValue;
  /**
   * The clock used for every timestamp; a seam for deterministic tests.
   * @defaultValue `() => new Date()`
   */
  now?: () => Date;
}

/** {@link TaskManagerOptions} after defaults, checked once; each key means what the option says. */
export interface TaskManagerConfig {
  /** See {@link TaskManagerOptions.concurrency}. */
  concurrency: number;
  /** See {@link TaskManagerOptions.defaultTimeoutMs}. */
  defaultTimeoutMs: number | undefined;
  /** See {@link TaskManagerOptions.cancelGraceMs}. */
  cancelGraceMs: number;
  /** See {@link TaskManagerOptions.progressIntervalMs}. */
  progressIntervalMs: number;
  /** See {@link TaskManagerOptions.reconcileOnStart}. */
  reconcileOnStart: boolean;
  /** See {@link TaskManagerOptions.abandonedMessage}. */
  abandonedMessage: string;
  /** See {@link TaskManagerOptions.instanceId}. */
  instanceId: string;
  /** See {@link TaskManagerOptions.heartbeatIntervalMs}. */
  heartbeatIntervalMs: number;
  /** See {@link TaskManagerOptions.staleAfterMs}. */
  staleAfterMs: number;
  /** See {@link TaskManagerOptions.metricsCacheMs}. */
  metricsCacheMs: number;
  /** See {@link TaskManagerOptions.milestonesAfterMs}. */
  milestonesAfterMs: number;
  /** See {@link TaskManagerOptions.cleanupIntervalMs}. */
  cleanupIntervalMs: number;
  /** See {@link TaskManagerOptions.cleanup}. */
  cleanup: Required<CleanupOptions>;
  /** See {@link TaskManagerOptions.logger}. */
  logger: Logger;
  /** See {@link TaskManagerOptions.now}. */
  now: () => Date;
}

/** Message of records failed by start-up reconciliation, unless `abandonedMessage` says otherwise. */
export const ABANDONED_MESSAGE = 'Abandoned — app restarted';

const OPTION_KEYS: KeySet<TaskManagerOptions> = {
  store: true, runner: true, concurrency: true, defaultTimeoutMs: true, cancelGraceMs: true, progressIntervalMs: true,
  reconcileOnStart: true, abandonedMessage: true, instanceId: true, heartbeatIntervalMs: true, staleAfterMs: true, metricsCacheMs: true, milestonesAfterMs: true, cleanupIntervalMs: true, cleanup: true, logger: true,
  formatUser: true, formatAffected: true, formatPayload: true, now: true,
};
const CLEANUP_KEYS: KeySet<CleanupOptions> = { olderThanMs: true, deleteRecords: true };

/** Applies defaults and rejects bad values with a {@link ConfigurationError} naming the option. */
export function resolveTaskManagerOptions(options: TaskManagerOptions, extraKeys: Readonly<Record<string, true>> = {}): TaskManagerConfig {
  checkOptionKeys(options, { ...OPTION_KEYS, ...extraKeys }, 'TaskManager');
  if (options.runner !== undefined && options.concurrency !== undefined) {
    throw new ConfigurationError('concurrency sets up the default in-process runner; with your own runner, give the concurrency to the runner.');
  }
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ConfigurationError(`concurrency must be a whole number of at least 1; got ${String(concurrency)}.`);
  }
  const cleanup = checkOptionKeys(options.cleanup, CLEANUP_KEYS, 'cleanup') as CleanupOptions;
  const logger = options.logger ?? console;
  if (typeof logger.warn !== 'function' || typeof logger.error !== 'function') {
    throw new ConfigurationError('logger must have warn() and error() methods.');
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new ConfigurationError('now must be a function returning a Date.');
  }
  const abandonedMessage = options.abandonedMessage ?? ABANDONED_MESSAGE;
  if (typeof abandonedMessage !== 'string' || !abandonedMessage) {
    throw new ConfigurationError('abandonedMessage must be a non-empty string.');
  }
  const instanceId = options.instanceId ?? defaultInstanceId();
  if (typeof instanceId !== 'string' || !instanceId.trim() || instanceId.length > 255) {
    throw new ConfigurationError('instanceId must be a non-empty string of at most 255 characters.');
  }
  const heartbeatIntervalMs = checkMs('heartbeatIntervalMs', options.heartbeatIntervalMs ?? 5000, 10);
  const staleAfterMs = checkMs('staleAfterMs', options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS, 1);
  if (staleAfterMs < 2 * heartbeatIntervalMs) {
    throw new ConfigurationError(`staleAfterMs must be at least twice heartbeatIntervalMs (${heartbeatIntervalMs} ms); got ${staleAfterMs}.`);
  }
  return {
    concurrency,
    instanceId,
    heartbeatIntervalMs,
    staleAfterMs,
    metricsCacheMs: checkMs('metricsCacheMs', options.metricsCacheMs ?? 15_000),
    milestonesAfterMs: checkMs('milestonesAfterMs', options.milestonesAfterMs ?? 1_000),
    defaultTimeoutMs: options.defaultTimeoutMs === undefined ? undefined : checkMs('defaultTimeoutMs', options.defaultTimeoutMs, 1),
    cancelGraceMs: checkMs('cancelGraceMs', options.cancelGraceMs ?? 5000),
    progressIntervalMs: checkMs('progressIntervalMs', options.progressIntervalMs ?? 250),
    reconcileOnStart: checkBoolean('reconcileOnStart', options.reconcileOnStart ?? true),
    abandonedMessage,
    cleanupIntervalMs: checkMs('cleanupIntervalMs', options.cleanupIntervalMs ?? 0),
    cleanup: {
      olderThanMs: checkMs('cleanup.olderThanMs', cleanup.olderThanMs ?? 0),
      deleteRecords: checkBoolean('cleanup.deleteRecords', cleanup.deleteRecords ?? false),
    },
    logger,
    now: options.now ?? (() => new Date()),
  };
}

function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ConfigurationError(`${name} must be true or false; got ${String(value)}.`);
  return value;
}
