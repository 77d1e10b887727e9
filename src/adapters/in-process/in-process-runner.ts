import { ConfigurationError } from '../../core/errors.js';
import { checkOptionKeys, type KeySet } from '../../core/options.js';
import { SETTLED } from '../../core/settled.js';
import type { JobExecutor, JobOutcome, TaskJob, TaskRunner } from '../../ports/task-runner.js';

/** Options of {@link InProcessRunner}. */
export interface InProcessRunnerOptions {
  /**
   * How many jobs run at once in this process.
   * @defaultValue 4
   */
  concurrency?: number;
}

const OPTION_KEYS: KeySet<InProcessRunnerOptions> = { concurrency: true };

/**
 * Runs jobs in this process, first in first out, at most `concurrency` at a time. A job to run
 * again waits on a timer, then joins the back of the queue.
 */
export class InProcessRunner implements TaskRunner {
  /** How many jobs run at once. */
  readonly concurrency: number;
  /** Jobs run in this process: see {@link TaskRunner.inProcess}. */
  readonly inProcess = true;
  // An array with a moving head is the cheapest FIFO. Removal is rare (a cancel before the job
  // starts), so removed ids are only remembered and skipped when their turn comes.
  private queue: TaskJob[] = [];
  private head = 0;
  private readonly removed = new Set<string>();
  // Jobs waiting to run again, by id.
  private readonly waiting = new Map<string, NodeJS.Timeout>();
  private execute: JobExecutor | null = null;
  private running = 0;
  private stopped = false;
  private readonly onSettled = (): void => {
    this.running--;
    this.drain();
  };

  /** Throws a `ConfigurationError` for a concurrency that is not a whole number of at least 1. */
  constructor(options: InProcessRunnerOptions = {}) {
    checkOptionKeys(options, OPTION_KEYS, 'InProcessRunner');
    const concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new ConfigurationError(`concurrency must be a whole number of at least 1; got ${String(concurrency)}.`);
    }
    this.concurrency = concurrency;
  }

  start(execute: JobExecutor): Promise<void> {
    this.execute = execute;
    this.stopped = false;
    this.drain();
    return Promise.resolve();
  }

  enqueue(job: TaskJob): Promise<void> {
    this.queue.push(job);
    this.drain();
    // Taking a job into memory cannot fail or wait.
    return SETTLED;
  }

  remove(id: string): Promise<boolean> {
    const waiting = this.waiting.get(id);
    if (waiting) {
      clearTimeout(waiting);
      this.waiting.delete(id);
      return Promise.resolve(true);
    }
    for (let i = this.head; i < this.queue.length; i++) {
      if (this.queue[i].id === id && !this.removed.has(id)) {
        this.removed.add(id);
        return Promise.resolve(true);
      }
    }
    return Promise.resolve(false);
  }

  stop(): Promise<string[]> {
    this.stopped = true;
    const dropped = this.queue.slice(this.head).map((job) => job.id).filter((id) => !this.removed.has(id));
    for (const [id, timer] of this.waiting) {
      clearTimeout(timer);
      dropped.push(id);
    }
    this.waiting.clear();
    this.queue = [];
    this.head = 0;
    this.removed.clear();
    return Promise.resolve(dropped);
  }

  private drain(): void {
    const execute = this.execute;
    if (!execute) return;
    while (!this.stopped && this.running < this.concurrency && this.head < this.queue.length) {
      const job = this.queue[this.head++];
      if (this.removed.size > 0 && this.removed.delete(job.id)) continue;
      this.running++;
      const running = execute(job);
      // A job that finished synchronously frees its slot at once (see SETTLED).
      if (running === SETTLED) this.running--;
      else running.then((outcome) => this.settled(job, outcome), this.onSettled);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private settled(job: TaskJob, outcome: JobOutcome | undefined): void {
    if (outcome && !this.stopped) {
      const timer = setTimeout(() => {
        this.waiting.delete(job.id);
        void this.enqueue(job);
      }, outcome.retryInMs);
      this.waiting.set(job.id, timer);
    }
    this.onSettled();
  }
}
