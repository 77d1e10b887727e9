import type { FleetSnapshot } from '../core/fleet.js';
import type { CountQuery, ListQuery, TaskPage } from '../core/list-query.js';
import type { MetricsQuery, MetricsRows } from '../core/metrics.js';
import type { RecordKey, RecordPatch, TaskRecord } from '../core/record.js';
import type { TaskStatus } from '../core/status.js';
import type { JsonValue } from '../core/types.js';

/** What a store's sweep did. */
export interface StoreCleanupResult {
  locksReleased: number;
  recordsMarked: number;
  recordsDeleted: number;
  /** Task kinds of the records the sweep marked or deleted, each once. */
  taskNames: string[];
}

/** What one heartbeat learned about the tasks its process believes it holds. */
export interface HeartbeatReport {
  /**
   * Tasks no longer this owner's to run: taken over by another process, ended by someone else,
   * or gone. Their handlers must stop, and their outcome is no longer this process's to record.
   */
  lost: string[];
  /** Tasks still this owner's, for which someone asked a cancel. */
  cancelRequested: string[];
}

/**
 * Where task records live. The manager owns ordering and terminal-state rules; a store only
 * makes writes durable and answers reads. Implementations: `TypeOrmRecordStore`, `MemoryRecordStore`.
 */
export interface RecordStore {
  /**
   * The most characters the store keeps of `key` (a `varchar(n)` column: n), or undefined when it
   * keeps any length. Longer texts are cut with a mark, except the keys that name a task or its
   * holder (`taskName`, `owner`), which the manager checks against it instead. Known once open.
   */
  maxLength?(key: RecordKey): number | undefined;
  /** Prepares the store (checks schema, opens statements). Called by the manager's `start()`. */
  open(): Promise<void>;
  /**
   * Whether records carry an owner and a heartbeat (the bundled table does; a host's entity does
   * when it maps `owner` and `heartbeatAt`). Without them the manager assumes a single process.
   * Known once the store is open.
   */
  readonly tracksOwners: boolean;
  /**
   * Whether records carry the attempt number (the bundled table does; a host's entity does when
   * it maps `attempt`). Without it a task cannot be told to have used its attempts once it leaves
   * this process's memory, so a kind's `attempts` hold only while one process runs all of them.
   * Known once the store is open.
   */
  readonly tracksAttempts: boolean;
  /**
   * Whether the store keeps each task's index keys (affected objects and search words), which
   * `affected` and `search` queries need. The TypeORM store does when the DataSource registers
   * `StablehandTaskKey`. Known once the store is open.
   */
  readonly indexesKeys: boolean;
  /**
   * Whether records keep their input (`input`), which `retry()` launches again. Known once the
   * store is open; absent reads as true.
   */
  readonly tracksInputs?: boolean;
  /**
   * Whether records keep their kind (`taskName`). Without it, words every task of a kind shares
   * (its name, its defined label) are indexed per task, as search cannot find them by kind.
   * Known once the store is open; absent reads as true.
   */
  readonly tracksKinds?: boolean;
  /** Flushes every buffered write and releases resources. */
  close(): Promise<void>;
  /**
   * Writes a new record durably, with locks on `lockKeys` and its `indexKeys` (affected keys and
   * search words, see core/task-keys.ts) in the same transaction. Rejects with a
   * `TaskConflictError` when a non-terminal task holds any of the lock keys, and with a
   * `StoreUnavailableError` when the write failed (nothing was written then). The store may keep
   * `record` until it is written; the caller does not change it.
   */
  create(record: TaskRecord, lockKeys?: readonly string[], indexKeys?: readonly string[]): Promise<void>;
  /**
   * Buffers a change to a record that must still be PENDING or RUNNING in the store: once a record
   * is terminal, later guarded writes are dropped. Never throws; failed writes are retried.
   *
   * The store takes `patch` over: it may keep it, merge later changes into it and add keys to it
   * until it is written, so the caller hands over a fresh object and never reads or changes it
   * again. (Sparing a copy per change is worth a rule on the write path.)
   *
   * With `owner` (and a store that {@link RecordStore.tracksOwners}), the change is fenced: it
   * lands only while that owner holds the record, so a process that lost a task to another can
   * never overwrite it. A patch that itself sets `owner` claims the record instead: it lands only
   * while the record is PENDING and held by nobody else.
   */
  update(id: string, patch: RecordPatch, owner?: string): void;
  /**
   * Claims a PENDING record that nobody else holds for `owner`, durably: RUNNING, held by `owner`,
   * started and beaten at `at`. Resolves with the record as claimed, or null when it was not
   * claimable (unknown, no longer PENDING, or held by another). This is how a worker takes a job
   * launched elsewhere: once it resolves, the task is its own and any other process sees it so, so
   * a job delivered twice runs once, and a worker that dies right after is noticed by the sweep.
   * Claims made together may share a statement (and the `at` of the first).
   */
  claim(id: string, owner: string, at: Date): Promise<TaskRecord | null>;
  /** Buffers the cleanup mark (written whatever the status) and, if asked, the release of the task's locks. */
  markCleanedUp(id: string, at: Date, releaseLocks: boolean): void;
  /** Resolves once everything buffered before the call is durable. */
  flush(): Promise<void>;
  /** Reads one record. */
  get(id: string): Promise<TaskRecord | null>;
  /**
   * Reads a page of records, newest first: with `after`, the page of the oldest records newer
   * than it (its `nextCursor` is then the oldest id of the page, or null when the page is empty).
   * A `search` with an `idPrefix` matches records whose id starts with it or that have every key.
   */
  list(query: ListQuery): Promise<TaskPage>;
  /** How many records are in each status, within the filters; statuses with none may be left out. */
  count(query: CountQuery): Promise<Partial<Record<TaskStatus, number>>>;
  /** The index keys of a record (its affected keys and search words); empty when not indexed. */
  keysOf(id: string): Promise<string[]>;
  /**
   * Sets the retry link and audit of a FAILED or CANCELLED record at once (compare-and-set):
   * `retriedAs`, `retriedBy` and `retriedAt`, only while its `retriedAs` is `expected`. Resolves
   * with whether it applied: a record retried by someone else in between is left alone.
   */
  linkRetry(id: string, retriedAs: string | null, by: JsonValue | null, at: Date | null, expected: string | null): Promise<boolean>;
  /** Aggregates of the finished records created in one window, for `metrics()`. */
  metrics(query: MetricsQuery): Promise<MetricsRows>;
  /**
   * Fails every PENDING or RUNNING record with `message`; with `unownedIn`, only the records in
   * those statuses that no owner holds (left by a version before owners, or by a crashed single
   * process). Returns how many it changed.
   */
  abandonActive(message: string, at: Date, unownedIn?: readonly TaskStatus[]): Promise<number>;
  /**
   * Buffers one heartbeat of `owner`: sets `heartbeatAt` on the records among `ids` (the tasks the
   * owner believes it holds) that it still holds, unfinished and with no cancel request, in one
   * statement. Resolves, once written, with what it learned about `ids`; with nothing learned when
   * the write failed.
   */
  heartbeat(owner: string, at: Date, ids: readonly string[]): Promise<HeartbeatReport>;
  /**
   * Unfinished records held by an owner other than `except`; with `silentSince`, only those whose
   * last sign of life (their heartbeat, or their creation before the first) is older than it.
   */
  listOwnedByOthers(except: string, silentSince?: Date): Promise<TaskRecord[]>;
  /**
   * Applies `patch` to a record only while it is unfinished and still as it was seen: held by
   * `owner` with heartbeat `heartbeatAt` (compare-and-set, so that of several processes taking
   * back a silent owner's task one wins, and an owner that beat again in between keeps it).
   * Resolves with whether it applied. Writes at once, not buffered; a terminal patch releases the
   * record's locks in the same transaction.
   */
  takeOver(id: string, owner: string, heartbeatAt: Date | null, patch: RecordPatch): Promise<boolean>;
  /** Who holds the unfinished tasks, and how many wait for a worker: one aggregate read. */
  fleet(): Promise<FleetSnapshot>;
  /**
   * Releases locks held by terminal or missing tasks, marks terminal records finished before
   * `olderThan` as cleaned up, and deletes them when `deleteRecords` is set.
   */
  cleanup(olderThan: Date, deleteRecords: boolean): Promise<StoreCleanupResult>;
}
