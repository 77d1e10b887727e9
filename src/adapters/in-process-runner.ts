import { ConfigurationError } from '../manager/errors.js';
import type { JobExecutor, TaskJob, TaskRunner } from './task-runner.js';

/** Options of {@link InProcessRunner}. */
export interface InProcessRunnerOptions {
  /**
   * How many jobs run at once in this process.
   * @defaultValue 4
   */
  concurrency?: number;
}

/** Runs jobs in this process, first in first out, at most `concurrency` at a time. */
export class InProcessRunner implements TaskRunner {
  /** How many jobs run at once. */
  readonly concurrency: number;
  // An array with a moving head is the cheapest FIFO; removed jobs stay in it as holes, skipped
  // because they are no longer in `waiting`.
  private order: string[] = [];
  private head = 0;
  private readonly waiting = new Map<string, TaskJob>();
  private execute: JobExecutor | null = null;
  private running = 0;
  private stopped = false;
  private readonly onSettled = (): void => {
    this.running--;
    this.drain();
  };

  /** Throws a `ConfigurationError` for a concurrency that is not a whole number of at least 1. */
  constructor(options: InProcessRunnerOptions = {}) {
    const concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new ConfigurationError(`concurrency must be a whole number of at least 1; got ${String(concurrency)}.`);
    }
    this.concurrency = concurrency;
  }

  start(execute: JobExecutor): void {
    this.execute = execute;
    this.stopped = false;
    this.drain();
  }

  enqueue(job: TaskJob): void {
    this.waiting.set(job.id, job);
    this.order.push(job.id);
    this.drain();
  }

  remove(id: string): boolean {
    return this.waiting.delete(id);
  }

  async stop(): Promise<string[]> {
    this.stopped = true;
    const dropped = [...this.waiting.keys()];
    this.waiting.clear();
    this.order = [];
    this.head = 0;
    return dropped;
  }

  /** Number of jobs waiting for a free slot. */
  get queued(): number {
    return this.waiting.size;
  }

  private drain(): void {
    const execute = this.execute;
    if (!execute) return;
    while (!this.stopped && this.running < this.concurrency && this.head < this.order.length) {
      const id = this.order[this.head++];
      const job = this.waiting.get(id);
      if (!job) continue;
      this.waiting.delete(id);
      this.running++;
      const running = execute(job);
      if (running) running.then(this.onSettled, this.onSettled);
      else this.running--;
    }
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }
}
