import { createRequire } from 'node:module';
import { join } from 'node:path';
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { MemoryRecordStore, TypeOrmRecordStore, stablehandEntities, type RecordStore } from '../../src/index.js';
import { tempDir } from '../helpers/data-sources.js';
import { ensureMysqlDatabase, ensurePostgresSchema, suiteNamespace } from '../helpers/namespaces.js';
import { recordingLogger } from '../helpers/wait.js';

/** A record store under test, and how to get a fresh, empty one. */
export interface StoreFixture {
  name: string;
  /** Null when the store can be tested here; otherwise the printed reason it is skipped. */
  skipReason: string | null;
  /** Whether records written by one store instance are read by another on the same database. */
  shared: boolean;
  /** A store on empty tables, opened. */
  open(): Promise<RecordStore>;
  /** A second store on the same data, opened (only when `shared`). */
  openAnother(): Promise<RecordStore>;
  /** Closes every store and connection the fixture opened. */
  close(): Promise<void>;
}

interface DataSourceLike {
  initialize(): Promise<unknown>;
  destroy(): Promise<void>;
  synchronize(): Promise<void>;
  getRepository(entity: unknown): { clear(): Promise<void> };
  isInitialized: boolean;
}

/** A fixture over TypeORM DataSources made by `make`, tables created by TypeORM from the bundled entities. */
function typeOrmFixture(name: string, skipReason: string | null, make: () => Promise<DataSourceLike>): StoreFixture {
  const sources: DataSourceLike[] = [];
  const stores: RecordStore[] = [];
  let current: DataSourceLike | null = null;
  const openOn = async (dataSource: DataSourceLike) => {
    const store = new TypeOrmRecordStore({ dataSource: dataSource as unknown as DataSource, logger: recordingLogger() });
    await store.open();
    stores.push(store);
    return store;
  };
  return {
    name,
    skipReason,
    shared: true,
    async open() {
      current = await make();
      sources.push(current);
      await current.synchronize();
      for (const entity of stablehandEntities) await current.getRepository(entity).clear();
      return openOn(current);
    },
    async openAnother() {
      if (!current) throw new Error('open() first');
      return openOn(current);
    },
    async close() {
      for (const store of stores.splice(0)) await store.close();
      for (const source of sources.splice(0)) if (source.isInitialized) await source.destroy();
      current = null;
    },
  };
}

const POSTGRES_URL = process.env.STABLEHAND_TEST_POSTGRES_URL;
const MYSQL_URL = process.env.STABLEHAND_TEST_MYSQL_URL;
const require = createRequire(import.meta.url);

function typeorm03(): { DataSource: new (options: object) => DataSourceLike } | null {
  try {
    return require('typeorm-03') as { DataSource: new (options: object) => DataSourceLike };
  } catch {
    return null;
  }
}

/** Every record store stablehand ships, on every database it supports. */
export function storeFixtures(): StoreFixture[] {
  const file = () => join(tempDir(), 'contract.db');
  const legacy = typeorm03();
  return [
    {
      name: 'MemoryRecordStore',
      skipReason: null,
      shared: false,
      async open() {
        const store = new MemoryRecordStore();
        await store.open();
        return store;
      },
      openAnother: () => Promise.reject(new Error('a memory store is not shared')),
      close: () => Promise.resolve(),
    },
    typeOrmFixture('TypeOrmRecordStore on better-sqlite3', null, async () => {
      const source = new DataSource({ type: 'better-sqlite3', database: file(), enableWAL: true, entities: stablehandEntities });
      await source.initialize();
      return source;
    }),
    typeOrmFixture(
      'TypeOrmRecordStore on node-sqlite3 (TypeORM 0.3)',
      legacy ? null : 'the typeorm-03 dev dependency is not installed, so the node-sqlite3 store suite is skipped',
      async () => {
        const source = new (legacy!).DataSource({ type: 'sqlite', database: file(), entities: stablehandEntities });
        await source.initialize();
        return source;
      },
    ),
    typeOrmFixture(
      'TypeOrmRecordStore on PostgreSQL',
      POSTGRES_URL ? null : 'STABLEHAND_TEST_POSTGRES_URL is not set, so the PostgreSQL store suite is skipped',
      async () => {
        const schema = suiteNamespace();
        await ensurePostgresSchema(POSTGRES_URL!, schema);
        const source = new DataSource({ type: 'postgres', url: POSTGRES_URL, schema, entities: stablehandEntities });
        await source.initialize();
        return source;
      },
    ),
    typeOrmFixture(
      'TypeOrmRecordStore on MariaDB/MySQL',
      MYSQL_URL ? null : 'STABLEHAND_TEST_MYSQL_URL is not set, so the MariaDB/MySQL store suite is skipped',
      async () => {
        const database = suiteNamespace();
        await ensureMysqlDatabase(MYSQL_URL!, database);
        const url = new URL(MYSQL_URL!);
        url.pathname = `/${database}`;
        const source = new DataSource({ type: 'mysql', url: url.href, charset: 'utf8mb4', entities: stablehandEntities });
        await source.initialize();
        return source;
      },
    ),
  ];
}
