import { Queue, QueueEvents, QueueEventsProducer, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { ConfigurationError } from '../../core/errors.js';
import { errorMessage, type Logger } from '../../core/logger.js';
import { checkOptionKeys, type KeySet } from '../../core/options.js';
import type { JsonValue } from '../../core/types.js';
import type { JobExecutor, TaskJob, TaskRunner } from '../../ports/task-runner.js';

/** Options of {@link BullMqRunner}. */
export interface BullMqRunnerOptions {
  /** Where Redis is: ioredis options (`{ host, port }`, `{ url }`...) or an ioredis instance. */
  connection: ConnectionOptions;
  /**
   * The BullMQ queue the tasks go through; every process of one app uses the same.
   * @defaultValue `'stablehand'`
   */
  queueName?: string;
  /**
   * BullMQ's key prefix in Redis.
   * @defaultValue `'bull'`
   */
  prefix?: string;
  /**
   * Jobs this process runs at once. 0 makes it a producer only (a web process that launches
   * tasks and leaves them to worker processes).
   * @defaultValue 4
   */
  concurrency?: number;
  /**
   * This worker's name in BullMQ, stored on the jobs it runs (monitoring tools show it).
   * @defaultValue none
   */
  workerName?: string;
  /**
   * How long `launch()` waits for Redis to take a job before it fails with a
   * `QueueUnavailableError` (the task is then recorded FAILED and never runs).
   * @defaultValue 5000
   */
  enqueueTimeoutMs?: number;
  /**
   * Receives Redis connection errors (the first of an outage, then every 20th), which BullMQ
   * would otherwise print itself.
   * @defaultValue `console`
   */
  logger?: Logger;
}

// The custom event on the queue's event stream that carries cancel requests to the workers.
const CANCEL_EVENT = 'stablehand:cancel';

const OPTION_KEYS: KeySet<BullMqRunnerOptions> = {
  connection: true, queueName: true, prefix: true, concurrency: true, workerName: true, enqueueTimeoutMs: true, logger: true,
};

/** What a job carries in Redis: the task's input (its id is the BullMQ job id, its kind the job name). */
export interface BullMqJobData {
  /** The input given to `launch()`, or `null`. */
  input: JsonValue | null;
}

/**
 * Runs tasks through a BullMQ queue on Redis: `launch()` adds a job whose id is the task id, and
 * every process with a worker (`concurrency` above 0) takes jobs from it and runs them through
 * its manager, which claims the task's record first. A process can launch, run, or both.
 *
 * @example
 * ```ts
 * const runner = new BullMqRunner({ connection: { url: process.env.REDIS_URL }, concurrency: 8 });
 * const tasks = new ModelTrackingTaskManager({ dataSource, runner });
 * ```
 */
export class BullMqRunner implements TaskRunner {
  private readonly options: Required<Omit<BullMqRunnerOptions, 'workerName'>> & { workerName: string | undefined };
  private connectionErrors = 0;
  private readonly onError = (error: unknown): void => {
    if (this.connectionErrors++ % 20 === 0) {
      this.options.logger.error(`[stablehand] BullMQ queue "${this.options.queueName}": ${errorMessage(error)} (${this.connectionErrors} error(s) so far)`);
    }
  };
  private queueInstance: Queue<BullMqJobData> | null = null;
  private worker: Worker<BullMqJobData> | null = null;
  private signals: QueueEventsProducer | null = null;
  private events: QueueEvents | null = null;
  private cancelListener: ((id: string) => void) | null = null;
  private closing: Promise<void> | null = null;

  /** Checks the options; connects at the first enqueue or at `start()`. */
  constructor(options: BullMqRunnerOptions) {
    checkOptionKeys(options, OPTION_KEYS, 'BullMqRunner');
    const given: unknown = options.connection;
    if (given === null || typeof given !== 'object') {
      throw new ConfigurationError('BullMqRunner needs a connection: ioredis options or an ioredis instance.');
    }
    const concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 0) {
      throw new ConfigurationError(`concurrency must be a whole number of at least 0; got ${String(concurrency)}.`);
    }
    for (const key of ['queueName', 'prefix', 'workerName'] as const) {
      const value: unknown = options[key];
      if (value !== undefined && (typeof value !== 'string' || !value)) throw new ConfigurationError(`${key} must be a non-empty string.`);
    }
    const enqueueTimeoutMs = options.enqueueTimeoutMs ?? 5_000;
    if (!Number.isFinite(enqueueTimeoutMs) || enqueueTimeoutMs < 1) {
      throw new ConfigurationError(`enqueueTimeoutMs must be a number of milliseconds of at least 1; got ${String(enqueueTimeoutMs)}.`);
    }
    this.options = {
      connection: options.connection,
      queueName: options.queueName ?? 'stablehand',
      prefix: options.prefix ?? 'bull',
      concurrency,
      workerName: options.workerName,
      enqueueTimeoutMs,
      logger: options.logger ?? console,
    };
  }

  /** The BullMQ queue, for the host's own monitoring (bull-board, metrics). */
  get queue(): Queue<BullMqJobData> {
    if (!this.queueInstance) {
      this.queueInstance = new Queue<BullMqJobData>(this.options.queueName, { connection: this.options.connection, prefix: this.options.prefix });
      this.queueInstance.on('error', this.onError);
    }
    return this.queueInstance;
  }

  /**
   * Workers attached to the queue, across processes, as Redis knows them. Rejects when Redis does
   * not answer within `enqueueTimeoutMs`: the page asks on every load and must not hang.
   */
  async workers(): Promise<number> {
    return this.withinTimeout(this.queue.getWorkersCount(), 'count the workers');
  }

  /** `promise`, or a rejection once `enqueueTimeoutMs` passed (ioredis queues commands while Redis is away). */
  private async withinTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`Redis did not answer within ${this.options.enqueueTimeoutMs} ms to ${what}`));
      }, this.options.enqueueTimeoutMs);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  onCancelSignal(listener: (id: string) => void): void {
    this.cancelListener = listener;
  }

  async signalCancel(id: string): Promise<void> {
    if (!this.signals) {
      this.signals = new QueueEventsProducer(this.options.queueName, { connection: this.options.connection, prefix: this.options.prefix });
      this.signals.on('error', this.onError);
    }
    await this.signals.publishEvent({ eventName: CANCEL_EVENT, id });
  }

  async start(execute: JobExecutor): Promise<void> {
    if (this.options.concurrency === 0 || this.worker) return;
    const listener = this.cancelListener;
    if (listener) {
      this.events = new QueueEvents(this.options.queueName, { connection: this.options.connection, prefix: this.options.prefix });
      this.events.on('error', this.onError);
      this.events.on(CANCEL_EVENT as 'error', (args: unknown) => {
        const id = (args as { id?: unknown }).id;
        if (typeof id === 'string') listener(id);
      });
      await this.events.waitUntilReady();
    }
    const processor = async (job: Job<BullMqJobData>): Promise<void> => {
      if (job.id === undefined) return;
      await execute({ id: job.id, taskName: job.name, input: job.data.input ?? undefined } satisfies TaskJob);
    };
    this.worker = new Worker<BullMqJobData>(this.options.queueName, processor, {
      connection: this.options.connection,
      prefix: this.options.prefix,
      concurrency: this.options.concurrency,
      ...(this.options.workerName ? { name: this.options.workerName } : {}),
    });
    this.worker.on('error', this.onError);
    await this.worker.waitUntilReady();
  }

  async enqueue(job: TaskJob): Promise<void> {
    // The task id is the job id: a job added twice (a retried launch) is one job. A job that
    // Redis takes after the timeout finds its record FAILED and never runs.
    const added = this.queue.add(job.taskName, { input: job.input ?? null }, { jobId: job.id, removeOnComplete: true, removeOnFail: 1000 });
    await this.withinTimeout(added, 'take the job');
  }

  async remove(id: string): Promise<boolean> {
    const job = await this.queue.getJob(id);
    if (!job) return false;
    const state = await job.getState();
    if (state !== 'waiting' && state !== 'delayed' && state !== 'prioritized') return false;
    try {
      await job.remove();
      return true;
    } catch {
      // Taken by a worker between the two calls.
      return false;
    }
  }

  /**
   * Stops taking jobs at once; the jobs running here are the manager's to finish. Queued jobs stay
   * in Redis for the other workers (none is dropped). The connections close once the running jobs
   * have settled; {@link BullMqRunner.closed} resolves then.
   */
  async stop(): Promise<string[]> {
    const worker = this.worker;
    if (worker) await worker.pause(true);
    this.closing ??= (async () => {
      await worker?.close();
      await this.events?.close();
      await this.signals?.close();
      await this.queueInstance?.close();
    })();
    return [];
  }

  /** Resolves once `stop()` has closed every connection. */
  closed(): Promise<void> {
    return this.closing ?? Promise.resolve();
  }
}
