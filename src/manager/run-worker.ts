import { ConfigurationError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { checkMs, checkOptionKeys, type KeySet } from '../core/options.js';
import type { TaskManager } from './task-manager.js';

/** Options of {@link runWorker}. */
export interface RunWorkerOptions {
  /**
   * The signals that stop the worker gracefully.
   * @defaultValue `['SIGTERM', 'SIGINT']`
   */
  signals?: readonly NodeJS.Signals[];
  /**
   * How long running tasks may take to finish once a signal came (see `stop({ graceMs })`);
   * keep it under the platform's own kill timeout (Kubernetes: 30 s by default).
   * @defaultValue 25000
   */
  graceMs?: number;
  /**
   * Where the worker says it started and stopped.
   * @defaultValue `console`
   */
  logger?: WorkerLogger;
}

/** Where {@link runWorker} reports. */
export interface WorkerLogger {
  /** The signal that stops the worker, and how long it waits for running tasks. */
  warn: Logger['warn'];
  /** That the worker started (with its kinds) and stopped; optional. */
  info?(message: string): void;
}

/** A running worker. */
export interface WorkerHandle {
  /** Resolves once the worker has stopped (after a signal, or `stop()`). */
  readonly stopped: Promise<void>;
  /** Stops the worker as a signal would. */
  stop(): Promise<void>;
}

const OPTION_KEYS: KeySet<RunWorkerOptions> = { signals: true, graceMs: true, logger: true };

/**
 * Runs a worker process: starts the manager (with its runner, e.g. a `BullMqRunner` with a
 * concurrency above 0) and stops it gracefully on SIGTERM or SIGINT: no new tasks are taken, the
 * running ones get `graceMs` to finish, every record is written, then `stopped` resolves. Define
 * the task kinds this worker runs on the manager before calling it. The process exit is yours.
 *
 * @example
 * ```ts
 * const tasks = new ModelTrackingTaskManager({ dataSource, runner: new BullMqRunner({ connection, concurrency: 8 }) });
 * defineTasks(tasks);
 * const worker = await runWorker(tasks);
 * await worker.stopped;
 * await dataSource.destroy();
 * ```
 */
export async function runWorker(manager: TaskManager, options: RunWorkerOptions = {}): Promise<WorkerHandle> {
  checkOptionKeys(options, OPTION_KEYS, 'runWorker');
  const given: unknown = options.signals ?? ['SIGTERM', 'SIGINT'];
  if (!Array.isArray(given) || given.some((name) => typeof name !== 'string')) {
    throw new ConfigurationError('signals must be an array of signal names.');
  }
  const signals = given as readonly NodeJS.Signals[];
  const graceMs = checkMs('graceMs', options.graceMs ?? 25_000);
  const logger = options.logger ?? console;
  let stopping: Promise<void> | null = null;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => { resolveStopped = resolve; });
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      for (const signal of signals) process.off(signal, onSignal);
      await manager.stop({ graceMs });
      logger.info?.(`[stablehand] worker ${manager.instanceId} stopped`);
      resolveStopped();
    })();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.warn(`[stablehand] worker ${manager.instanceId} got ${signal}: finishing its running tasks (up to ${graceMs} ms)`);
    void stop();
  };
  for (const signal of signals) process.on(signal, onSignal);
  try {
    await manager.start();
  } catch (error) {
    for (const signal of signals) process.off(signal, onSignal);
    throw error;
  }
  logger.info?.(`[stablehand] worker ${manager.instanceId} started; kinds: ${manager.kinds.join(', ') || '(none)'}`);
  return { stopped, stop };
}
