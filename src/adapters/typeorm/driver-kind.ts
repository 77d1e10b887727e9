import type { DataSource } from 'typeorm';
import { ConfigurationError } from '../../core/errors.js';

/**
 * The database drivers the TypeORM store supports: each decides both the SQL dialect and how
 * library transactions are kept apart from the host's. `sqlite` is node-sqlite3 on TypeORM 0.3
 * (TypeORM 1 knows no "sqlite" type).
 */
export type DriverKind = 'better-sqlite3' | 'sqlite' | 'postgres' | 'mysql';

const KIND_OF_TYPE: Readonly<Partial<Record<string, DriverKind>>> = {
  'better-sqlite3': 'better-sqlite3', sqlite: 'sqlite', postgres: 'postgres', mysql: 'mysql', mariadb: 'mysql',
};

/** The driver kind of a DataSource; a {@link ConfigurationError} for any other database. */
export function driverKindOf(dataSource: DataSource): DriverKind {
  const type: string = dataSource.options.type;
  const kind = KIND_OF_TYPE[type];
  if (!kind) {
    throw new ConfigurationError(
      `stablehand's TypeORM store supports better-sqlite3, sqlite, postgres, mysql and mariadb; this DataSource is "${type}".`,
    );
  }
  return kind;
}
