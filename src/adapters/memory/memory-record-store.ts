import { TaskConflictError } from '../../core/errors.js';
import type { CountQuery, ListQuery, TaskPage } from '../../core/list-query.js';
import { nearestRank, type MetricsQuery, type MetricsRows } from '../../core/metrics.js';
import type { JsonValue } from '../../core/types.js';
import type { RecordPatch, TaskRecord } from '../../core/record.js';
import { isTerminalStatus, type TaskStatus } from '../../core/status.js';
import { FleetTally, type FleetSnapshot } from '../../core/fleet.js';
import { changeMayLand } from '../../core/write-fence.js';
import type { HeartbeatReport, RecordStore, StoreCleanupResult } from '../../ports/record-store.js';

/**
 * Keeps records in this process's memory: for tests, and for hosts without a database. Records
 * are lost when the process exits, so start-up reconciliation has nothing to do.
 */
export class MemoryRecordStore implements RecordStore {
  // Ids are time-ordered and made in this process, so insertion order is creation order.
  private readonly records = new Map<string, TaskRecord>();
  private readonly locks = new Map<string, string>();
  private readonly locksByTask = new Map<string, string[]>();
  private readonly keys = new Map<string, ReadonlySet<string>>();
  /** Owners and heartbeats are kept like any other field. */
  readonly tracksOwners = true;
  readonly tracksAttempts = true;
  readonly indexesKeys = true;

  // Nothing here waits: the RecordStore port's promises are returned already settled.

  open(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  create(record: TaskRecord, lockKeys: readonly string[] = [], indexKeys: readonly string[] = []): Promise<void> {
    const held = lockKeys.filter((key) => this.isHeld(key));
    const holder = held.length > 0 ? this.locks.get(held[0]) : undefined;
    if (holder !== undefined) return Promise.reject(new TaskConflictError(held, holder));
    this.records.set(record.id, { ...record });
    if (indexKeys.length > 0) this.keys.set(record.id, new Set(indexKeys));
    if (lockKeys.length > 0) {
      for (const key of lockKeys) this.locks.set(key, record.id);
      this.locksByTask.set(record.id, [...lockKeys]);
    }
    return Promise.resolve();
  }

  update(id: string, patch: RecordPatch, owner?: string): void {
    const record = this.records.get(id);
    if (!record || !changeMayLand(record, patch, owner)) return;
    Object.assign(record, patch);
    // Like the bundled entity's numeric column, keep the percentage of a progress payload.
    if (record.progress !== null && typeof record.progress === 'object') {
      const percent = (record.progress as { percent?: unknown }).percent;
      record.progress = typeof percent === 'number' ? percent : null;
    }
  }

  claim(id: string, owner: string, at: Date): Promise<TaskRecord | null> {
    const record = this.records.get(id);
    if (record?.status !== 'PENDING' || (record.owner !== null && record.owner !== owner)) return Promise.resolve(null);
    Object.assign(record, { status: 'RUNNING', owner, startedAt: at, heartbeatAt: at, updatedAt: at });
    return Promise.resolve({ ...record });
  }

  heartbeat(owner: string, at: Date, ids: readonly string[]): Promise<HeartbeatReport> {
    for (const id of ids) {
      const record = this.records.get(id);
      if (record?.owner === owner && !isTerminalStatus(record.status) && record.cancelRequestedAt === null) record.heartbeatAt = at;
    }
    const lost: string[] = [];
    const cancelRequested: string[] = [];
    for (const id of ids) {
      const record = this.records.get(id);
      if (record?.owner !== owner || isTerminalStatus(record.status)) lost.push(id);
      else if (record.cancelRequestedAt !== null) cancelRequested.push(id);
    }
    return Promise.resolve({ lost, cancelRequested });
  }

  listOwnedByOthers(except: string, silentSince?: Date): Promise<TaskRecord[]> {
    const found: TaskRecord[] = [];
    for (const record of this.records.values()) {
      if (isTerminalStatus(record.status) || record.owner === null || record.owner === except) continue;
      const lastSign = record.heartbeatAt ?? record.createdAt;
      if (silentSince && lastSign && lastSign >= silentSince) continue;
      found.push(structuredClone(record));
    }
    return Promise.resolve(found);
  }

  takeOver(id: string, owner: string, heartbeatAt: Date | null, patch: RecordPatch): Promise<boolean> {
    const record = this.records.get(id);
    const seen = heartbeatAt?.getTime() ?? null;
    if (!record || isTerminalStatus(record.status) || record.owner !== owner || (record.heartbeatAt?.getTime() ?? null) !== seen) {
      return Promise.resolve(false);
    }
    Object.assign(record, patch);
    if (patch.status && isTerminalStatus(patch.status)) this.releaseLocks(id);
    return Promise.resolve(true);
  }

  fleet(): Promise<FleetSnapshot> {
    const tally = new FleetTally();
    for (const record of this.records.values()) {
      if (record.status === 'PENDING' || record.status === 'RUNNING') tally.add(record.owner, record.status, 1, record.heartbeatAt ?? record.createdAt);
    }
    return Promise.resolve(tally.snapshot());
  }


  markCleanedUp(id: string, at: Date, releaseLocks: boolean): void {
    const record = this.records.get(id);
    if (record) Object.assign(record, { cleanedUp: true, updatedAt: at });
    if (releaseLocks) this.releaseLocks(id);
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  get(id: string): Promise<TaskRecord | null> {
    const record = this.records.get(id);
    return Promise.resolve(record ? structuredClone(record) : null);
  }

  list(query: ListQuery): Promise<TaskPage> {
    const statuses = query.status === undefined ? null : new Set(query.status);
    const all = [...this.records.values()];
    const tasks: TaskRecord[] = [];
    let more = false;
    const newer = query.after !== undefined;
    for (let n = 0; n < all.length; n++) {
      // Newest first, or oldest first from the cursor when reading newer records.
      const record = all[newer ? n : all.length - 1 - n];
      if (query.before !== undefined && record.id >= query.before) continue;
      if (query.after !== undefined && record.id <= query.after) continue;
      if (statuses && !statuses.has(record.status)) continue;
      if (!this.matches(record.id, query)) continue;
      if (tasks.length === query.limit) {
        more = true;
        break;
      }
      tasks.push(structuredClone(record));
    }
    if (newer) {
      tasks.reverse();
      return Promise.resolve({ tasks, nextCursor: tasks.at(-1)?.id ?? null, prevCursor: more ? tasks[0].id : null });
    }
    return Promise.resolve({ tasks, nextCursor: more ? tasks[tasks.length - 1].id : null });
  }

  count(query: CountQuery): Promise<Partial<Record<TaskStatus, number>>> {
    const counts: Partial<Record<TaskStatus, number>> = {};
    for (const record of this.records.values()) {
      if (this.matches(record.id, query)) counts[record.status] = (counts[record.status] ?? 0) + 1;
    }
    return Promise.resolve(counts);
  }

  keysOf(id: string): Promise<string[]> {
    return Promise.resolve([...this.keys.get(id) ?? []]);
  }

  linkRetry(id: string, retriedAs: string | null, by: JsonValue | null, at: Date | null, expected: string | null): Promise<boolean> {
    const record = this.records.get(id);
    if (!record || (record.status !== 'FAILED' && record.status !== 'CANCELLED') || record.retriedAs !== expected) return Promise.resolve(false);
    Object.assign(record, { retriedAs, retriedBy: by, retriedAt: at });
    return Promise.resolve(true);
  }

  metrics(query: MetricsQuery): Promise<MetricsRows> {
    const counts = new Map<string, MetricsRows['counts'][number]>();
    const durations = new Map<string, number[]>();
    for (const record of this.records.values()) {
      const created = record.createdAt?.getTime();
      if (created === undefined || created < query.from.getTime() || created >= query.to.getTime() || !isTerminalStatus(record.status)) continue;
      const kind = record.taskName ?? '';
      const bucket = Math.floor((created - query.from.getTime()) / query.bucketMs);
      const key = `${kind}\u0000${record.status}\u0000${bucket}`;
      const row = counts.get(key) ?? { kind, status: record.status, bucket, count: 0 };
      row.count++;
      counts.set(key, row);
      if (record.status === 'DONE' && record.duration !== null) durations.set(kind, [...durations.get(kind) ?? [], record.duration]);
    }
    return Promise.resolve({
      counts: [...counts.values()],
      durations: [...durations].map(([kind, values]) => {
        values.sort((a, b) => a - b);
        return { kind, p50: values[nearestRank(values.length, 50) - 1], p95: values[nearestRank(values.length, 95) - 1] };
      }),
    });
  }

  /** Whether a record passes the affected and search filters of a query. */
  private matches(id: string, query: CountQuery): boolean {
    const keys = this.keys.get(id);
    if (query.affected !== undefined && !keys?.has(query.affected)) return false;
    const search = query.search;
    if (search === undefined) return true;
    if (search.idPrefix !== undefined && id.toLowerCase().startsWith(search.idPrefix)) return true;
    const kind = this.records.get(id)?.taskName ?? null;
    return search.terms.every((term) => keys?.has(term.key) === true || (kind !== null && term.kinds.includes(kind)));
  }

  abandonActive(message: string, at: Date, unownedIn?: readonly TaskStatus[]): Promise<number> {
    let changed = 0;
    for (const record of this.records.values()) {
      if (isTerminalStatus(record.status)) continue;
      if (unownedIn && (record.owner !== null || !unownedIn.includes(record.status))) continue;
      Object.assign(record, { status: 'FAILED', message, error: message, completedAt: at, failedAt: at, updatedAt: at });
      this.releaseLocks(record.id);
      changed++;
    }
    return Promise.resolve(changed);
  }

  cleanup(olderThan: Date, deleteRecords: boolean): Promise<StoreCleanupResult> {
    let locksReleased = 0;
    for (const taskId of [...this.locksByTask.keys()]) {
      const record = this.records.get(taskId);
      if (!record || isTerminalStatus(record.status)) locksReleased += this.releaseLocks(taskId);
    }
    let recordsMarked = 0;
    let recordsDeleted = 0;
    const taskNames = new Set<string>();
    for (const record of [...this.records.values()]) {
      const finishedAt = record.completedAt ?? record.updatedAt;
      if (!isTerminalStatus(record.status) || (finishedAt && finishedAt > olderThan)) continue;
      if (deleteRecords) {
        this.records.delete(record.id);
        this.keys.delete(record.id);
        recordsDeleted++;
      } else if (!record.cleanedUp) {
        record.cleanedUp = true;
        recordsMarked++;
      } else {
        continue;
      }
      if (record.taskName) taskNames.add(record.taskName);
    }
    return Promise.resolve({ locksReleased, recordsMarked, recordsDeleted, taskNames: [...taskNames] });
  }

  private isHeld(key: string): boolean {
    const holder = this.locks.get(key);
    if (holder === undefined) return false;
    const record = this.records.get(holder);
    return record !== undefined && !isTerminalStatus(record.status);
  }

  private releaseLocks(taskId: string): number {
    const keys = this.locksByTask.get(taskId);
    if (!keys) return 0;
    for (const key of keys) if (this.locks.get(key) === taskId) this.locks.delete(key);
    this.locksByTask.delete(taskId);
    return keys.length;
  }
}
