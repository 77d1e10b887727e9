/**
 * The stablehand demo host: an Express app on embedded SQLite (better-sqlite3, WAL) with the task
 * page mounted at /tasks/. Run it with `npm start`. Environment: PORT (3000), STABLEHAND_DB (a file
 * under examples/demo-app/data/), DURATION_RANGE ("3,10" seconds), FAILURE_RATE (0.2).
 */
import 'reflect-metadata';
import express from 'express';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTaskRouter, stablehandEntities, stablehandMigrations } from 'stablehand';
import { DataSource } from 'typeorm';
import { AppTaskManager, type DemoUser } from './app-task-manager.js';
import { homePage, taskPageLayout } from './layout.js';
import { STABLE_ROUTINES_TEXTS, pickRoutineLabel, runRoutine } from './routines.js';

const here = dirname(fileURLToPath(import.meta.url));
const port = Number(process.env.PORT ?? 3000);
const database = process.env.STABLEHAND_DB ?? join(here, 'data', 'stablehand-demo.db');

const dataSource = new DataSource({
  type: 'better-sqlite3',
  database,
  enableWAL: true,
  entities: stablehandEntities,
  migrations: stablehandMigrations,
});
await dataSource.initialize();
// Tables come from the shipped migration, as in a host app; never from synchronize.
await dataSource.runMigrations();

const manager = new AppTaskManager({ dataSource, concurrency: 4, cleanupIntervalMs: 60 * 60 * 1000, cleanup: { olderThanMs: 7 * 24 * 3600 * 1000, deleteRecords: true } });
manager.define('stable-routine', { label: pickRoutineLabel, run: runRoutine, timeoutMs: 60_000 });
// Marks routines an earlier run left PENDING or RUNNING as "Abandoned — app restarted".
await manager.start();

const app = express();
app.disable('x-powered-by');
app.get('/', (_req, res) => {
  res.type('html').send(homePage());
});
app.use('/tasks', createTaskRouter(manager, {
  ...STABLE_ROUTINES_TEXTS,
  getUser: (req): DemoUser => ({ name: 'Stable visitor', address: req.ip }),
  layout: taskPageLayout,
}));

const server = app.listen(port, () => {
  console.log(`stablehand demo: http://localhost:${port}/tasks/ (database: ${database})`);
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: letting running routines finish (up to 5 s), then stopping.`);
  server.close();
  await manager.stop({ graceMs: 5_000 });
  await dataSource.destroy();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
