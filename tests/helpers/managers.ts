import type { DataSource } from 'typeorm';
import {
  LIFECYCLE_EVENTS, ModelTrackingTaskManager, TaskManager, type LifecycleEventName, type LifecyclePayload,
  type ModelTrackingTaskManagerOptions, type TaskManagerOptions,
} from '../../src/index.js';
import { sqlite } from './data-sources.js';

/** How a suite builds its manager: on the in-memory store, or tracking a SQLite file through TypeORM. */
export interface ManagerKind {
  name: string;
  create(options?: TaskManagerOptions & ModelTrackingTaskManagerOptions): Promise<{ manager: TaskManager; dataSource: DataSource | null }>;
}

export const memoryKind: ManagerKind = {
  name: 'TaskManager on MemoryRecordStore',
  create: (options = {}) => Promise.resolve({ manager: new TaskManager(options), dataSource: null }),
};

export const sqliteKind: ManagerKind = {
  name: 'ModelTrackingTaskManager on a SQLite file',
  create: async (options = {}) => {
    const dataSource = options.dataSource ?? (await sqlite.open());
    return { manager: new ModelTrackingTaskManager({ ...options, dataSource }), dataSource };
  },
};

/** Records every lifecycle event a manager emits, in order. */
export function recordEvents(manager: TaskManager): { event: LifecycleEventName; payload: LifecyclePayload }[] {
  const seen: { event: LifecycleEventName; payload: LifecyclePayload }[] = [];
  for (const event of LIFECYCLE_EVENTS) {
    manager.on(event, (payload) => seen.push({ event, payload }));
  }
  return seen;
}
