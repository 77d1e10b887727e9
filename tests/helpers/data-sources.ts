import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'reflect-metadata';
import { DataSource, type DataSourceOptions, type EntitySchema } from 'typeorm';
import { afterAll } from 'vitest';
import { stablehandEntities, stablehandMigrations } from '../../src/index.js';
import { ensureMysqlDatabase, ensurePostgresSchema, suiteNamespace } from './namespaces.js';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type EntityLike = Function | EntitySchema;

/** A database engine the suites can run against, and why it is skipped when it is not there. */
export interface Engine {
  name: 'sqlite' | 'postgres' | 'mysql';
  /** Null when the engine can run; otherwise the printed reason it is skipped. */
  skipReason: string | null;
  /** Opens a DataSource with the bundled entities (plus `entities`) and the bundled tables created by the migration. */
  open(entities?: EntityLike[], options?: { file?: string; synchronize?: boolean; applicationName?: string }): Promise<DataSource>;
}

const tempDirs: string[] = [];

/** A new empty folder under the OS temp dir, removed after the test file's last test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stablehand-test-'));
  tempDirs.push(dir);
  return dir;
}

// Registered while the importing test file is collected, so each file removes its own folders.
afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function openWith(base: DataSourceOptions, entities: EntityLike[], synchronize: boolean): Promise<DataSource> {
  const dataSource = new DataSource({
    ...base,
    entities: [...stablehandEntities, ...entities],
    migrations: stablehandMigrations,
    logging: false,
  });
  await dataSource.initialize();
  if (base.type !== 'better-sqlite3') {
    // Server databases outlive the test: start every suite from empty tables.
    const schema = base.type === 'postgres' && base.schema ? `${dataSource.driver.escape(base.schema)}.` : '';
    // (stablehand_task_away: the outage test renames the table, and a run stopped half-way leaves it.)
    for (const table of ['stablehand_task_key', 'stablehand_task_lock', 'stablehand_task', 'stablehand_task_away', 'migrations', ...entities.map(tableOf)]) {
      await dataSource.query(`DROP TABLE IF EXISTS ${schema}${dataSource.driver.escape(table)}`);
    }
  }
  await dataSource.runMigrations();
  if (synchronize && entities.length > 0) await dataSource.synchronize();
  return dataSource;
}

/** A table's name as raw SQL must write it on this DataSource: quoted, and in its schema when it has one. */
export function tableName(dataSource: DataSource, table: string): string {
  const schema = (dataSource.options as { schema?: string }).schema;
  const escape = (name: string) => dataSource.driver.escape(name);
  return schema ? `${escape(schema)}.${escape(table)}` : escape(table);
}

function tableOf(entity: EntityLike): string {
  if (typeof entity !== 'function' && entity.options.tableName) return entity.options.tableName;
  const name = (entity as { name: string }).name;
  return name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

export const sqlite: Engine = {
  name: 'sqlite',
  skipReason: null,
  open: (entities = [], options = {}) => openWith(
    { type: 'better-sqlite3', database: options.file ?? join(tempDir(), 'tasks.db'), enableWAL: true },
    entities,
    options.synchronize ?? true,
  ),
};

function server(name: 'postgres' | 'mysql', variable: string, type: 'postgres' | 'mysql'): Engine {
  const url = process.env[variable];
  return {
    name,
    skipReason: url ? null : `${variable} is not set, so the ${name} suite is skipped`,
    // Each test file gets a schema (PostgreSQL) or database (MariaDB) of its own, named after it.
    open: async (entities = [], options = {}) => {
      if (!url) throw new Error(`${variable} is not set`);
      const namespace = suiteNamespace();
      const server = url;
      if (type === 'postgres') {
        await ensurePostgresSchema(server, namespace);
        const name = options.applicationName === undefined ? {} : { applicationName: options.applicationName };
        return openWith({ type, url: server, schema: namespace, ...name }, entities, options.synchronize ?? true);
      }
      await ensureMysqlDatabase(server, namespace);
      const own = new URL(server);
      own.pathname = `/${namespace}`;
      return openWith({ type, url: own.href, charset: 'utf8mb4' }, entities, options.synchronize ?? true);
    },
  };
}

export const postgres = server('postgres', 'STABLEHAND_TEST_POSTGRES_URL', 'postgres');
export const mysql = server('mysql', 'STABLEHAND_TEST_MYSQL_URL', 'mysql');

/** Every engine; suites use `describe.skipIf(engine.skipReason)` and print the reason. */
export const engines: Engine[] = [sqlite, postgres, mysql];

for (const engine of engines) {
  if (engine.skipReason) console.warn(`[stablehand tests] ${engine.skipReason}`);
}
