import { StoreUnavailableError } from '../../manager/errors.js';
import type { Logger } from '../../manager/task-manager-options.js';
import { isTerminalStatus } from '../../manager/types.js';
import type { RecordKey, RecordPatch, TaskRecord } from '../record-store.js';
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

  /** True while writes are queued or being written. */
  get busy(): boolean {
    return this.running || !isEmpty(this.batch);
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
      try {
        await this.executor.transaction(() => this.plan(batch));
      } catch (error) {
        this.failed(batch, error);
        await new Promise((resolve) => setTimeout(resolve, Math.min(MAX_RETRY_DELAY_MS, 50 * 2 ** Math.min(this.failures, 10))));
        continue;
      }
      if (this.failures > 0) this.logger.warn(`[stablehand] record writes recovered after ${this.failures} failed attempt(s)`);
      this.failures = 0;
      for (const insert of batch.inserts) insert.resolve();
      for (const waiter of batch.waiters) waiter();
    }
    this.running = false;
  }

  private *plan(batch: Batch): SqlPlan<void> {
    const sql = this.sql;
    for (const chunk of chunked(batch.inserts.map((insert) => insert.record))) yield sql.insert(chunk);
    // Folding the cleanup mark into the terminal update saves a statement per task; records whose
    // update the guard skipped (already final) get the mark on its own below.
    const folded = new Set<string>();
    const foldCleanup = sql.has('cleanedUp');
    const groups = new Map<string, Array<readonly [string, RecordPatch]>>();
    for (const [id, patch] of batch.updates) {
      if (foldCleanup && batch.cleanups.has(id)) patch.cleanedUp = true;
      if (!sql.multiRowUpdate) {
        const statement = sql.guardedUpdate(id, patch);
        if (statement && (yield statement) !== 0 && patch.cleanedUp) folded.add(id);
        continue;
      }
      const keys = sql.storedKeys(patch).join(',');
      const group = groups.get(keys);
      if (group) group.push([id, patch]);
      else groups.set(keys, [[id, patch]]);
    }
    for (const [keys, entries] of groups) {
      if (!keys) continue;
      for (const chunk of chunked(entries)) {
        const changed = yield sql.guardedUpdateMany(keys.split(',') as RecordKey[], chunk);
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
