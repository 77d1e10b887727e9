import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stablehandEntities, stablehandMigrations, type TaskRunner } from 'stablehand';
import { BullMqRunner } from 'stablehand/bullmq';
import { DataSource } from 'typeorm';
import { AppTaskManager } from './app-task-manager.js';
import { pickRoutineLabel, runRoutine } from './routines.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The demo's database: PostgreSQL (schema `stablehand_demo`) when DATABASE_URL is set, as in the
 * cluster mode; otherwise an embedded SQLite file (STABLEHAND_DB, or one under data/).
 */
export async function openDemoDatabase(): Promise<{ dataSource: DataSource; description: string }> {
  const url = process.env.DATABASE_URL;
  const file = process.env.STABLEHAND_DB ?? join(here, 'data', 'stablehand-demo.db');
  const dataSource = url
    ? new DataSource({ type: 'postgres', url, schema: 'stablehand_demo', entities: stablehandEntities, migrations: stablehandMigrations })
    : new DataSource({ type: 'better-sqlite3', database: file, enableWAL: true, entities: stablehandEntities, migrations: stablehandMigrations });
  await dataSource.initialize();
  // Tables come from the shipped migrations, as in a host app; never from synchronize.
  if (url) await migrateAlone(dataSource);
  else await dataSource.runMigrations();
  return { dataSource, description: url ? `PostgreSQL ${new URL(url).host}, schema stablehand_demo` : file };
}

/**
 * Runs the migrations holding a PostgreSQL advisory lock, so that the cluster's processes, which
 * all start at once, migrate one after the other instead of racing to create the same tables.
 */
async function migrateAlone(dataSource: DataSource): Promise<void> {
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock(72010)');
    await dataSource.query('CREATE SCHEMA IF NOT EXISTS "stablehand_demo"');
    await dataSource.runMigrations();
  } finally {
    await lock.query('SELECT pg_advisory_unlock(72010)').catch(() => undefined);
    await lock.release();
  }
}

/** The BullMQ runner when REDIS_URL is set (the cluster mode); none otherwise (tasks run in process). */
export function demoRunner(concurrency: number): TaskRunner | undefined {
  const url = process.env.REDIS_URL;
  return url ? new BullMqRunner({ connection: { url }, queueName: 'stable-routines', concurrency }) : undefined;
}

/** The demo's manager, its one kind of routine defined: every process of the cluster makes the same. */
export function demoManager(dataSource: DataSource, runner: TaskRunner | undefined, concurrency: number, instanceId?: string): AppTaskManager {
  const manager = new AppTaskManager({
    dataSource,
    ...(runner ? { runner } : { concurrency }),
    ...(instanceId ? { instanceId } : {}),
    cleanupIntervalMs: 60 * 60 * 1000,
    cleanup: { olderThanMs: 7 * 24 * 3600 * 1000, deleteRecords: true },
  });
  manager.define('stable-routine', { label: pickRoutineLabel, run: runRoutine, timeoutMs: 60_000 });
  return manager;
}
