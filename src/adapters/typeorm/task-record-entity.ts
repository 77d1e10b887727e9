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

/** Both bundled entities, to spread into a DataSource's `entities`. */
export const stablehandEntities = [StablehandTaskRecord, StablehandTaskLock];
