import { StoreUnavailableError } from '../../core/errors.js';
import { errorMessage, type Logger } from '../../core/logger.js';
import { RECORD_KEYS, type RecordPatch, type TaskRecord } from '../../core/record.js';
import { isTerminalStatus } from '../../core/status.js';
import type { Fence, PatchEntry, RecordSql } from './record-sql.js';
import type { ConsoleSql } from './console-sql.js';
import type { LockSql } from './lock-sql.js';
import type { OwnershipSql } from './ownership-sql.js';
import type { SqlExecutor, SqlPlan, SqlRows } from './sql-executor.js';
import type { HeartbeatReport } from '../../ports/record-store.js';

/**
 * One record's queued change: its guarded patch and its cleanup mark, merged across every event
 * the record had since the last flush, so a task that starts, reports and ends costs one entry.
 */
class PendingChange {
  patch: RecordPatch | null = null;
  /** The writer that fences the change (its first writer's); undefined for an unfenced change. */
  owner: string | undefined = undefined;
  cleanupAt: Date | null = null;
  releaseLocks = false;
  // Set by a plan when the guarded update carried the cleanup mark and changed the row.
  folded = false;

  constructor(readonly id: string) {}
}

interface Batch {
  // Parallel arrays rather than an object per insert: the write path allocates less.
  records: TaskRecord[];
  /** The index keys of each record, or null for none. */
  indexKeys: (readonly string[] | null)[];
  resolvers: (() => void)[];
  rejecters: ((error: Error) => void)[];
  changes: Map<string, PendingChange>;
  waiters: (() => void)[];
  beats: Beat[];
}

/** A queued heartbeat and who waits for its report. */
interface Beat {
  owner: string;
  at: Date;
  ids: readonly string[];
  report: HeartbeatReport;
  resolve: (report: HeartbeatReport) => void;
}

const MAX_RETRY_DELAY_MS = 5_000;
// Multiplies the fence into a change's grouping shape, above the record keys' bits.
const FENCE_UNIT = 2 ** RECORD_KEYS.length;
// Ids per heartbeat statement: far below every database's parameter limit.
const BEAT_CHUNK = 10_000;

/**
 * Group commit for record writes. Writes made while a flush runs wait for the next one, which
 * starts as soon as the previous ends; each flush is one transaction with multi-row INSERTs and one
 * change per changed record, however many changes that record had: records changed alike share a
 * multi-row UPDATE (SQLite, PostgreSQL), or each gets its own (MySQL). A failed flush is retried with
 * backoff: its inserts are rejected (their launches fail and nothing was written), its updates are
 * kept, so a task's terminal state lands once the database is back.
 */
export class WriteBuffer {
  private batch: Batch = emptyBatch();
  private running = false;
  private failures = 0;

  constructor(
    private readonly executor: SqlExecutor,
    private readonly sql: RecordSql,
    private readonly console: ConsoleSql,
    private readonly ownership: OwnershipSql,
    private readonly locks: LockSql | null,
    private readonly logger: Logger,
  ) {}

  // Bound once: a closure made inside the hot methods would cost V8 a context object per call,
  // even on the calls that never create it.
  private readonly enlist = (resolve: () => void, reject: (error: Error) => void): void => {
    this.batch.resolvers.push(resolve);
    this.batch.rejecters.push(reject);
  };
  private readonly runLoop = (): void => void this.loop();

  /** Queues a new record and its index keys; resolves once both are durable. */
  insert(record: TaskRecord, indexKeys: readonly string[] | null): Promise<void> {
    this.batch.records.push(record);
    this.batch.indexKeys.push(indexKeys);
    const durable = new Promise<void>(this.enlist);
    this.kick();
    return durable;
  }

  /** Queues a guarded change, merged into any change of the same record not yet written. */
  update(id: string, patch: RecordPatch, owner: string | undefined): void {
    const change = this.changeOf(id);
    // Changes merged into one write are fenced by the strictest of them: an unfenced change
    // joined by a fenced one lands only if the fence holds.
    if (!change.patch || change.owner === undefined) change.owner = owner;
    mergeGuarded(change, patch);
    this.kick();
  }

  /**
   * Queues a heartbeat after everything queued before it, so the records it expects to find
   * (created or claimed before the call) are written when it runs.
   */
  heartbeat(owner: string, at: Date, ids: readonly string[]): Promise<HeartbeatReport> {
    return new Promise((resolve) => {
      this.batch.beats.push({ owner, at, ids, report: { lost: [], cancelRequested: [] }, resolve });
      this.kick();
    });
  }

  /** Queues the cleanup mark and lock release of a record. */
  markCleanedUp(id: string, at: Date, releaseLocks: boolean): void {
    const change = this.changeOf(id);
    change.cleanupAt = at;
    change.releaseLocks ||= releaseLocks;
    this.kick();
  }

  /** Resolves once everything queued before the call is durable. */
  flush(): Promise<void> {
    if (!this.running && isEmpty(this.batch)) return Promise.resolve();
    return new Promise((resolve) => {
      this.batch.waiters.push(resolve);
      this.kick();
    });
  }

  private changeOf(id: string): PendingChange {
    const changes = this.batch.changes;
    let change = changes.get(id);
    if (!change) changes.set(id, (change = new PendingChange(id)));
    return change;
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    // One macrotask of delay lets every launch of the current tick join the first transaction.
    setImmediate(this.runLoop);
  }

  private async loop(): Promise<void> {
    while (!isEmpty(this.batch)) {
      const batch = this.batch;
      this.batch = emptyBatch();
      const error = await this.write(batch);
      // A failed batch is written again one write at a time: if some land (or the database answers
      // a probe), the database is up and the others are refused for good (a number out of its
      // column's range), so they must not hold back everything queued behind them, nor be retried
      // for ever.
      if (error === null || (operationCount(batch) > 0 && (await this.isolate(batch)))) {
        if (this.failures > 0) this.logger.warn(`[stablehand] record writes recovered after ${this.failures} failed attempt(s)`);
        this.failures = 0;
        for (const resolve of batch.resolvers) resolve();
        for (const waiter of batch.waiters) waiter();
        for (const beat of batch.beats) beat.resolve(beat.report);
        continue;
      }
      this.failed(batch, error);
      await new Promise((resolve) => setTimeout(resolve, Math.min(MAX_RETRY_DELAY_MS, 50 * 2 ** Math.min(this.failures, 10))));
    }
    this.running = false;
  }

  /**
   * Whether the database answers a read of the record table: a write it refused then was refused
   * for good. (Not just any statement: a table that is away is an outage too.)
   */
  private async databaseAnswers(): Promise<boolean> {
    try {
      const { sql, params } = this.sql.probe();
      await this.executor.read(sql, params);
      return true;
    } catch {
      return false;
    }
  }

  private async write(batch: Batch): Promise<unknown> {
    try {
      await this.executor.transaction(() => this.plan(batch));
      return null;
    } catch (error) {
      return error ?? new Error('the write failed');
    }
  }

  /**
   * Writes each operation of a failed batch in a transaction of its own. Returns false, having
   * changed nothing, when the first attempts all fail (the database is down: the caller retries the
   * whole batch later). Otherwise settles every operation: refused inserts reject their launch,
   * a refused terminal update is retried with its status and timestamps only, then dropped.
   * Settled inserts are removed from the batch so the caller resolves only the ones that landed.
   */
  private async isolate(batch: Batch): Promise<boolean> {
    const singles = splitOperations(batch);
    // Starting each retry at another offset means refused writes at the front cannot pass for an outage twice.
    const offset = this.failures % singles.length;
    const order = [...singles.slice(offset), ...singles.slice(0, offset)];
    let landed = 0;
    const refused: { single: Batch; error: unknown }[] = [];
    for (const single of order) {
      const error = await this.write(single);
      if (error === null) landed++;
      else refused.push({ single, error });
      if (landed === 0 && refused.length >= 3) return false;
    }
    // A conflict between transactions (a deadlock, a busy file) passes: the whole batch is retried.
    if (refused.some(({ error }) => isTransient(error))) return false;
    if (landed === 0 && !(await this.databaseAnswers())) return false;
    for (const { single, error } of refused) {
      // A single holds one insert or one change.
      const record = single.records.at(0);
      if (record) {
        // One line per task, with the database's own words: not a stack per attempt.
        this.logger.error(`[stablehand] the database refused the record of task ${record.id}: ${errorMessage(error)}`);
        const index = batch.records.indexOf(record);
        batch.rejecters[index](new StoreUnavailableError(`The task record could not be written: ${errorMessage(error)}`, error));
        batch.records.splice(index, 1);
        batch.indexKeys.splice(index, 1);
        batch.resolvers.splice(index, 1);
        batch.rejecters.splice(index, 1);
        continue;
      }
      const [change] = single.changes.values();
      const essential = change.patch && essentialPatch(change.patch);
      let fallback: unknown = error;
      if (essential) {
        const retry = Object.assign(new PendingChange(change.id), change, { patch: essential });
        fallback = await this.write({ ...emptyBatch(), changes: new Map([[change.id, retry]]) });
      }
      this.logger.error(
        `[stablehand] the database refused a change to task record ${change.id}` +
        (essential && fallback === null ? '; its status and timestamps were written without the other fields' : '; it was dropped') +
        `: ${errorMessage(error)}`,
      );
    }
    return true;
  }

  private *plan(batch: Batch): SqlPlan<void> {
    const sql = this.sql;
    const records = batch.records;
    for (let offset = 0; offset < records.length;) {
      const size = sql.rowsPerStatement(records.length - offset);
      yield sql.insert(records, offset, size);
      offset += size;
    }
    if (batch.indexKeys.some((keys) => keys !== null)) yield* this.console.insertKeysOf(records.map((record) => record.id), batch.indexKeys);
    // Folding the cleanup mark into the terminal update saves a statement per task; records whose
    // update the guard skipped (already final) get the mark on its own below.
    const foldCleanup = sql.has('cleanedUp');
    const groups = new Map<number, PendingChange[]>();
    for (const change of batch.changes.values()) {
      change.folded = false;
      const patch = change.patch;
      if (!patch) continue;
      if (foldCleanup && change.cleanupAt) patch.cleanedUp = true;
      const keys = sql.keySet(patch);
      if (keys === 0) continue;
      // Changes share a statement when they set the same keys under the same fence; the fence
      // takes the bits above the key set's.
      const shape = keys + sql.fenceOf(patch, change.owner) * FENCE_UNIT;
      const group = groups.get(shape);
      if (group) group.push(change);
      else groups.set(shape, [change]);
    }
    for (const [shape, group] of groups) {
      const keys = sql.keysOf(shape % FENCE_UNIT);
      const fence = Math.floor(shape / FENCE_UNIT) as Fence;
      for (let offset = 0; offset < group.length;) {
        const size = sql.rowsPerStatement(group.length - offset);
        // Only changes with a patch were grouped.
        const changed = yield sql.guardedUpdateMany(keys, group as PatchEntry[], offset, size, fence);
        if (changed === size) for (let i = offset; i < offset + size; i++) if (group[i].patch?.cleanedUp) group[i].folded = true;
        offset += size;
      }
    }
    for (const change of batch.changes.values()) {
      if (!change.cleanupAt) continue;
      if (!change.folded) {
        const statement = sql.markCleanedUp(change.id, change.cleanupAt);
        if (statement) yield statement;
      }
      if (change.releaseLocks && this.locks) yield this.locks.release(change.id);
    }
    for (const beat of batch.beats) yield* this.beat(beat);
  }

  /**
   * One heartbeat statement per 10,000 tasks held; when they changed fewer records than listed,
   * a read says which changed hands and why.
   */
  private *beat(beat: Beat): SqlPlan<void> {
    const sql = this.sql;
    if (!sql.tracksOwners || beat.ids.length === 0) return;
    let changed = 0;
    for (let offset = 0; offset < beat.ids.length; offset += BEAT_CHUNK) {
      changed += (yield this.ownership.heartbeat(beat.owner, beat.at, beat.ids.slice(offset, offset + BEAT_CHUNK))) as number;
    }
    if (changed === beat.ids.length) return;
    const found = new Map<string, SqlRows[number]>();
    for (let offset = 0; offset < beat.ids.length; offset += BEAT_CHUNK) {
      for (const row of (yield this.ownership.holdersOf(beat.ids.slice(offset, offset + BEAT_CHUNK))) as SqlRows) found.set(String(row.id), row);
    }
    const lost: string[] = [];
    const cancelRequested: string[] = [];
    for (const id of beat.ids) {
      const row = found.get(id);
      const status = row ? sql.mapping.fromDbStatus.get(String(row.status)) : undefined;
      if (row?.owner !== beat.owner || status === undefined || isTerminalStatus(status)) lost.push(id);
      else if (row.cancelRequestedAt !== null && row.cancelRequestedAt !== undefined) cancelRequested.push(id);
    }
    beat.report = { lost, cancelRequested };
  }

  private failed(batch: Batch, error: unknown): void {
    this.failures++;
    if (this.failures === 1 || this.failures % 20 === 0) {
      this.logger.error(`[stablehand] writing task records failed (attempt ${this.failures}); retrying`, error);
    }
    const cause = new StoreUnavailableError(`The task record could not be written: ${errorMessage(error)}`, error);
    for (const reject of batch.rejecters) reject(cause);
    // A missed heartbeat is not retried: it tells nothing, and the next one is due soon.
    for (const beat of batch.beats) beat.resolve({ lost: [], cancelRequested: [] });
    // Requeue under anything newer: the older batch's values go first, later changes win.
    const newer = this.batch;
    this.batch = {
      records: newer.records, indexKeys: newer.indexKeys, resolvers: newer.resolvers, rejecters: newer.rejecters,
      changes: batch.changes, waiters: [...batch.waiters, ...newer.waiters], beats: newer.beats,
    };
    for (const change of newer.changes.values()) {
      const older = this.changeOf(change.id);
      if (!older.patch) older.owner = change.owner;
      if (change.patch) mergeGuarded(older, change.patch);
      if (change.cleanupAt) older.cleanupAt = change.cleanupAt;
      older.releaseLocks ||= change.releaseLocks;
    }
  }
}

/**
 * Merges a guarded change; a change queued after a terminal one is dropped, as the database would.
 * The first patch of a record is kept as is and later ones are merged into it: callers hand over
 * fresh objects and never touch them again.
 */
function mergeGuarded(change: PendingChange, patch: RecordPatch): void {
  const pending = change.patch;
  if (!pending) change.patch = patch;
  else if (!(pending.status && isTerminalStatus(pending.status))) Object.assign(pending, patch);
}

const ESSENTIAL_KEYS = ['status', 'updatedAt', 'startedAt', 'completedAt', 'failedAt', 'duration', 'cleanedUp'] as const;

/** The part of a refused change that must land for the record to end: its status and timestamps. */
function essentialPatch(patch: RecordPatch): RecordPatch | null {
  if (!patch.status) return null;
  const essential: RecordPatch = {};
  for (const key of ESSENTIAL_KEYS) if (key in patch) (essential as Record<string, unknown>)[key] = patch[key];
  return essential;
}

/** Whether a write failed for a reason that passes by itself: a deadlock, a serialization failure, a lock wait. */
function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown; driverError?: { code?: unknown } } | null)?.code
    ?? (error as { driverError?: { code?: unknown } } | null)?.driverError?.code;
  return typeof code === 'string' && (TRANSIENT_CODES.has(code) || code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

// PostgreSQL's serialization failure and deadlock, MySQL's deadlock and lock wait timeout.
const TRANSIENT_CODES: ReadonlySet<string> = new Set(['40001', '40P01', 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);

function operationCount(batch: Batch): number {
  return batch.records.length + batch.changes.size;
}

/** One batch per operation: each insert, and each record's change with its cleanup. */
function splitOperations(batch: Batch): Batch[] {
  const singles: Batch[] = batch.records.map((record, i) => ({
    ...emptyBatch(), records: [record], indexKeys: [batch.indexKeys[i]], resolvers: [batch.resolvers[i]], rejecters: [batch.rejecters[i]],
  }));
  for (const change of batch.changes.values()) singles.push({ ...emptyBatch(), changes: new Map([[change.id, change]]) });
  return singles;
}

function emptyBatch(): Batch {
  return { records: [], indexKeys: [], resolvers: [], rejecters: [], changes: new Map(), waiters: [], beats: [] };
}

function isEmpty(batch: Batch): boolean {
  return batch.records.length === 0 && batch.changes.size === 0 && batch.waiters.length === 0 && batch.beats.length === 0;
}
