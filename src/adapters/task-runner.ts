import type { JsonValue } from '../manager/types.js';

/** What a runner carries from `launch()` to the process that runs the task: JSON only. */
export interface TaskJob {
  id: string;
  taskName: string;
  input: JsonValue | undefined;
}

/**
 * Runs one job to its end; given to the runner by the manager at `start()`. Returns a promise
 * while the job still runs, and nothing when it finished synchronously (a handler that returned a
 * plain value), which spares a promise per such job.
 */
export type JobExecutor = (job: TaskJob) => Promise<void> | void;

/**
 * Decides when and where jobs run. The manager owns everything a job does once it runs
 * (events, records, timeouts); a runner owns only the queue and the concurrency. The in-process
 * runner is the default; a distributed runner would hand jobs to another machine.
 */
export interface TaskRunner {
  /** Starts taking jobs; each is run by calling `execute`. */
  start(execute: JobExecutor): void | Promise<void>;
  /** Queues a job. */
  enqueue(job: TaskJob): void | Promise<void>;
  /** Removes a job that has not started; true when it was removed. */
  remove(id: string): boolean | Promise<boolean>;
  /**
   * Stops starting jobs. Resolves with the ids of queued jobs this runner dropped (they will
   * never run here); running jobs are the manager's to wait for.
   */
  stop(): Promise<string[]>;
}
