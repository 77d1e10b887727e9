import type { Driver } from 'typeorm';
import type { MappedColumn, RecordMapping } from './record-mapping.js';
import type { TaskStatus } from '../../core/status.js';
import { stringOf } from '../../core/json.js';
import { storableJson, storableText } from './storable.js';

/**
 * Converts a logical value into what the column stores: JSON columns get JSON text, text columns
 * strings (JSON for anything else), number columns numbers (a progress payload its `percent`),
 * and dates and booleans go through the TypeORM driver so the host's repositories read them back
 * exactly as if TypeORM had written them. Texts and JSON are made storable first (see
 * storable.ts): no NUL character, nothing longer than the column holds.
 */
export function encodeValue(column: MappedColumn, value: unknown, driver: Driver, mapping: RecordMapping): unknown {
  if (value === null || value === undefined) return null;
  if (column.key === 'status') return mapping.toDbStatus[value as TaskStatus];
  switch (column.kind) {
    case 'json':
      return storableJson(value, column.maxChars);
    case 'text':
      if (typeof value === 'string') return storableText(value, column.maxChars);
      if (value instanceof Date) return value.toISOString();
      return storableJson(value, column.maxChars);
    case 'number': {
      const number = typeof value === 'object' ? (value as { percent?: unknown }).percent : value;
      if (typeof number !== 'number' || !Number.isFinite(number)) return null;
      // An integer column (a host's `progress: number`) would refuse 33.3: it gets 33.
      return column.integer ? Math.round(number) : number;
    }
    case 'date': {
      if (!(value instanceof Date)) return driver.preparePersistentValue(value, column.metadata);
      const time = value.getTime();
      const last = column.lastDate;
      if (last?.time === time) return last.encoded;
      const encoded: unknown = driver.preparePersistentValue(value, column.metadata);
      if (last) {
        last.time = time;
        last.encoded = encoded;
      } else {
        column.lastDate = { time, encoded };
      }
      return encoded;
    }
    default:
      return driver.preparePersistentValue(value, column.metadata);
  }
}

/** The inverse of {@link encodeValue}, for values read back with raw SQL. */
export function decodeValue(column: MappedColumn, raw: unknown, driver: Driver, mapping: RecordMapping): unknown {
  if (raw === null || raw === undefined) return null;
  if (column.key === 'status') return mapping.fromDbStatus.get(stringOf(raw)) ?? raw;
  switch (column.kind) {
    case 'json':
      return typeof raw === 'string' ? parseJson(raw) : raw;
    case 'text':
      // Progress and attempt errors written to a text column are JSON; read them back as such.
      return (column.key === 'progress' || column.key === 'attemptErrors') && typeof raw === 'string' ? parseJson(raw) : stringOf(raw);
    case 'number':
      return typeof raw === 'number' ? raw : Number(raw);
    default:
      return driver.prepareHydratedValue(raw, column.metadata);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
