import type { JsonValue, TaskStatus } from '../manager/types.js';

/**
 * A task's record as stablehand reads it back, whatever the host's column names are.
 * Keys the host's fieldMap leaves out read as `null`.
 */
export interface TaskRecord {
  id: string;
  taskName: string | null;
  label: string | null;
  status: TaskStatus;
  message: string | null;
  /** Percentage 0–100 (or the whole progress payload, when the column holds JSON or text). */
  progress: number | JsonValue | null;
  /** The launching user, as `formatUser` rendered it. */
  user: JsonValue | null;
  /** The affected objects, as `formatAffected` rendered them. */
  affected: JsonValue | null;
  input: JsonValue | null;
  result: JsonValue | null;
  error: string | null;
  cleanedUp: boolean | null;
  createdAt: Date | null;
  startedAt: Date | null;
  updatedAt: Date | null;
  completedAt: Date | null;
  failedAt: Date | null;
  /** Seconds from start to the terminal event. */
  duration: number | null;
}

/** The logical keys of a {@link TaskRecord}: the left-hand side of a fieldMap. */
export type RecordKey = keyof TaskRecord;

/** The logical record keys, in a fixed order (it decides column order in generated SQL). */
export const RECORD_KEYS: readonly RecordKey[] = [
  'id', 'taskName', 'label', 'status', 'message', 'progress', 'user', 'affected', 'input', 'result',
  'error', 'cleanedUp', 'createdAt', 'startedAt', 'updatedAt', 'completedAt', 'failedAt', 'duration',
];

/** The fields one write changes. Only keys present are written. */
export type RecordPatch = Partial<Omit<TaskRecord, 'id'>>;

/** A page query over task records, newest first. */
export interface ListQuery {
  /** Only records in these statuses. */
  status?: TaskStatus | readonly TaskStatus[];
  /** Page size. */
  limit: number;
  /** Cursor: only records older than the one with this id (a previous page's `nextCursor`). */
  before?: string;
}

/** One page of task records. */
export interface TaskPage {
  /** Newest first. */
  tasks: TaskRecord[];
  /** Pass as `before` for the next page; `null` on the last page. */
  nextCursor: string | null;
}

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
   * `StoreUnavailableError` when the write failed (nothing was written then).
   */
  create(record: TaskRecord, lockKeys?: readonly string[]): Promise<void>;
  /**
   * Buffers a change to a record that must still be PENDING or RUNNING in the store: once a record
   * is terminal, later guarded writes are dropped. Never throws; failed writes are retried.
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
