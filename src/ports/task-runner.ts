import type { JsonValue } from '../core/types.js';

/** What a runner carries from `launch()` to the process that runs the task: JSON only. */
export interface TaskJob {
  /** The task's id, the same as its record's. */
  id: string;
  /** The task kind, as given to `define()`. */
  taskName: string;
  /** The input given to `launch()`. */
  input: JsonValue | undefined;
}

/** What the manager asks of the runner once a job's run is over, besides freeing its slot. */
export interface JobOutcome {
  /**
   * Run the job again (the same id, kind and input) after this many milliseconds: its attempt
   * failed and its kind allows another, or it cannot be told yet whether its last worker is
   * gone. The record already says so; the runner only keeps the job until then.
   */
  retryInMs: number;
}

/**
 * Runs one job to its end; given to the runner by the manager at `start()`. It resolves once the
 * job's slot may be given to the next job (with a {@link JobOutcome} when the job must run again),
 * and never rejects: whatever the handler does is the manager's to record. A job whose record is
 * unknown, or finished, resolves at once without running.
 */
export type JobExecutor = (job: TaskJob) => Promise<JobOutcome | undefined>;

/**
 * Decides when and where jobs run. The manager owns everything a job does once it runs
 * (events, records, timeouts); a runner owns only the queue and the concurrency. A job may be
 * executed by a different manager instance than the one that launched it (another process), as
 * long as both share the record store and define the job's kind.
 */
export interface TaskRunner {
  /**
   * True when every job enqueued here runs in this process, through the `execute` this runner was
   * started with. The launching manager then keeps the task's state in memory for it; otherwise
   * it lets go of the task once it is enqueued, and whichever manager runs it reads it back from
   * the store.
   * @defaultValue false
   */
  readonly inProcess?: boolean;
  /**
   * Carries a cancel request to whichever process runs the job, sooner than that process's next
   * heartbeat would find it in the record. Optional: without it, the heartbeat brings the news.
   */
  signalCancel?(id: string): Promise<void>;
  /**
   * Where this runner hands the cancel signals of other processes (see `signalCancel`); set by the
   * manager before `start()`. Optional, with `signalCancel`.
   */
  onCancelSignal?(listener: (id: string) => void): void;
  /** Optional: how many workers the engine knows alive, across processes (for the page's fleet strip). */
  workers?(): Promise<number>;
  /** Starts taking jobs; each is run by calling `execute`. Jobs enqueued before wait for it. */
  start(execute: JobExecutor): Promise<void>;
  /** Queues a job; resolves once the runner has taken it (a distributed runner: once it is durable). */
  enqueue(job: TaskJob): Promise<void>;
  /**
   * Removes a job that is not running (queued, or waiting to be run again); resolves true when it
   * was removed and will never run.
   */
  remove(id: string): Promise<boolean>;
  /**
   * Stops starting jobs. Resolves with the ids of queued jobs this runner dropped, waiting retries
   * included (they will never run here); running jobs are the manager's to wait for.
   */
  stop(): Promise<string[]>;
}
