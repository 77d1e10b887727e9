import type { RecordPatch, TaskRecord } from '../core/record.js';
import { attemptOf, withAttemptError } from '../core/retry.js';
import type { RecordStore } from '../ports/record-store.js';
import type { TaskRunner } from '../ports/task-runner.js';
import { ownerIsGone } from './instance-id.js';
import type { TaskExecutor } from './task-executor.js';
import type { TaskManagerConfig } from './task-manager-options.js';

/** What became of an orphan: retried, ended, or left alone (another process got there first). */
export type OrphanFate = 'retried' | 'ended' | 'untouched';

/**
 * Decides what becomes of a task whose worker stopped (found by the sweep, by the reconciliation
 * at start, or given back by the engine while its record still says RUNNING). The stopped run
 * counts as a failed attempt: with attempts left the task runs again at once (no backoff: the
 * work did not fail, its process did), otherwise it ends FAILED; a task someone asked to cancel
 * ends CANCELLED. Every change is a compare-and-set on the owner and heartbeat seen, so of several
 * processes deciding at once one wins, and an owner that beat again meanwhile keeps its task.
 */
export class Orphans {
  constructor(
    private readonly config: TaskManagerConfig,
    private readonly store: RecordStore,
    private readonly executor: TaskExecutor,
    private readonly runner: TaskRunner,
  ) {}

  /**
   * Takes back a task of a stopped owner with `reason` (why it counts as stopped). An in-process
   * runner reruns it here, when this process defines its kind; a distributed one leaves it
   * PENDING for the engine, which gives stalled jobs back to a worker.
   */
  async takeBack(record: TaskRecord, reason: string): Promise<OrphanFate> {
    const now = this.config.now();
    const plan = this.plan(record, reason, now);
    const inProcess = this.runner.inProcess === true;
    const definition = record.taskName === null ? undefined : this.executor.definition(record.taskName);
    if (plan.retry && inProcess && !definition) {
      plan.terminal.error = plan.terminal.message = `${reason}; no process defines "${record.taskName ?? '?'}" here to retry it`;
    }
    if (!plan.retry || (inProcess && !definition)) {
      if (!(await this.store.takeOver(record.id, record.owner ?? '', record.heartbeatAt, plan.terminal))) return 'untouched';
      this.config.logger.warn(`[stablehand] task ${record.id} of ${record.owner ?? 'nobody'} ended ${plan.terminal.status ?? ''}: ${reason}`);
      return 'ended';
    }
    const retry = plan.retry;
    if (inProcess) {
      retry.owner = this.config.instanceId;
      retry.heartbeatAt = now;
    }
    if (!(await this.store.takeOver(record.id, record.owner ?? '', record.heartbeatAt, retry))) return 'untouched';
    this.config.logger.warn(`[stablehand] task ${record.id} of ${record.owner ?? 'nobody'} will run again: ${reason}`);
    if (inProcess && definition && record.taskName !== null) {
      const task = this.executor.adoptedTask({ ...record, ...retry }, record.taskName, definition);
      this.executor.active.set(task.id, task);
      await this.runner.enqueue({ id: record.id, taskName: record.taskName, input: record.input ?? undefined });
    }
    return 'retried';
  }

  /**
   * For a job the engine gave back while its record is RUNNING under another owner: the record
   * to run it from (PENDING, claimed here) when that owner is gone; null when the task ended
   * instead; or, while the owner may still be alive, the milliseconds after which to look again.
   */
  async adoptRunning(record: TaskRecord): Promise<TaskRecord | number | null> {
    const now = this.config.now();
    const lastSign = (record.heartbeatAt ?? record.createdAt ?? now).getTime();
    const silentFor = now.getTime() - lastSign;
    const owner = record.owner;
    // Left RUNNING by a version before owners: the reconciliation at start deals with it.
    if (owner === null) return null;
    const gone = ownerIsGone(owner, this.config.instanceId);
    if (!gone && silentFor <= this.config.staleAfterMs) return this.config.staleAfterMs - silentFor + this.config.heartbeatIntervalMs;
    const reason = gone ? `Worker ${owner} stopped` : stoppedReason(owner, silentFor);
    const plan = this.plan(record, reason, now);
    const patch = plan.retry ? { ...plan.retry, owner: this.config.instanceId, heartbeatAt: now } : plan.terminal;
    if (await this.store.takeOver(record.id, owner, record.heartbeatAt, patch)) {
      this.config.logger.warn(`[stablehand] task ${record.id} of ${owner} ${plan.retry ? 'runs again here' : 'ended'}: ${reason}`);
      return plan.retry ? { ...record, ...patch } : null;
    }
    // Its owner beat again, or another process decided first: look again later if still RUNNING.
    const seen = await this.store.get(record.id);
    return seen?.status === 'RUNNING' ? this.config.heartbeatIntervalMs : seen;
  }

  /** The terminal change of an orphan, and its retry change when an attempt is left. */
  private plan(record: TaskRecord, reason: string, now: Date): { terminal: RecordPatch; retry: RecordPatch | null } {
    const started = record.startedAt ?? record.createdAt ?? now;
    const duration = Math.max(0, now.getTime() - started.getTime()) / 1000;
    // Ended and cleaned up in one write: nobody else will clean it up, and its locks go with it.
    const ended = { completedAt: now, updatedAt: now, duration, cleanedUp: true };
    if (record.cancelRequestedAt) {
      return { terminal: { ...ended, status: 'CANCELLED', message: `Cancelled — ${lowerFirst(reason)}` }, retry: null };
    }
    const definition = record.taskName === null ? undefined : this.executor.definition(record.taskName);
    // Without the attempt number in the record, a task cannot be known to have spent its attempts.
    const max = this.store.tracksAttempts ? record.maxAttempts ?? definition?.attempts ?? 1 : 1;
    const running = record.status === 'RUNNING';
    const made = record.attempt ?? (running ? 1 : 0);
    // The stopped run was an attempt; a PENDING orphan was waiting for one and made none.
    const attemptErrors = running ? withAttemptError(record.attemptErrors, made, reason, now) : record.attemptErrors;
    const error = max > 1 && made > 0 ? `${reason} (${attemptOf(made, max)})` : reason;
    const terminal: RecordPatch = { ...ended, status: 'FAILED', message: error, error, failedAt: now };
    if (max > 1) terminal.attemptErrors = attemptErrors;
    // A kind that runs once is not run again, queued or not: a restarted app shows its tasks
    // abandoned. A queued task of a kind that retries runs (its start may not have been written
    // before its process died, so it may have begun: it is not counted against it).
    if (made >= max || max === 1) return { terminal, retry: null };
    const retry: RecordPatch = {
      status: 'PENDING', owner: null, attemptErrors, retryAt: null, progress: null, updatedAt: now,
      message: running ? `${attemptOf(made, max)} failed: ${reason}` : reason,
    };
    return { terminal, retry };
  }
}

/** Why a silent owner's task is taken back. */
export function stoppedReason(owner: string, silentForMs: number): string {
  return `Worker ${owner} stopped responding (no heartbeat for ${Math.round(silentForMs / 1000)} s)`;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
