import type { DataSource } from 'typeorm';

/** A statement the store ran, with its parameters. */
export interface RanStatement {
  sql: string;
  params: unknown[];
}

interface NativeStatement {
  run(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown;
}

/**
 * Records every statement starting with `verb` that runs on `dataSource` from now on: through
 * TypeORM's query runners (PostgreSQL, MySQL), or on better-sqlite3's connection, where the store
 * prepares its own statements.
 */
export function recordStatements(dataSource: DataSource, verb: string): RanStatement[] {
  const seen: RanStatement[] = [];
  if (dataSource.options.type === 'better-sqlite3') {
    const db = (dataSource.driver as unknown as { databaseConnection: { prepare(sql: string): NativeStatement } }).databaseConnection;
    const prepare = db.prepare.bind(db);
    db.prepare = (sql: string) => {
      const statement = prepare(sql);
      if (!sql.startsWith(verb)) return statement;
      const run = statement.run.bind(statement);
      const all = statement.all.bind(statement);
      statement.run = (params: unknown[]) => (seen.push({ sql, params }), run(params));
      statement.all = (params: unknown[]) => (seen.push({ sql, params }), all(params));
      return statement;
    };
    return seen;
  }
  const create = dataSource.createQueryRunner.bind(dataSource);
  dataSource.createQueryRunner = (mode) => {
    const runner = create(mode);
    const query = runner.query.bind(runner);
    runner.query = (sql: string, params?: unknown[], structured?: boolean) => {
      if (sql.startsWith(verb)) seen.push({ sql, params: params ?? [] });
      return query(sql, params, structured as true);
    };
    return runner;
  };
  return seen;
}
