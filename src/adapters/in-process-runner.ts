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
  readonly concurrency: number;
  private readonly queue = new Map<string, TaskJob>();
  private execute: JobExecutor | null = null;
  private running = 0;
  private stopped = false;

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
    this.queue.set(job.id, job);
    this.drain();
  }

  remove(id: string): boolean {
    return this.queue.delete(id);
  }

  async stop(): Promise<string[]> {
    this.stopped = true;
    const dropped = [...this.queue.keys()];
    this.queue.clear();
    return dropped;
  }

  /** Number of jobs waiting for a free slot. */
  get queued(): number {
    return this.queue.size;
  }

  private drain(): void {
    const execute = this.execute;
    if (!execute) return;
    // A Map iterates in insertion order, so taking its first key keeps the queue FIFO.
    while (!this.stopped && this.running < this.concurrency && this.queue.size > 0) {
      const [id, job] = this.queue.entries().next().value as [string, TaskJob];
      this.queue.delete(id);
      this.running++;
      execute(job).catch(() => undefined).finally(() => {
        this.running--;
        this.drain();
      });
    }
  }
}
