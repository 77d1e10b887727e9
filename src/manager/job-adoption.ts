import { errorMessage } from '../core/logger.js';
import type { TaskRecord } from '../core/record.js';
import { SETTLED } from '../core/settled.js';
import type { TaskStatus } from '../core/status.js';
import type { JsonValue, TaskDefinition } from '../core/types.js';
import type { RecordStore } from '../ports/record-store.js';
import type { JobOutcome, TaskJob } from '../ports/task-runner.js';
import type { ActiveTask } from './active-task.js';
import type { TaskManagerConfig } from './task-manager-options.js';

/** What becomes of a task still RUNNING under another owner when the engine gives its job here. */
export interface OrphanDecider {
  /** The record to run from (claimed here), null when the task ended, or milliseconds to look again after. */
  adoptRunning(record: TaskRecord): Promise<TaskRecord | number | null>;
}

/** What adoption needs of the executor that owns it. */
export interface AdoptionHost {
  readonly config: TaskManagerConfig;
  readonly owner: string | undefined;
  readonly recordStore: RecordStore;
  readonly active: Map<string, ActiveTask>;
  readonly orphans: OrphanDecider | null;
  definition(kind: string): TaskDefinition | undefined;
  adoptedTask(record: TaskRecord, kind: string, definition: TaskDefinition | undefined): ActiveTask;
  finish(task: ActiveTask, status: TaskStatus, fields: { error: string }): void;
  start(task: ActiveTask, input: JsonValue | undefined): Promise<JobOutcome | undefined>;
}

/**
 * Runs jobs this process did not launch (a distributed runner's), known only by their id: it
 * claims the task's record before anything runs, and decides from the record when the claim
 * misses (already run, ended, held by a live worker, or left by a dead one).
 */
export class JobAdoption {
  constructor(private readonly executor: AdoptionHost) {}

  /** Runs a job from its record; never rejects. */
  async adopt(job: TaskJob): Promise<JobOutcome | undefined> {
    try {
      return await this.claimAndRun(job);
    } catch (error) {
      // The store is away: the job is the engine's to hold until it can be claimed.
      const retryInMs = this.executor.config.heartbeatIntervalMs;
      this.executor.config.logger.error(`[stablehand] task ${job.id} could not be claimed (${errorMessage(error)}); it is offered again in ${retryInMs} ms`);
      return { retryInMs };
    }
  }

  private async claimAndRun(job: TaskJob): Promise<JobOutcome | undefined> {
    const { executor } = this;
    const owner = executor.owner;
    const store = executor.recordStore;
    // Claimed in one durable write before anything runs: from then on every process sees it
    // held here, and a job delivered twice runs once.
    const claimed = owner === undefined ? null : await store.claim(job.id, owner, executor.config.now());
    if (claimed) return this.run(claimed, job, (claimed.attempt ?? 0) + 1);
    let record = await store.get(job.id);
    if (executor.active.has(job.id)) return undefined;
    // Still RUNNING: its worker stopped without the sweep noticing yet (the engine gave the job
    // back first), or it still runs elsewhere and the engine was wrong to give it back.
    if (record?.status === 'RUNNING' && record.owner !== owner && executor.orphans) {
      const taken = await executor.orphans.adoptRunning(record);
      if (typeof taken === 'number') return { retryInMs: taken };
      record = taken;
    }
    // Unknown, or already started, cancelled or finished elsewhere: nothing to run.
    if (record?.status !== 'PENDING') return undefined;
    // Without owners (one process per database) a PENDING record is this process's to run; with
    // them, one still PENDING after a claim that missed is looked at again later.
    if (owner === undefined || record.owner === owner) return this.run(record, job);
    return { retryInMs: executor.config.heartbeatIntervalMs };
  }

  /** Runs a job from its record: claimed here already when `attempt` is given, to be started otherwise. */
  private run(record: TaskRecord, job: TaskJob, attempt?: number): Promise<JobOutcome | undefined> {
    const { executor } = this;
    if (executor.active.has(record.id)) return SETTLED;
    const kind = record.taskName ?? job.taskName;
    const definition = executor.definition(kind);
    const task = executor.adoptedTask(record, kind, definition);
    if (attempt !== undefined) {
      task.attempt = attempt;
      // Written RUNNING by the claim: the start writes nothing more.
      task.startedAt = record.startedAt;
    }
    executor.active.set(task.id, task);
    if (!definition) {
      executor.finish(task, 'FAILED', { error: `No handler for task kind "${kind}" is defined in the process that received it` });
      return SETTLED;
    }
    return executor.start(task, job.input);
  }
}
