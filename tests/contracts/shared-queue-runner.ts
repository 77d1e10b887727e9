import type { JobExecutor, JobOutcome, TaskJob, TaskRunner } from '../../src/index.js';

/**
 * A stand-in for a distributed queue (what BullMQ is to stablehand): jobs live in a broker that
 * several runners share, as if in several processes, and reach whichever runner takes them first,
 * always on a later tick than the enqueue. Used to hold the engine to what a distributed runner
 * will do: deliver a job to a manager that did not launch it.
 */
export class SharedQueueBroker {
  readonly queue: TaskJob[] = [];
  /** Jobs waiting to run again, with their timers. */
  readonly waiting = new Map<string, NodeJS.Timeout>();
  private readonly runners = new Set<SharedQueueRunner>();

  /**
   * A runner attached to this broker, taking at most `concurrency` jobs at a time; with
   * `concurrency: 0` it only enqueues (a web process that runs nothing itself).
   */
  runner(concurrency = 2): SharedQueueRunner {
    return new SharedQueueRunner(this, concurrency);
  }

  /** @internal */
  attach(runner: SharedQueueRunner): void {
    this.runners.add(runner);
    this.wake();
  }

  /** @internal */
  detach(runner: SharedQueueRunner): void {
    this.runners.delete(runner);
  }

  /** @internal */
  push(job: TaskJob): void {
    this.queue.push(job);
    this.wake();
  }

  /** Offers queued jobs to attached runners on a later tick, taking turns between them. */
  wake(): void {
    setTimeout(() => {
      for (let progress = true; progress && this.queue.length > 0;) {
        progress = false;
        for (const runner of this.runners) {
          const job = this.queue[0] as TaskJob | undefined;
          if (job && runner.offer(job)) {
            this.queue.shift();
            progress = true;
          }
        }
      }
    }, 1);
  }
}

/** One process's connection to a {@link SharedQueueBroker}. */
export class SharedQueueRunner implements TaskRunner {
  /** Ids of the jobs this runner executed, in order. */
  readonly executed: string[] = [];
  private execute: JobExecutor | null = null;
  private running = 0;

  constructor(private readonly broker: SharedQueueBroker, readonly concurrency: number) {}

  start(execute: JobExecutor): Promise<void> {
    this.execute = execute;
    this.broker.attach(this);
    return Promise.resolve();
  }

  enqueue(job: TaskJob): Promise<void> {
    // What crosses a process boundary is JSON.
    this.broker.push(JSON.parse(JSON.stringify(job)) as TaskJob);
    return Promise.resolve();
  }

  remove(id: string): Promise<boolean> {
    const timer = this.broker.waiting.get(id);
    if (timer) {
      clearTimeout(timer);
      this.broker.waiting.delete(id);
      return Promise.resolve(true);
    }
    const index = this.broker.queue.findIndex((job) => job.id === id);
    if (index >= 0) this.broker.queue.splice(index, 1);
    return Promise.resolve(index >= 0);
  }

  stop(): Promise<string[]> {
    this.broker.detach(this);
    this.execute = null;
    // Queued jobs stay in the broker for other runners: none is dropped.
    return Promise.resolve([]);
  }

  /** @internal Takes a job when this runner has a free slot. */
  offer(job: TaskJob): boolean {
    const execute = this.execute;
    if (!execute || this.running >= this.concurrency) return false;
    this.running++;
    this.executed.push(job.id);
    void execute(job).then((outcome: JobOutcome | undefined) => {
      if (outcome) this.again(job, outcome.retryInMs);
    }).finally(() => {
      this.running--;
      this.broker.wake();
    });
    return true;
  }

  private again(job: TaskJob, delay: number): void {
    this.broker.waiting.set(job.id, setTimeout(() => {
      this.broker.waiting.delete(job.id);
      this.broker.push(job);
    }, delay));
  }
}
