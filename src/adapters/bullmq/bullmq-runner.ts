import {
  createPostgresBackend, DelayedError, Queue, QueueEvents, QueueEventsProducer, withBackend, Worker,
  type ConnectionOptions, type Job, type PostgresConnectionOptions,
} from 'bullmq';
import { ConfigurationError } from '../../core/errors.js';
import { errorMessage, type Logger } from '../../core/logger.js';
import { checkOptionKeys, type KeySet } from '../../core/options.js';
import type { JsonValue } from '../../core/types.js';
import type { JobExecutor, TaskJob, TaskRunner } from '../../ports/task-runner.js';

/** Options of {@link BullMqRunner}. */
export interface BullMqRunnerOptions {
  /**
   * Where the queue lives. On Redis: ioredis options (`{ host, port }`, `{ url }`...) or an
   * ioredis instance. On PostgreSQL (`backend: 'postgres'`): a connection string, a `pg.Pool`, or
   * a pool config with BullMQ's `schema` and `migrate` keys.
   */
  connection: ConnectionOptions | PostgresConnectionOptions;
  /**
   * BullMQ's storage: `'redis'`, or `'postgres'` for its PostgreSQL backend (needs the `pg`
   * package; BullMQ creates its schema when the connection says `migrate: true`).
   * @defaultValue `'redis'`
   */
  backend?: 'redis' | 'postgres';
  /**
   * The BullMQ queue the tasks go through; every process of one app uses the same.
   * @defaultValue `'stablehand'`
   */
  queueName?: string;
  /**
   * BullMQ's key prefix in Redis (the PostgreSQL backend namespaces by schema instead).
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
   * How long a worker's lock on a running job lasts without renewal: a worker that stopped
   * (killed, frozen) has its jobs given back to another this long after its last renewal.
   * @defaultValue 30000
   */
  lockDurationMs?: number;
  /**
   * How often workers look for jobs whose lock expired, to give them back to the queue.
   * @defaultValue 30000
   */
  stalledIntervalMs?: number;
  /**
   * How many times BullMQ gives a stalled job back before it fails it on its own. The task's
   * record decides whether a given-back job runs again (its kind's `attempts`), so this only
   * needs to stay above every kind's attempts.
   * @defaultValue 1000
   */
  maxStalledCount?: number;
  /**
   * Receives connection errors (the first of an outage, then every 20th), which BullMQ
   * would otherwise print itself.
   * @defaultValue `console`
   */
  logger?: Logger;
}

// The custom event that carries cancel requests to the workers. It goes on an event stream of its
// own (the queue's name plus SIGNALS_SUFFIX, a queue no job is ever added to): on the queue's own
// stream every worker would read every job's events to find the rare cancel among them.
const CANCEL_EVENT = 'stablehand:cancel';
const SIGNALS_SUFFIX = '-stablehand-signals';

const OPTION_KEYS: KeySet<BullMqRunnerOptions> = {
  connection: true, backend: true, queueName: true, prefix: true, concurrency: true, workerName: true, enqueueTimeoutMs: true,
  lockDurationMs: true, stalledIntervalMs: true, maxStalledCount: true, logger: true,
};

const REDIS_CLASSES = { Queue, Worker, QueueEvents, QueueEventsProducer };

/** What a job carries in Redis: the task's input (its id is the BullMQ job id, its kind the job name). */
export interface BullMqJobData {
  /** The input given to `launch()`, or `null`. */
  input: JsonValue | null;
}

/**
 * Runs tasks through a BullMQ queue (on Redis, or on BullMQ's PostgreSQL backend): `launch()`
 * adds a job whose id is the task id, and every process with a worker (`concurrency` above 0)
 * takes jobs from it and runs them through its manager, which claims the task's record first. A
 * process can launch, run, or both. Between attempts of a task that retries, its job waits in
 * BullMQ's delayed set; the record counts the attempts.
 *
 * @example
 * ```ts
 * const runner = new BullMqRunner({ connection: { url: process.env.REDIS_URL }, concurrency: 8 });
 * const tasks = new ModelTrackingTaskManager({ dataSource, runner });
 * ```
 */
export class BullMqRunner implements TaskRunner {
  private readonly options: Required<Omit<BullMqRunnerOptions, 'workerName' | 'backend'>> & { workerName: string | undefined };
  // BullMQ's classes bound to the chosen backend. Typed as the Redis ones: the PostgreSQL
  // backend's have the same API with other type parameters.
  private readonly classes: typeof REDIS_CLASSES;
  // Where the queue lives, as error messages name it.
  private readonly store: 'Redis' | 'PostgreSQL';
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
    const backend: unknown = options.backend ?? 'redis';
    if (backend !== 'redis' && backend !== 'postgres') throw new ConfigurationError(`backend must be 'redis' or 'postgres'; got ${String(backend)}.`);
    const given: unknown = options.connection;
    if (backend === 'redis' && (given === null || typeof given !== 'object')) {
      throw new ConfigurationError('BullMqRunner needs a connection: ioredis options or an ioredis instance.');
    }
    if (backend === 'postgres' && (given === null || (typeof given !== 'object' && (typeof given !== 'string' || !given)))) {
      throw new ConfigurationError('BullMqRunner needs a connection: a PostgreSQL connection string, pool config or pg.Pool.');
    }
    this.store = backend === 'postgres' ? 'PostgreSQL' : 'Redis';
    this.classes = backend === 'postgres' ? withBackend(createPostgresBackend) as unknown as typeof REDIS_CLASSES : REDIS_CLASSES;
    const concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 0) {
      throw new ConfigurationError(`concurrency must be a whole number of at least 0; got ${String(concurrency)}.`);
    }
    for (const key of ['queueName', 'prefix', 'workerName'] as const) {
      const value: unknown = options[key];
      if (value !== undefined && (typeof value !== 'string' || !value)) throw new ConfigurationError(`${key} must be a non-empty string.`);
    }
    const maxStalledCount = options.maxStalledCount ?? 1_000;
    if (!Number.isInteger(maxStalledCount) || maxStalledCount < 0) {
      throw new ConfigurationError(`maxStalledCount must be a whole number of at least 0; got ${String(maxStalledCount)}.`);
    }
    this.options = {
      connection: options.connection,
      queueName: options.queueName ?? 'stablehand',
      prefix: options.prefix ?? 'bull',
      concurrency,
      workerName: options.workerName,
      enqueueTimeoutMs: milliseconds(options.enqueueTimeoutMs, 5_000, 'enqueueTimeoutMs'),
      lockDurationMs: milliseconds(options.lockDurationMs, 30_000, 'lockDurationMs'),
      stalledIntervalMs: milliseconds(options.stalledIntervalMs, 30_000, 'stalledIntervalMs'),
      maxStalledCount,
      logger: options.logger ?? console,
    };
  }

  // The connection as BullMQ's Redis-typed classes take it (see `classes`).
  private get connection(): ConnectionOptions {
    return this.options.connection as ConnectionOptions;
  }

  /** The BullMQ queue, for the host's own monitoring (bull-board, metrics). */
  get queue(): Queue<BullMqJobData> {
    if (!this.queueInstance) {
      this.queueInstance = new this.classes.Queue<BullMqJobData>(this.options.queueName, { connection: this.connection, prefix: this.options.prefix });
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
        reject(new Error(`${this.store} did not answer within ${this.options.enqueueTimeoutMs} ms to ${what}`));
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
      this.signals = new this.classes.QueueEventsProducer(this.options.queueName + SIGNALS_SUFFIX, { connection: this.connection, prefix: this.options.prefix });
      this.signals.on('error', this.onError);
    }
    await this.signals.publishEvent({ eventName: CANCEL_EVENT, id });
  }

  async start(execute: JobExecutor): Promise<void> {
    if (this.options.concurrency === 0 || this.worker) return;
    const listener = this.cancelListener;
    if (listener) {
      this.events = new this.classes.QueueEvents(this.options.queueName + SIGNALS_SUFFIX, { connection: this.connection, prefix: this.options.prefix });
      this.events.on('error', this.onError);
      this.events.on(CANCEL_EVENT as 'error', (args: unknown) => {
        const id = (args as { id?: unknown }).id;
        if (typeof id === 'string') listener(id);
      });
      await this.events.waitUntilReady();
    }
    const processor = async (job: Job<BullMqJobData>, token?: string): Promise<void> => {
      if (job.id === undefined) return;
      const outcome = await execute({ id: job.id, taskName: job.name, input: job.data.input ?? undefined } satisfies TaskJob);
      if (!outcome) return;
      // BullMQ's way to run a job again later without counting a failure: the record counts.
      await job.moveToDelayed(Date.now() + outcome.retryInMs, token);
      throw new DelayedError();
    };
    this.worker = new this.classes.Worker<BullMqJobData>(this.options.queueName, processor, {
      connection: this.connection,
      prefix: this.options.prefix,
      concurrency: this.options.concurrency,
      lockDuration: this.options.lockDurationMs,
      stalledInterval: this.options.stalledIntervalMs,
      maxStalledCount: this.options.maxStalledCount,
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

function milliseconds(value: number | undefined, fallback: number, name: string): number {
  const ms = value ?? fallback;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 1) {
    throw new ConfigurationError(`${name} must be a number of milliseconds of at least 1; got ${String(value)}.`);
  }
  return ms;
}
