import type { JsonValue } from '../core/types.js';
import { isTerminalStatus, type TaskStatus } from '../core/status.js';
import type { AttemptError, ProgressMilestone, TaskRecord } from '../core/record.js';
import type { ProgressPayload, TaskDefinition } from '../core/types.js';
import type { JobOutcome } from '../ports/task-runner.js';

/** Why a running handler's signal was aborted. */
export type AbortCause = 'cancel' | 'timeout' | 'stop' | 'lost';

/** A progress report waiting for its write slot. */
export interface PendingProgress {
  percent: number | null;
  payload: ProgressPayload | undefined;
  message: string | undefined;
}

/**
 * In-memory state of one task between `launch()` and `cleanup`. It is dropped at cleanup, so
 * finished tasks cost no memory; everything durable lives in the record store.
 */
export class ActiveTask {
  status: TaskStatus = 'PENDING';
  /** The store's write of the PENDING record while `launch()` waits for it. */
  creating: Promise<void> | null = null;
  /**
   * Whether the record names this manager its owner already (a launch onto an in-process runner
   * writes it so); otherwise the start claims it.
   */
  held = false;
  startedAt: Date | null = null;
  abortCause: AbortCause | null = null;
  lastProgressWrite = Number.NEGATIVE_INFINITY;
  lastPercent: number | null = null;
  pendingProgress: PendingProgress | null = null;
  progressTimer: NodeJS.Timeout | null = null;
  timeoutTimer: NodeJS.Timeout | null = null;
  /** Resolves the runner slot early when a handler ignores its aborted signal past the grace. */
  releaseSlot: (() => void) | null = null;
  graceTimer: NodeJS.Timeout | null = null;
  /** The attempt this object runs (or waits to run), from 1; each attempt gets its own object. */
  attempt = 1;
  /** The errors of the task's earlier attempts, as its record keeps them. */
  attemptErrors: AttemptError[] | null = null;
  /** The record's progress milestones, this attempt's appended as it passes each quarter. */
  milestones: ProgressMilestone[] | null = null;
  /** Who asked this process to cancel the task, as `formatUser` rendered them (for the `cancel` event). */
  cancelledBy: JsonValue | undefined = undefined;
  /** Set when this attempt failed and another follows: what the runner is told once the slot frees. */
  retry: Promise<JobOutcome> | null = null;

  constructor(
    readonly id: string,
    readonly taskName: string,
    readonly label: string,
    readonly definition: TaskDefinition,
    readonly user: unknown,
    readonly affected: unknown,
    readonly createdAt: Date,
    readonly holdsLocks: boolean,
  ) {}

  // Made on first use of `signal`: most handlers never read it, and a controller per task is a
  // measurable share of the write path.
  private controller: AbortController | null = null;
  private abortReason: unknown = undefined;

  /** The handler's signal. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortCause) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** Aborts the handler's signal, once, remembering why. */
  abort(cause: AbortCause, reason: DOMException): void {
    if (this.abortCause) return;
    this.abortCause = cause;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }

  /** How many attempts the task's kind allows. */
  get maxAttempts(): number {
    return this.definition.attempts ?? 1;
  }

  /** The same task, ready for its next attempt: PENDING, with nothing of this attempt's run. */
  nextAttempt(attemptErrors: AttemptError[]): ActiveTask {
    const next = new ActiveTask(this.id, this.taskName, this.label, this.definition, this.user, this.affected, this.createdAt, this.holdsLocks);
    next.held = this.held;
    next.attempt = this.attempt + 1;
    next.attemptErrors = attemptErrors;
    next.milestones = this.milestones;
    return next;
  }

  get finished(): boolean {
    return isTerminalStatus(this.status);
  }

  /** Stops every timer but the grace timer, which outlives the terminal state on purpose. */
  clearTimers(): void {
    if (this.progressTimer) clearTimeout(this.progressTimer);
    if (this.timeoutTimer) clearTimeout(this.timeoutTimer);
    this.progressTimer = null;
    this.timeoutTimer = null;
  }
}

/**
 * The in-memory state of a task known only from its record (launched by another process). Its
 * next attempt follows the last one the record counts.
 */
export function taskFromRecord(record: TaskRecord, kind: string, definition: TaskDefinition | undefined, now: Date): ActiveTask {
  const label = record.label ?? (typeof definition?.label === 'string' ? definition.label : kind);
  // Locks of a finished task count as free wherever they are checked, so such a task need not
  // know whether its launcher took any.
  const task = new ActiveTask(record.id, kind, label, definition ?? NO_DEFINITION, record.user, record.affected, record.createdAt ?? now, false);
  task.attempt = (record.attempt ?? (record.startedAt ? 1 : 0)) + 1;
  task.attemptErrors = record.attemptErrors;
  task.milestones = record.milestones;
  return task;
}

/** Stands in for the definition of a kind this process does not define; it is never run. */
const NO_DEFINITION: TaskDefinition = {
  run(): never {
    throw new Error('no handler');
  },
};
