import type { DataSource, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';
import { stringOf } from '../../core/json.js';
import { ConfigurationError } from '../../core/errors.js';
import { RECORD_KEYS, type FieldMap, type RecordKey, type StatusValues } from '../../core/record.js';
import { TASK_STATUSES, type TaskStatus } from '../../core/status.js';
import { columnCharLimit } from './storable.js';

/** TypeORM's column metadata (its class is not exported from the package root). */
export type ColumnMetadata = EntityMetadata['columns'][number];

/** How a column's values are converted on the way in and out. */
export type ColumnKind = 'json' | 'text' | 'number' | 'boolean' | 'date';

/** One logical key bound to one column. */
export interface MappedColumn {
  key: RecordKey;
  metadata: ColumnMetadata;
  /** The column's name, quoted for SQL. */
  sql: string;
  kind: ColumnKind;
  /**
   * The most characters a value is cut to (see `columnCharLimit`); undefined for the keys that
   * identify a task or its holder (`id`, `taskName`, `status`, `owner`), which are never cut but
   * checked: see {@link RecordMapping.capacity}.
   */
  maxChars: number | undefined;
  /** Whether the column holds whole numbers only (a percentage is rounded for it). */
  integer: boolean;
  /**
   * The last date this column encoded, and its encoding: timestamps of one flush mostly share a
   * millisecond, so the driver's date formatting runs once per column and millisecond.
   */
  lastDate?: { time: number; encoded: unknown };
}

/** A fieldMap checked against an entity's metadata: everything the SQL builder needs. */
export interface RecordMapping {
  /** The table's name, quoted for SQL. */
  table: string;
  columns: ReadonlyMap<RecordKey, MappedColumn>;
  /** The most characters each text column holds, where it has a limit. */
  capacity: ReadonlyMap<RecordKey, number>;
  toDbStatus: Readonly<Record<TaskStatus, string>>;
  fromDbStatus: ReadonlyMap<string, TaskStatus>;
}

// Keys whose values are compared, not just shown: cutting one would change what it names.
const IDENTITY_KEYS: ReadonlySet<RecordKey> = new Set<RecordKey>(['id', 'taskName', 'status', 'owner', 'retryOf', 'retriedAs']);

const JSON_TYPES = new Set(['json', 'jsonb', 'simple-json']);
const NUMBER_TYPES = new Set([
  'int', 'integer', 'int2', 'int4', 'int8', 'smallint', 'mediumint', 'bigint', 'tinyint', 'float', 'float4',
  'float8', 'double', 'double precision', 'real', 'decimal', 'numeric', 'dec', 'fixed', 'number',
]);
const INTEGER_TYPES = new Set(['int', 'integer', 'int2', 'int4', 'int8', 'smallint', 'mediumint', 'bigint', 'tinyint']);
const BOOLEAN_TYPES = new Set(['boolean', 'bool']);
const DATE_TYPES = new Set([
  'datetime', 'datetime2', 'timestamp', 'timestamptz', 'timestamp without time zone', 'timestamp with time zone', 'date',
]);
const ID_TYPES = new Set(['varchar', 'character varying', 'char', 'character', 'nvarchar', 'nchar', 'text', 'uuid', 'string']);

/** The kind of a column, from its TypeORM type. */
export function columnKind(column: ColumnMetadata): ColumnKind {
  const type = column.type;
  if (type === Date) return 'date';
  if (type === Boolean) return 'boolean';
  if (type === Number) return 'number';
  const name = typeof type === 'string' ? type.toLowerCase() : 'varchar';
  if (JSON_TYPES.has(name)) return 'json';
  if (NUMBER_TYPES.has(name)) return 'number';
  if (BOOLEAN_TYPES.has(name)) return 'boolean';
  if (DATE_TYPES.has(name)) return 'date';
  return 'text';
}

/**
 * Checks `fieldMap` and `statusValues` against the entity registered in `dataSource`, and throws a
 * {@link ConfigurationError} naming the key, the property and the entity for anything wrong.
 */
export function resolveRecordMapping(
  dataSource: DataSource,
  entity: EntityTarget<ObjectLiteral>,
  fieldMap: FieldMap = {},
  statusValues: StatusValues = {},
): RecordMapping {
  if (!dataSource.hasMetadata(entity)) {
    const name = typeof entity === 'function' ? entity.name : stringOf((entity as { options?: { name?: string } }).options?.name ?? entity);
    throw new ConfigurationError(`Entity ${name} is not registered in the DataSource: add it to the DataSource's entities.`);
  }
  const metadata = dataSource.getMetadata(entity);
  const driver = dataSource.driver;
  // Typed, but a JavaScript caller may pass anything.
  const givenFieldMap: unknown = fieldMap;
  if (givenFieldMap === null || typeof givenFieldMap !== 'object') throw new ConfigurationError('fieldMap must be an object.');
  for (const key of Object.keys(fieldMap)) {
    if (!RECORD_KEYS.includes(key as RecordKey)) {
      throw new ConfigurationError(`fieldMap has an unknown key "${key}"; the keys are ${RECORD_KEYS.join(', ')}.`);
    }
  }
  const columns = new Map<RecordKey, MappedColumn>();
  const capacity = new Map<RecordKey, number>();
  for (const key of RECORD_KEYS) {
    const property = key in fieldMap ? fieldMap[key] : key;
    if (property === null || property === undefined) continue;
    if (typeof property !== 'string') {
      throw new ConfigurationError(`fieldMap.${key} must be a property name or null; got ${JSON.stringify(property)}.`);
    }
    const column = metadata.findColumnWithPropertyPath(property);
    if (!column) {
      if (!(key in fieldMap)) continue;
      throw new ConfigurationError(
        `fieldMap.${key} names "${property}", which is not a column of entity ${metadata.name} ` +
        `(its columns: ${metadata.columns.map((c) => c.propertyPath).join(', ')}).`,
      );
    }
    if (column.isArray) {
      // Every key holds one value (JSON as text when it is a list): a native array column would refuse it.
      throw new ConfigurationError(
        `fieldMap.${key} maps to "${property}" of entity ${metadata.name}, an array column; stablehand writes one value per column ` +
        '(lists as JSON): map it to a JSON or text column.',
      );
    }
    const kind = columnKind(column);
    const limit = columnCharLimit(column, kind === 'text' || kind === 'json', dataSource.options.type === 'mysql' || dataSource.options.type === 'mariadb');
    if (limit !== undefined) capacity.set(key, limit);
    const maxChars = IDENTITY_KEYS.has(key) ? undefined : limit;
    const integer = kind === 'number' && typeof column.type === 'string' && INTEGER_TYPES.has(column.type.toLowerCase());
    columns.set(key, { key, metadata: column, sql: driver.escape(column.databaseName), kind, maxChars, integer });
  }
  checkRequired(metadata, columns);
  return {
    table: metadata.tablePath.split('.').map((part) => driver.escape(part)).join('.'),
    columns,
    capacity,
    ...resolveStatusValues(statusValues),
  };
}

/** Whether `column` alone is unique in the entity (a unique constraint or index on it, or `unique: true`). */
function isUniqueColumn(metadata: EntityMetadata, column: ColumnMetadata): boolean {
  const alone = (columns: readonly ColumnMetadata[]) => columns.length === 1 && columns[0] === column;
  return metadata.uniques.some((unique) => alone(unique.columns)) || metadata.indices.some((index) => index.isUnique && alone(index.columns));
}

function requiredColumn(metadata: EntityMetadata, columns: Map<RecordKey, MappedColumn>, key: 'id' | 'status'): MappedColumn {
  const column = columns.get(key);
  if (!column) {
    throw new ConfigurationError(`fieldMap.${key} must name a column of entity ${metadata.name}; stablehand cannot work without it.`);
  }
  return column;
}

function checkRequired(metadata: EntityMetadata, columns: Map<RecordKey, MappedColumn>): void {
  const id = requiredColumn(metadata, columns, 'id');
  requiredColumn(metadata, columns, 'status');
  // The task id is the primary key, or a unique column beside a key the database fills (the
  // usual `@PrimaryGeneratedColumn() id: number`): stablehand finds records by the task id only.
  const onlyPrimary = id.metadata.isPrimary && metadata.primaryColumns.length === 1;
  const uniqueBesideGeneratedKey = !id.metadata.isPrimary && isUniqueColumn(metadata, id.metadata) &&
    metadata.primaryColumns.every((column) => column.isGenerated);
  if (!onlyPrimary && !uniqueBesideGeneratedKey) {
    throw new ConfigurationError(
      `fieldMap.id maps to "${id.metadata.propertyPath}" of entity ${metadata.name}, which must be its only primary column, ` +
      'or a unique column when the primary key is one the database generates.',
    );
  }
  const idType = typeof id.metadata.type === 'string' ? id.metadata.type.toLowerCase() : id.metadata.type === String ? 'string' : '';
  if (!ID_TYPES.has(idType) || id.metadata.isGenerated && id.metadata.generationStrategy !== 'uuid') {
    throw new ConfigurationError(
      `fieldMap.id maps to "${id.metadata.propertyPath}" of entity ${metadata.name}: it must be a string column ` +
      'that stablehand fills (task ids are 36-character time-ordered UUIDs), not a generated number.',
    );
  }
  const length = Number(id.metadata.length || 0);
  if (length > 0 && length < 36) {
    throw new ConfigurationError(
      `fieldMap.id maps to "${id.metadata.propertyPath}" of entity ${metadata.name}, which holds ${length} characters; task ids need 36.`,
    );
  }
  for (const [key, kind] of [['cleanedUp', 'boolean'], ['createdAt', 'date'], ['startedAt', 'date'], ['updatedAt', 'date'],
    ['completedAt', 'date'], ['failedAt', 'date'], ['duration', 'number'], ['heartbeatAt', 'date'], ['cancelRequestedAt', 'date'],
    ['retryAt', 'date'], ['retriedAt', 'date']] as const) {
    const column = columns.get(key);
    if (column && column.kind !== kind && column.kind !== 'text') {
      throw new ConfigurationError(
        `fieldMap.${key} maps to "${column.metadata.propertyPath}" of entity ${metadata.name}, a ${column.kind} column; ` +
        `it needs a ${kind} (or text) column.`,
      );
    }
  }
  // Texts need a text column; values that may be any JSON (a formatted user, the input, the
  // result) a JSON or text column; the progress a number, JSON or text column.
  const needs: readonly (readonly [RecordKey, readonly ColumnKind[], string])[] = [
    ...(['taskName', 'label', 'status', 'message', 'error', 'retryOf', 'retriedAs'] as const).map((key) => [key, ['text'], 'a text'] as const),
    ...(['user', 'affected', 'input', 'result', 'cancelRequestedBy', 'attemptErrors', 'retriedBy', 'milestones'] as const).map((key) => [key, ['json', 'text'], 'a JSON or text'] as const),
    ['progress', ['number', 'json', 'text'], 'a number, JSON or text'],
  ];
  for (const [key, kinds, what] of needs) {
    const column = columns.get(key);
    if (column && !kinds.includes(column.kind)) {
      throw new ConfigurationError(
        `fieldMap.${key} maps to "${column.metadata.propertyPath}" of entity ${metadata.name}, a ${column.kind} column; it needs ${what} column.`,
      );
    }
  }
  for (const key of ['attempt', 'maxAttempts'] as const) {
    const column = columns.get(key);
    if (column && column.kind !== 'number') {
      throw new ConfigurationError(
        `fieldMap.${key} maps to "${column.metadata.propertyPath}" of entity ${metadata.name}, a ${column.kind} column; it needs a number column.`,
      );
    }
  }
  const owner = columns.get('owner');
  if (owner && owner.kind !== 'text') {
    throw new ConfigurationError(
      `fieldMap.owner maps to "${owner.metadata.propertyPath}" of entity ${metadata.name}, a ${owner.kind} column; it needs a text column.`,
    );
  }
  const ownership = (['owner', 'heartbeatAt', 'cancelRequestedAt'] as const).filter((key) => columns.has(key));
  if (ownership.length > 0 && ownership.length < 3) {
    throw new ConfigurationError(
      `Entity ${metadata.name} stores ${ownership.join(' and ')} but not all of owner, heartbeatAt and cancelRequestedAt: ` +
      'map the three together (several processes on one database need them) or none.',
    );
  }
  const mapped = new Set([...columns.values()].map((column) => column.metadata));
  for (const column of metadata.columns) {
    const filledByDatabase = column.isGenerated || column.isCreateDate || column.isUpdateDate || column.isVersion ||
      column.default !== undefined || column.isNullable;
    if (!filledByDatabase && !mapped.has(column)) {
      throw new ConfigurationError(
        `Column "${column.propertyPath}" of entity ${metadata.name} is NOT NULL without a default and no fieldMap key fills it: ` +
        'map a key to it, give it a default, or make it nullable.',
      );
    }
  }
}

function resolveStatusValues(statusValues: StatusValues): Pick<RecordMapping, 'toDbStatus' | 'fromDbStatus'> {
  // Typed, but a JavaScript caller may pass anything.
  const given: unknown = statusValues;
  if (given === null || typeof given !== 'object') throw new ConfigurationError('statusValues must be an object.');
  const toDbStatus = {} as Record<TaskStatus, string>;
  const fromDbStatus = new Map<string, TaskStatus>();
  for (const key of Object.keys(statusValues)) {
    if (!TASK_STATUSES.includes(key as TaskStatus)) {
      throw new ConfigurationError(`statusValues has an unknown status "${key}"; the statuses are ${TASK_STATUSES.join(', ')}.`);
    }
  }
  for (const status of TASK_STATUSES) {
    const value = statusValues[status] ?? status;
    if (typeof value !== 'string' || !value) throw new ConfigurationError(`statusValues.${status} must be a non-empty string.`);
    if (fromDbStatus.has(value)) {
      throw new ConfigurationError(`statusValues gives "${value}" to both ${fromDbStatus.get(value)} and ${status}; each status needs its own value.`);
    }
    toDbStatus[status] = value;
    fromDbStatus.set(value, status);
  }
  return { toDbStatus, fromDbStatus };
}
