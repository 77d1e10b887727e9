import type { Driver } from 'typeorm';
import type { MappedColumn } from './record-mapping.js';

// Types whose bare name, without a length, would still constrain a value: an explicit cast to them
// cuts silently (`'abc'::character` is 'a'), where an assignment raises an error.
const UNBOUNDED: Readonly<Partial<Record<string, string>>> = {
  character: 'bpchar', char: 'bpchar', bit: 'bit varying',
};

/**
 * The element type of an array parameter feeding `column` on PostgreSQL, which has to be told:
 * it will not assign text to a timestamp, number, boolean or JSON column. It is the column's own
 * type without length or precision: an explicit cast to `varchar(36)` would cut a longer value
 * silently, while the assignment to the column checks the length, rounds and raises errors
 * exactly as a one-row UPDATE binding the value directly would.
 */
export function postgresValueType(column: MappedColumn, driver: Driver): string {
  const metadata = column.metadata;
  const normalized = driver.normalizeType(metadata);
  let type = UNBOUNDED[normalized] ?? normalized;
  if (type === 'enum') {
    // TypeORM names the enum type it creates this way (PostgresQueryRunner.buildEnumName).
    const { schema, tableName } = driver.parseTableName(metadata.entityMetadata);
    const name = metadata.enumName ?? `${tableName}_${metadata.databaseName.toLowerCase()}_enum`;
    type = schema ? `${driver.escape(schema)}.${driver.escape(name)}` : driver.escape(name);
  }
  return type;
}

/**
 * `INSERT INTO table (columns) SELECT * FROM unnest($1::type[], $2::type[], ...)`: one array
 * parameter per column, whatever the number of rows. A `VALUES` list binds a parameter per value
 * and is planned anew each time (a 256-row one took 8 ms to plan, three times its execution
 * here); this text is the same for every batch and is planned in a fraction of a millisecond.
 */
export function unnestInsert(table: string, columns: readonly string[], types: readonly string[]): string {
  return `INSERT INTO ${table} (${columns.join(', ')}) SELECT * FROM unnest(${arrays(types, 1)})`;
}

/** What a multi-row guarded UPDATE on PostgreSQL is built from; every name is quoted already. */
export interface UnnestUpdate {
  table: string;
  /** The id column. */
  id: string;
  /** The columns set, in the order of their arrays after the ids' (and the writers'). */
  columns: readonly string[];
  /** The element type of each array: the id's, the writer's (when fenced), then the columns'. */
  types: readonly string[];
  /** Whether the second array holds each row's writer (as `v.writer`). */
  fenced: boolean;
  /** The fence condition on `t` and `v`, with its placeholders numbered after the arrays'. */
  fence: string;
}

/**
 * `UPDATE t SET ... FROM unnest($1::id[], ...) AS v(...) WHERE t.id = v.id AND t.id = ANY($1) AND <fence>`:
 * every row's value of a column in one array, so one text serves every batch of a shape. The
 * ids again as `ANY($1)` give the planner a primary-key path for the whole batch; the fence keeps
 * the status index out of reach (see RecordSql's statusBesideId).
 */
export function unnestUpdate(update: UnnestUpdate): string {
  const { columns, types } = update;
  const names = ['id', ...(update.fenced ? ['writer'] : []), ...columns.map((_, i) => `c${i + 1}`)];
  const lead = names.length - columns.length;
  const set = columns.map((column, i) => `${column} = v.${names[lead + i]}`).join(', ');
  return `UPDATE ${update.table} AS t SET ${set} FROM unnest(${arrays(types, 1)}) AS v(${names.join(', ')}) ` +
    `WHERE t.${update.id} = v.id AND t.${update.id} = ANY($1::${types[0]}[]) AND ${update.fence}`;
}

/** `$first::types[0][], $first+1::types[1][], ...`. */
function arrays(types: readonly string[], first: number): string {
  return types.map((type, i) => `$${first + i}::${type}[]`).join(', ');
}
