import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import { ConfigurationError } from '../../core/errors.js';
import type { FieldMap, StatusValues } from '../../core/record.js';
import type { KindsOf, TaskKinds } from '../../core/types.js';
import type { KeySet } from '../../core/options.js';
import { TaskManager } from '../../manager/task-manager.js';
import type { TaskManagerOptions } from '../../manager/task-manager-options.js';
import type { RecordStore } from '../../ports/record-store.js';
import { TypeOrmRecordStore } from './typeorm-record-store.js';

/**
 * Options of a {@link ModelTrackingTaskManager}. `dataSource`, `entity`, `fieldMap` and `statusValues`
 * may instead be class fields of a subclass; constructor options win over class fields.
 */
export interface ModelTrackingTaskManagerOptions extends Omit<TaskManagerOptions, 'store'> {
  /** The host's TypeORM DataSource, initialized before `start()`. */
  dataSource?: DataSource;
  /**
   * The record model: a decorated entity class or an EntitySchema, registered in the DataSource.
   * @defaultValue `StablehandTaskRecord`
   */
  entity?: EntityTarget<ObjectLiteral>;
  /**
   * Logical record keys to the entity's property names; `null` leaves a key unstored.
   * @defaultValue each key to the property of the same name, when the entity has one
   */
  fieldMap?: FieldMap;
  /**
   * The host's words for the statuses, e.g. `{ RUNNING: 'in_progress', DONE: 'success' }`.
   * @defaultValue the status names themselves
   */
  statusValues?: StatusValues;
}

// The options ModelTrackingTaskManager adds; `store` is refused, as the manager builds its own.
const TRACKING_OPTION_KEYS: KeySet<Omit<ModelTrackingTaskManagerOptions, keyof TaskManagerOptions>> = {
  dataSource: true, entity: true, fieldMap: true, statusValues: true,
};

/**
 * A {@link TaskManager} that records every lifecycle event in a record model the host owns,
 * through its TypeORM DataSource. Configure it with constructor options or with class fields on a
 * subclass (constructor options win); the fieldMap is checked against the entity at `start()`.
 *
 * @example
 * ```ts
 * class AppTaskManager extends ModelTrackingTaskManager {
 *   override entity = ImportJob;
 *   override fieldMap = { taskName: 'kind', status: 'state', message: 'note' };
 *   override statusValues = { RUNNING: 'in_progress', DONE: 'success' };
 *   protected override formatUser(user: unknown) { return (user as User | undefined)?.email ?? 'system'; }
 * }
 * const manager = new AppTaskManager({ dataSource });
 * ```
 */
export class ModelTrackingTaskManager<Kinds extends KindsOf<Kinds> = TaskKinds> extends TaskManager<Kinds> {
  /** The DataSource, when set as a class field. */
  declare dataSource?: DataSource;
  /** The record model, when set as a class field. */
  declare entity?: EntityTarget<ObjectLiteral>;
  /** The fieldMap, when set as a class field. */
  declare fieldMap?: FieldMap;
  /** The status vocabulary, when set as a class field. */
  declare statusValues?: StatusValues;
  private readonly trackingOptions: ModelTrackingTaskManagerOptions;

  /** Checks the options; the DataSource, entity and fieldMap are resolved and checked at `start()`. */
  constructor(options: ModelTrackingTaskManagerOptions = {}) {
    super(options, TRACKING_OPTION_KEYS);
    if ('store' in options) throw new ConfigurationError('ModelTrackingTaskManager builds its own store from dataSource; use TaskManager to pass a store.');
    this.trackingOptions = options;
  }

  /** Builds the TypeORM record store from the options and class fields; called by `start()`. */
  protected override createStore(): RecordStore {
    const dataSource = this.trackingOptions.dataSource ?? this.dataSource;
    if (!dataSource) {
      throw new ConfigurationError('ModelTrackingTaskManager needs a dataSource: pass it as an option or set it as a class field.');
    }
    return new TypeOrmRecordStore({
      dataSource,
      entity: this.trackingOptions.entity ?? this.entity,
      fieldMap: this.trackingOptions.fieldMap ?? this.fieldMap,
      statusValues: this.trackingOptions.statusValues ?? this.statusValues,
      logger: this.config.logger,
    });
  }
}
