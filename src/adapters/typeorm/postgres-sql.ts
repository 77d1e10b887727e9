import type { Driver } from 'typeorm';
import type { MappedColumn } from './record-mapping.js';

// Types whose bare name, without a length, would still constrain a value: an explicit cast to them
// cuts silently (`'abc'::character` is 'a'), where an assignment raises an error.
const UNBOUNDED: Readonly<Partial<Record<string, string>>> = {
  character: 'bpchar', char: 'bpchar', bit: 'bit varying',
};

/**
 * The type a VALUES column feeding `column` is cast to on PostgreSQL, which otherwise reads an
 * untyped placeholder in a VALUES list as text, then refuses to assign text to a timestamp, number,
 * boolean or JSON column. It is the column's own type without length or precision: an explicit
 * cast to `varchar(36)` would cut a longer value silently, while the assignment to the column
 * checks the length, rounds and raises errors exactly as a one-row UPDATE binding the value
 * directly would.
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
  return metadata.isArray ? `${type}[]` : type;
}

/** What a multi-row guarded UPDATE on PostgreSQL is built from; every name is quoted already. */
export interface TypedValuesUpdate {
  table: string;
  /** The id column. */
  id: string;
  /** The columns set, in the order of their values in each row after the id (and writer). */
  columns: readonly string[];
  /** The cast of each value of a row: the id's, the writer's (when fenced), then the columns'. */
  types: readonly string[];
  /** Whether each row carries the writer's owner after its id (as `v.writer`). */
  fenced: boolean;
  count: number;
  /** The fence condition on `t` and `v`, with its placeholders numbered after the rows'. */
  fence: string;
  /** The placeholder of every row's id as one array, cast (`$n::varchar[]`). */
  ids: string;
}

/**
 * `UPDATE t SET ... FROM (VALUES ...) AS v(...) WHERE t.id = v.id AND t.id = ANY(ids) AND <fence>`
 * with the first row's placeholders cast: PostgreSQL types each VALUES column from its typed values
 * and casts the untyped placeholders of the other rows to that type, so one cast per column is
 * enough and the text of a 256-row statement stays short. The ids again as an array give the
 * planner a primary-key path for the whole batch; the fence keeps the status index out of reach
 * (see RecordSql's statusBesideId).
 */
export function typedValuesUpdate(update: TypedValuesUpdate): string {
  const { columns, types, count } = update;
  const width = types.length;
  const names = ['id', ...(update.fenced ? ['writer'] : []), ...columns.map((_, i) => `c${i + 1}`)];
  const lead = names.length - columns.length;
  const set = columns.map((column, i) => `${column} = v.${names[lead + i]}`).join(', ');
  const rows: string[] = new Array<string>(count);
  let index = 0;
  for (let row = 0; row < count; row++) {
    const values: string[] = new Array<string>(width);
    for (let i = 0; i < width; i++) values[i] = row === 0 ? `$${++index}::${types[i]}` : `$${++index}`;
    rows[row] = `(${values.join(', ')})`;
  }
  return `UPDATE ${update.table} AS t SET ${set} FROM (VALUES ${rows.join(', ')}) AS v(${names.join(', ')}) ` +
    `WHERE t.${update.id} = v.id AND t.${update.id} = ANY(${update.ids}) AND ${update.fence}`;
}
