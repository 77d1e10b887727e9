import type { ListQuery, TaskPage } from '../core/list-query.js';
import type { RecordPatch, TaskRecord } from '../core/record.js';

/** What a store's sweep did. */
export interface StoreCleanupResult {
  locksReleased: number;
  recordsMarked: number;
  recordsDeleted: number;
  /** Task kinds of the records the sweep marked or deleted, each once. */
  taskNames: string[];
}

/**
 * Where task records live. The manager owns ordering and terminal-state rules; a store only
 * makes writes durable and answers reads. Implementations: `TypeOrmRecordStore`, `MemoryRecordStore`.
 */
export interface RecordStore {
  /** Prepares the store (checks schema, opens statements). Called by the manager's `start()`. */
  open(): Promise<void>;
  /** Flushes every buffered write and releases resources. */
  close(): Promise<void>;
  /**
   * Writes a new record durably, with locks on `lockKeys` in the same transaction. Rejects with a
   * `TaskConflictError` when a non-terminal task holds any of the keys, and with a
   * `StoreUnavailableError` when the write failed (nothing was written then). The store may keep
   * `record` until it is written; the caller does not change it.
   */
  create(record: TaskRecord, lockKeys?: readonly string[]): Promise<void>;
  /**
   * Buffers a change to a record that must still be PENDING or RUNNING in the store: once a record
   * is terminal, later guarded writes are dropped. Never throws; failed writes are retried.
   *
   * The store takes `patch` over: it may keep it, merge later changes into it and add keys to it
   * until it is written, so the caller hands over a fresh object and never reads or changes it
   * again. (Sparing a copy per change is worth a rule on the write path.)
   */
  update(id: string, patch: RecordPatch): void;
  /** Buffers the cleanup mark (written whatever the status) and, if asked, the release of the task's locks. */
  markCleanedUp(id: string, at: Date, releaseLocks: boolean): void;
  /** Resolves once everything buffered before the call is durable. */
  flush(): Promise<void>;
  /** Reads one record. */
  get(id: string): Promise<TaskRecord | null>;
  /** Reads a page of records, newest first. */
  list(query: ListQuery): Promise<TaskPage>;
  /** Fails every PENDING or RUNNING record with `message`; returns how many it changed. */
  abandonActive(message: string, at: Date): Promise<number>;
  /**
   * Releases locks held by terminal or missing tasks, marks terminal records finished before
   * `olderThan` as cleaned up, and deletes them when `deleteRecords` is set.
   */
  cleanup(olderThan: Date, deleteRecords: boolean): Promise<StoreCleanupResult>;
}
