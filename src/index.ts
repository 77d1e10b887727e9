// The public API of `stablehand`. Layers: core (types, errors, records) ← ports (interfaces) ←
// manager (the engine) ← adapters (stores, runners) and ui (the web layer); see docs/architecture.md.
export {
  StablehandError, ConfigurationError, InvalidInputError, UnknownTaskKindError, TaskNotFoundError,
  TaskAlreadyFinishedError, TaskNotRetryableError, TaskConflictError, ManagerStoppedError, StoreUnavailableError, QueueUnavailableError,
  type StablehandErrorCode,
} from './core/errors.js';
export {
  TASK_STATUSES, ACTIVE_STATUSES, TERMINAL_STATUSES, isTerminalStatus, type TaskStatus,
} from './core/status.js';
export {
  LIFECYCLE_EVENTS, type LifecycleEventName, type LifecyclePayload, type LifecycleListener, type JsonValue,
  type ProgressPayload, type TaskContext, type TaskDefinition, type TaskKinds, type KindsOf, type LaunchArgs, type RetryBackoff, type LaunchOptions, type LaunchedTask, type CancelOptions, type CancelResult, type RetryOptions,
} from './core/types.js';
export type { Logger } from './core/logger.js';
export type { FleetInstance, FleetSnapshot, FleetReport } from './core/fleet.js';
export {
  RECORD_KEYS, MAX_ATTEMPT_ERRORS, MAX_MILESTONES, type TaskRecord, type AttemptError, type ProgressMilestone, type RecordKey, type RecordPatch, type FieldMap, type StatusValues,
} from './core/record.js';
export {
  DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, MAX_CURSOR_LENGTH, type ListTasksOptions, type ListQuery, type TaskPage,
  type CountTasksOptions, type CountQuery,
} from './core/list-query.js';
export {
  MAX_SEARCH_LENGTH, MAX_SEARCH_TERMS, MAX_AFFECTED_KEYS, MAX_AFFECTED_TYPE_LENGTH, MAX_AFFECTED_ID_LENGTH, affectedKey, affectedKeyOf,
  type SearchQuery, type SearchTerm,
} from './core/task-keys.js';
export {
  METRICS_WINDOWS, type TaskMetrics, type MetricsWindow, type MetricsWindowSpec, type KindMetrics, type MetricsBucket, type StatusCounts,
  type MetricsQuery, type MetricsRows,
} from './core/metrics.js';
export { toJsonValue } from './core/json.js';
export type { RecordStore, StoreCleanupResult, HeartbeatReport } from './ports/record-store.js';
export type { TaskRunner, TaskJob, JobExecutor, JobOutcome } from './ports/task-runner.js';
// eslint-disable-next-line @typescript-eslint/no-deprecated -- the deprecated alias stays public until it is removed
export type { TaskRouterManager, TaskListRequest } from './ports/task-manager-port.js';
export { TaskManager, type CleanupSummary, type StopOptions } from './manager/task-manager.js';
export { runWorker, type RunWorkerOptions, type WorkerHandle, type WorkerLogger } from './manager/run-worker.js';
export {
  ABANDONED_MESSAGE, type CleanupOptions, type TaskManagerOptions, type TaskManagerConfig,
} from './manager/task-manager-options.js';
export {
  ANONYMOUS_USER, defaultFormatUser, defaultFormatAffected, defaultFormatPayload,
} from './manager/formatters.js';
export { MemoryRecordStore } from './adapters/memory/memory-record-store.js';
export { InProcessRunner, type InProcessRunnerOptions } from './adapters/in-process/in-process-runner.js';
export {
  ModelTrackingTaskManager, type ModelTrackingTaskManagerOptions,
} from './adapters/typeorm/model-tracking-task-manager.js';
export { TypeOrmRecordStore, type TypeOrmRecordStoreOptions } from './adapters/typeorm/typeorm-record-store.js';
export {
  StablehandTaskRecord, StablehandTaskLock, StablehandTaskKey, stablehandEntities, type StablehandTaskRow, type StablehandTaskLockRow,
  type StablehandTaskKeyRow,
} from './adapters/typeorm/task-record-entity.js';
export { CreateStablehandTables1732000000000 } from './adapters/typeorm/create-stablehand-tables.js';
export { AddStablehandOwnership1764600000000 } from './adapters/typeorm/add-stablehand-ownership.js';
export { AddStablehandRetries1765000000000 } from './adapters/typeorm/add-stablehand-retries.js';
export { AddStablehandConsole1766000000000 } from './adapters/typeorm/add-stablehand-console.js';
export { stablehandMigrations } from './adapters/typeorm/stablehand-migrations.js';
export { createTaskRouter, type TaskRouterOptions } from './ui/create-task-router.js';
export { renderAffectedTasks, type AffectedTasksOptions } from './ui/affected-fragment.js';
export {
  DEFAULT_TEXTS, type TaskUiOptions, type TaskPageLayoutInput, type TaskRouterAction, type TaskRouterAuthorize,
  type TaskRouterAuthorizeContext, type TaskRouterAuthorizeResult, type TaskRouterCsrfOptions, type TaskRouterLogger,
} from './ui/router-options.js';
export type { TaskRouterErrorBody, TaskRouterErrorCode } from './ui/http-error.js';
export type { TaskRouterKind, TaskRouterField } from './ui/run-input.js';
export type {
  TaskSummaryJson, TaskDetailJson, TaskStatusJson, StatusCountsJson, RunResponseJson, CancelResponseJson, RetryResponseJson,
} from './ui/task-view.js';
