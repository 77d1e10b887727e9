import { StoreUnavailableError } from '../../manager/errors.js';
import type { Logger } from '../../manager/task-manager-options.js';
import { isTerminalStatus } from '../../manager/types.js';
import type { RecordPatch, TaskRecord } from '../record-store.js';
import { INSERT_CHUNK_SIZES, type RecordSql } from './record-sql.js';
import type { SqlExecutor, SqlPlan } from './sql-executor.js';

interface PendingInsert {
  record: TaskRecord;
  resolve(): void;
  reject(error: Error): void;
}

interface Batch {
  inserts: PendingInsert[];
  updates: Map<string, RecordPatch>;
  cleanups: Map<string, { at: Date; releaseLocks: boolean }>;
  waiters: Array<() => void>;
}

const MAX_RETRY_DELAY_MS = 5_000;

/**
 * Group commit for record writes. Writes made while a flush runs wait for the next one, which
 * starts as soon as the previous ends; each flush is one transaction with multi-row INSERTs and one
 * UPDATE per changed record, however many changes that record had. A failed flush is retried with
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
    private readonly logger: Logger,
  ) {}

  /** Queues a new record; resolves once it is durable. */
  insert(record: TaskRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.batch.inserts.push({ record, resolve, reject });
      this.kick();
    });
  }

  /** Queues a guarded change, merged into any change of the same record not yet written. */
  update(id: string, patch: RecordPatch): void {
    mergeGuarded(this.batch.updates, id, patch);
    this.kick();
  }

  /** Queues the cleanup mark and lock release of a record. */
  markCleanedUp(id: string, at: Date, releaseLocks: boolean): void {
    const previous = this.batch.cleanups.get(id);
    this.batch.cleanups.set(id, { at, releaseLocks: releaseLocks || (previous?.releaseLocks ?? false) });
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

  private kick(): void {
    if (this.running) return;
    this.running = true;
    // One macrotask of delay lets every launch of the current tick join the first transaction.
    setImmediate(() => void this.loop());
  }

  private async loop(): Promise<void> {
    while (!isEmpty(this.batch)) {
      const batch = this.batch;
      this.batch = emptyBatch();
      const error = await this.write(batch);
      // A failed batch is written again one write at a time: if some land, the database is up and
      // the others are refused for good (a value too long for its column), so they must not hold
      // back everything queued behind them.
      if (error === null || (operationCount(batch) > 1 && (await this.isolate(batch)))) {
        if (this.failures > 0) this.logger.warn(`[stablehand] record writes recovered after ${this.failures} failed attempt(s)`);
        this.failures = 0;
        for (const insert of batch.inserts) insert.resolve();
        for (const waiter of batch.waiters) waiter();
        continue;
      }
      this.failed(batch, error);
      await new Promise((resolve) => setTimeout(resolve, Math.min(MAX_RETRY_DELAY_MS, 50 * 2 ** Math.min(this.failures, 10))));
    }
    this.running = false;
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
    const refused: Array<{ single: Batch; error: unknown }> = [];
    for (const single of order) {
      const error = await this.write(single);
      if (error === null) landed++;
      else refused.push({ single, error });
      if (landed === 0 && refused.length >= 3) return false;
    }
    if (landed === 0) return false;
    for (const { single, error } of refused) {
      const [insert] = single.inserts;
      if (insert) {
        this.logger.error(`[stablehand] the database refused the record of task ${insert.record.id}`, error);
        insert.reject(new StoreUnavailableError(`The task record could not be written: ${messageOf(error)}`, error));
        batch.inserts.splice(batch.inserts.indexOf(insert), 1);
        continue;
      }
      const [[id, patch] = ['', {}]] = single.updates;
      const essential = essentialPatch(patch);
      const fallback = essential ? await this.write({ ...single, updates: new Map([[id, essential]]) }) : error;
      this.logger.error(
        `[stablehand] the database refused a change to task record ${id || [...single.cleanups.keys()][0]}` +
        (essential && fallback === null ? '; its status and timestamps were written without the other fields' : '; it was dropped'),
        error,
      );
    }
    return true;
  }

  private *plan(batch: Batch): SqlPlan<void> {
    const sql = this.sql;
    for (const chunk of chunked(batch.inserts.map((insert) => insert.record))) yield sql.insert(chunk);
    // Folding the cleanup mark into the terminal update saves a statement per task; records whose
    // update the guard skipped (already final) get the mark on its own below.
    const folded = new Set<string>();
    const foldCleanup = sql.has('cleanedUp');
    const groups = new Map<number, Array<readonly [string, RecordPatch]>>();
    for (const [id, patch] of batch.updates) {
      if (foldCleanup && batch.cleanups.has(id)) patch.cleanedUp = true;
      if (!sql.multiRowUpdate) {
        const statement = sql.guardedUpdate(id, patch);
        if (statement && (yield statement) !== 0 && patch.cleanedUp) folded.add(id);
        continue;
      }
      const keys = sql.keySet(patch);
      const group = groups.get(keys);
      if (group) group.push([id, patch]);
      else groups.set(keys, [[id, patch]]);
    }
    for (const [keySet, entries] of groups) {
      if (keySet === 0) continue;
      const keys = sql.keysOf(keySet);
      for (const chunk of chunked(entries)) {
        const changed = yield sql.guardedUpdateMany(keys, chunk);
        if (changed === chunk.length) for (const [id, patch] of chunk) if (patch.cleanedUp) folded.add(id);
      }
    }
    for (const [id, cleanup] of batch.cleanups) {
      if (!folded.has(id)) {
        const statement = sql.markCleanedUp(id, cleanup.at);
        if (statement) yield statement;
      }
      if (cleanup.releaseLocks && sql.locks) yield sql.releaseLocks(id);
    }
  }

  private failed(batch: Batch, error: unknown): void {
    this.failures++;
    if (this.failures === 1 || this.failures % 20 === 0) {
      this.logger.error(`[stablehand] writing task records failed (attempt ${this.failures}); retrying`, error);
    }
    const cause = new StoreUnavailableError(`The task record could not be written: ${messageOf(error)}`, error);
    for (const insert of batch.inserts) insert.reject(cause);
    // Requeue under anything newer: the older batch's values go first, later changes win.
    const newer = this.batch;
    this.batch = { ...batch, inserts: newer.inserts, waiters: [...batch.waiters, ...newer.waiters] };
    for (const [id, patch] of newer.updates) mergeGuarded(this.batch.updates, id, patch);
    for (const [id, cleanup] of newer.cleanups) this.batch.cleanups.set(id, cleanup);
  }
}

/**
 * Merges a guarded change; a change queued after a terminal one is dropped, as the database would.
 * The first patch of a record is kept as is and later ones are merged into it: callers hand over
 * fresh objects and never touch them again.
 */
export function mergeGuarded(updates: Map<string, RecordPatch>, id: string, patch: RecordPatch): void {
  const pending = updates.get(id);
  if (!pending) updates.set(id, patch);
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

function operationCount(batch: Batch): number {
  let count = batch.inserts.length + batch.updates.size;
  for (const id of batch.cleanups.keys()) if (!batch.updates.has(id)) count++;
  return count;
}

/** One batch per operation: each insert, each record's change with its cleanup, each lone cleanup. */
function splitOperations(batch: Batch): Batch[] {
  const singles: Batch[] = batch.inserts.map((insert) => ({ ...emptyBatch(), inserts: [insert] }));
  for (const [id, patch] of batch.updates) {
    const cleanup = batch.cleanups.get(id);
    singles.push({ ...emptyBatch(), updates: new Map([[id, patch]]), cleanups: cleanup ? new Map([[id, cleanup]]) : new Map() });
  }
  for (const [id, cleanup] of batch.cleanups) {
    if (!batch.updates.has(id)) singles.push({ ...emptyBatch(), cleanups: new Map([[id, cleanup]]) });
  }
  return singles;
}

/** Cuts items into runs whose lengths come from {@link INSERT_CHUNK_SIZES}, largest first. */
function* chunked<T>(items: readonly T[]): Generator<T[]> {
  let offset = 0;
  while (offset < items.length) {
    const size = INSERT_CHUNK_SIZES.find((chunk) => chunk <= items.length - offset) as number;
    yield items.slice(offset, offset + size);
    offset += size;
  }
}

function emptyBatch(): Batch {
  return { inserts: [], updates: new Map(), cleanups: new Map(), waiters: [] };
}

function isEmpty(batch: Batch): boolean {
  return batch.inserts.length === 0 && batch.updates.size === 0 && batch.cleanups.size === 0 && batch.waiters.length === 0;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
