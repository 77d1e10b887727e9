import { EntitySchema } from 'typeorm';
import type { TaskStatus } from '../../core/status.js';
import type { JsonValue } from '../../core/types.js';

/** A row of the bundled task record table, as TypeORM hydrates it. */
export interface StablehandTaskRow {
  id: string;
  taskName: string;
  label: string;
  status: TaskStatus;
  message: string | null;
  progress: number | null;
  user: string | null;
  affected: string | null;
  input: JsonValue | null;
  result: JsonValue | null;
  error: string | null;
  cleanedUp: boolean;
  createdAt: Date;
  startedAt: Date | null;
  updatedAt: Date;
  completedAt: Date | null;
  failedAt: Date | null;
  duration: number | null;
  owner: string | null;
  heartbeatAt: Date | null;
  cancelRequestedAt: Date | null;
  cancelRequestedBy: string | null;
  attempt: number | null;
  maxAttempts: number | null;
  retryAt: Date | null;
  attemptErrors: JsonValue | null;
  retryOf: string | null;
  retriedAs: string | null;
  retriedBy: string | null;
  retriedAt: Date | null;
  milestones: JsonValue | null;
}

/** A row of the lock table: one affected object held by one task. */
export interface StablehandTaskLockRow {
  objectKey: string;
  taskId: string;
  lockedAt: Date;
}

// Types chosen to exist under the same name on SQLite, PostgreSQL and MySQL/MariaDB; dates keep
// milliseconds (MySQL's DATETIME would drop them without a precision).
const timestamp = { type: Date, precision: 3 } as const;

/**
 * The bundled record model (table `stablehand_task`). Property names are the logical record keys,
 * so it needs no fieldMap. Register it in the DataSource's `entities`, and create its table with
 * {@link CreateStablehandTables1732000000000}.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- TypeORM declares EntitySchemaOptions as a class but takes plain option objects
export const StablehandTaskRecord = new EntitySchema<StablehandTaskRow>({
  name: 'StablehandTaskRecord',
  tableName: 'stablehand_task',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    taskName: { name: 'task_name', type: 'varchar', length: 100 },
    label: { type: 'varchar', length: 255 },
    status: { type: 'varchar', length: 20 },
    message: { type: 'text', nullable: true },
    progress: { type: 'double precision', nullable: true },
    user: { name: 'user_label', type: 'varchar', length: 255, nullable: true },
    affected: { type: 'text', nullable: true },
    input: { type: 'simple-json', nullable: true },
    result: { type: 'simple-json', nullable: true },
    error: { type: 'text', nullable: true },
    cleanedUp: { name: 'cleaned_up', type: Boolean, default: false },
    createdAt: { name: 'created_at', ...timestamp },
    startedAt: { name: 'started_at', ...timestamp, nullable: true },
    updatedAt: { name: 'updated_at', ...timestamp },
    completedAt: { name: 'completed_at', ...timestamp, nullable: true },
    failedAt: { name: 'failed_at', ...timestamp, nullable: true },
    duration: { type: 'double precision', nullable: true },
    // Added by AddStablehandOwnership1764600000000.
    owner: { type: 'varchar', length: 255, nullable: true },
    heartbeatAt: { name: 'heartbeat_at', ...timestamp, nullable: true },
    cancelRequestedAt: { name: 'cancel_requested_at', ...timestamp, nullable: true },
    cancelRequestedBy: { name: 'cancel_requested_by', type: 'varchar', length: 255, nullable: true },
    // Added by AddStablehandRetries1765000000000.
    attempt: { type: 'int', nullable: true },
    maxAttempts: { name: 'max_attempts', type: 'int', nullable: true },
    retryAt: { name: 'retry_at', ...timestamp, nullable: true },
    attemptErrors: { name: 'attempt_errors', type: 'simple-json', nullable: true },
    // Added by AddStablehandConsole1766000000000.
    retryOf: { name: 'retry_of', type: 'varchar', length: 36, nullable: true },
    retriedAs: { name: 'retried_as', type: 'varchar', length: 36, nullable: true },
    retriedBy: { name: 'retried_by', type: 'varchar', length: 255, nullable: true },
    retriedAt: { name: 'retried_at', ...timestamp, nullable: true },
    milestones: { type: 'simple-json', nullable: true },
  },
  indices: [
    // Serves status-filtered pages (status = ? ORDER BY id DESC) without a sort.
    { name: 'IDX_stablehand_task_status', columns: ['status', 'id'] },
    { name: 'IDX_stablehand_task_created_at', columns: ['createdAt'] },
  ],
});

/**
 * The lock table (`stablehand_task_lock`): `launch(..., { lock: true })` inserts one row per
 * affected object, so two processes on one database cannot both take the same object.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- TypeORM declares EntitySchemaOptions as a class but takes plain option objects
export const StablehandTaskLock = new EntitySchema<StablehandTaskLockRow>({
  name: 'StablehandTaskLock',
  tableName: 'stablehand_task_lock',
  columns: {
    objectKey: { name: 'object_key', type: 'varchar', length: 255, primary: true },
    taskId: { name: 'task_id', type: 'varchar', length: 36 },
    lockedAt: { name: 'locked_at', ...timestamp },
  },
  indices: [{ name: 'IDX_stablehand_task_lock_task', columns: ['taskId'] }],
});

/** A row of the index table: one key (an affected object or a search word) of one task. */
export interface StablehandTaskKeyRow {
  key: string;
  taskId: string;
}

/**
 * The index table (`stablehand_task_key`): the keys each task is found by, written in the
 * transaction that writes its record. Affected objects are `type:id` (`order:42`), search words
 * `~word`. It serves the bundled record table and a host's own entity alike.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- as above
export const StablehandTaskKey = new EntitySchema<StablehandTaskKeyRow>({
  name: 'StablehandTaskKey',
  tableName: 'stablehand_task_key',
  // On SQLite the primary key is the table itself: one B-tree written per key, not two.
  withoutRowid: true,
  columns: {
    // Pages of one key read newest first straight from this primary key, task ids being time-ordered.
    key: { name: 'index_key', type: 'varchar', length: 255, primary: true },
    taskId: { name: 'task_id', type: 'varchar', length: 36, primary: true },
  },
  indices: [{ name: 'IDX_stablehand_task_key_task', columns: ['taskId'] }],
});

/** The bundled entities, to spread into a DataSource's `entities`. */
export const stablehandEntities = [StablehandTaskRecord, StablehandTaskLock, StablehandTaskKey];
