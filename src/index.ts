export { TaskManager, type CleanupSummary, type StopOptions } from './manager/task-manager.js';
export {
  ABANDONED_MESSAGE, type CleanupOptions, type Logger, type TaskManagerOptions, type TaskManagerConfig,
} from './manager/task-manager-options.js';
export { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, type ListTasksOptions } from './manager/list-query.js';
export {
  StablehandError, ConfigurationError, InvalidInputError, UnknownTaskKindError, TaskNotFoundError,
  TaskAlreadyFinishedError, TaskConflictError, ManagerStoppedError, StoreUnavailableError,
  type StablehandErrorCode,
} from './manager/errors.js';
export {
  TASK_STATUSES, isTerminalStatus, type TaskStatus, type LifecycleEventName, type LifecyclePayload,
  type LifecycleListener, type JsonValue, type ProgressPayload, type TaskContext, type TaskDefinition,
  type LaunchOptions, type LaunchedTask, type CancelResult,
} from './manager/types.js';
export {
  ANONYMOUS_USER, defaultFormatUser, defaultFormatAffected, defaultFormatPayload,
} from './manager/formatters.js';
export { toJsonValue } from './manager/json.js';
export {
  RECORD_KEYS, type TaskRecord, type RecordKey, type RecordPatch, type RecordStore, type ListQuery,
  type TaskPage, type StoreCleanupResult,
} from './adapters/record-store.js';
export { MemoryRecordStore } from './adapters/memory-record-store.js';
export type { TaskRunner, TaskJob, JobExecutor } from './adapters/task-runner.js';
export { InProcessRunner, type InProcessRunnerOptions } from './adapters/in-process-runner.js';
export { ModelTrackingTaskManager, type ModelTrackingTaskManagerOptions } from './manager/model-tracking-task-manager.js';
export { TypeOrmRecordStore, type TypeOrmRecordStoreOptions } from './adapters/typeorm/typeorm-record-store.js';
export type { FieldMap, StatusValues } from './adapters/typeorm/record-mapping.js';
export {
  StablehandTaskRecord, StablehandTaskLock, stablehandEntities, type StablehandTaskRow, type StablehandTaskLockRow,
} from './adapters/typeorm/task-record-entity.js';
export { CreateStablehandTables1732000000000 } from './adapters/typeorm/create-stablehand-tables.js';
export { createTaskRouter, type TaskRouterOptions } from './ui/create-task-router.js';
export {
  DEFAULT_TEXTS, type TaskUiOptions, type TaskPageLayoutInput, type TaskRouterAction, type TaskRouterAuthorize,
  type TaskRouterAuthorizeContext, type TaskRouterAuthorizeResult, type TaskRouterCsrfOptions, type TaskRouterLogger,
} from './ui/router-options.js';
export type { TaskRouterErrorBody, TaskRouterErrorCode } from './ui/http-error.js';
export type { TaskRouterManager, TaskListRequest } from './ui/task-manager-port.js';
export type {
  TaskSummaryJson, TaskDetailJson, TaskStatusJson, RunResponseJson, CancelResponseJson,
} from './ui/task-view.js';
