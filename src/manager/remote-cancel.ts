import { TaskAlreadyFinishedError, TaskNotFoundError } from '../core/errors.js';
import type { RecordPatch, TaskRecord } from '../core/record.js';
import { isTerminalStatus } from '../core/status.js';
import type { CancelResult, JsonValue } from '../core/types.js';
import type { RecordStore } from '../ports/record-store.js';
import type { TaskRunner } from '../ports/task-runner.js';
import { ownerIsGone } from './instance-id.js';
import type { TaskManagerConfig } from './task-manager-options.js';

/**
 * Cancels a task this process does not hold. A task still queued on a distributed runner is taken
 * off the queue and ended here; one whose owner is gone (or silent past the stale window) is ended
 * here; one a live process holds gets a cancel request, which that process acknowledges within
 * one heartbeat by aborting the handler and recording CANCELLED. Every write is fenced, so a task
 * that finished meanwhile keeps its outcome.
 */
export async function cancelElsewhere(
  store: RecordStore, runner: TaskRunner, config: TaskManagerConfig, id: string, by: JsonValue,
): Promise<CancelResult> {
  // Flushing first makes a terminal state this process already decided visible to the checks.
  await store.flush();
  let record = unfinished(id, await store.get(id));
  const now = config.now();
  if (!store.tracksOwners) {
    // One process per database: nobody else can be running it.
    store.update(id, { ...ended(record, now, 'Cancelled'), cancelRequestedAt: now, cancelRequestedBy: by });
    return settle(store, id, now);
  }
  const self = config.instanceId;
  if (record.owner === null && record.status === 'PENDING') {
    await runner.remove(id);
    // A claim: it lands only if no worker took the task meanwhile.
    store.update(id, { ...ended(record, now, 'Cancelled before it started'), owner: self, cancelRequestedAt: now, cancelRequestedBy: by }, self);
    const result = await settle(store, id, now, false);
    if (result) return result;
    record = unfinished(id, await store.get(id));
  }
  const silentSince = now.getTime() - config.staleAfterMs;
  if (record.owner !== null && (ownerIsGone(record.owner, self) || ((record.heartbeatAt ?? record.createdAt)?.getTime() ?? 0) < silentSince)) {
    const patch = { ...ended(record, now, 'Cancelled — its worker had stopped'), cancelRequestedAt: now, cancelRequestedBy: by, cleanedUp: true };
    if (await store.takeOver(id, record.owner, record.heartbeatAt, patch)) return { id, status: 'CANCELLED' };
    // It beat again, or ended, meanwhile: it is looked at once more below.
    unfinished(id, await store.get(id));
  }
  // A live owner: ask it, without touching anything else of the record, then tell it at once
  // when the runner can (otherwise its next heartbeat finds the request).
  store.update(id, { cancelRequestedAt: now, cancelRequestedBy: by });
  const settled = await settle(store, id, now, false);
  if (settled) return settled;
  await runner.signalCancel?.(id).catch((error: unknown) => {
    config.logger.warn(`[stablehand] the cancel signal for task ${id} could not be sent; its owner will see the request at its next heartbeat`, error);
  });
  return { id, status: 'CANCELLING' };
}

/** The record, or the error that says why it cannot be cancelled. */
function unfinished(id: string, record: TaskRecord | null): TaskRecord {
  if (!record) throw new TaskNotFoundError(id);
  if (isTerminalStatus(record.status)) throw new TaskAlreadyFinishedError(id, record.status);
  return record;
}

/** The terminal CANCELLED change of a record. */
function ended(record: TaskRecord, now: Date, message: string): RecordPatch {
  const started = record.startedAt ?? record.createdAt;
  return {
    status: 'CANCELLED', message, completedAt: now, updatedAt: now,
    duration: started ? Math.max(0, now.getTime() - started.getTime()) / 1000 : null,
  };
}

/**
 * Writes what is queued and reads the record back: CANCELLED when the cancel landed (cleaned up
 * then), the finished error when another outcome won; otherwise `null`, or, when `final`, the
 * finished error as well (nothing else could have happened).
 */
async function settle(store: RecordStore, id: string, now: Date): Promise<CancelResult>;
async function settle(store: RecordStore, id: string, now: Date, final: false): Promise<CancelResult | null>;
async function settle(store: RecordStore, id: string, now: Date, final = true): Promise<CancelResult | null> {
  await store.flush();
  const after = await store.get(id);
  if (!after) throw new TaskNotFoundError(id);
  if (after.status === 'CANCELLED') {
    store.markCleanedUp(id, now, true);
    await store.flush();
    return { id, status: 'CANCELLED' };
  }
  if (isTerminalStatus(after.status)) throw new TaskAlreadyFinishedError(id, after.status);
  if (final) throw new TaskAlreadyFinishedError(id, after.status);
  return null;
}
