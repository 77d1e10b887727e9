/**
 * The stablehand demo host: an Express app on embedded SQLite (better-sqlite3, WAL) with the task
 * page mounted at /tasks/. Run it with `npm start`. Environment: PORT (3000), HOST (127.0.0.1),
 * STABLEHAND_DB (a file under examples/demo-app/data/), DURATION_RANGE ("3,10" seconds),
 * FAILURE_RATE (0.2); for the cluster mode (`npm run demo:cluster`) DATABASE_URL and REDIS_URL.
 */
import 'reflect-metadata';
import express from 'express';
import { createTaskRouter } from 'stablehand';
import type { DemoUser } from './app-task-manager.js';
import { homePage, taskPageLayout } from './layout.js';
import { ROUTINE_KIND, STABLE_ROUTINES_TEXTS } from './routines.js';
import { demoManager, demoRunner, openDemoDatabase } from './setup.js';

const port = Number(process.env.PORT ?? 3000);
// Loopback only unless told otherwise: a demo is no public service.
const host = process.env.HOST ?? '127.0.0.1';

const { dataSource, description } = await openDemoDatabase();
// In the cluster mode (REDIS_URL set) the web process only launches; the workers run routines.
const runner = demoRunner(Number(process.env.WEB_CONCURRENCY ?? 0));
const manager = demoManager(dataSource, runner, 4, process.env.INSTANCE_ID);
// Marks routines an earlier run left PENDING or RUNNING as "Abandoned — app restarted".
await manager.start();

const app = express();
app.disable('x-powered-by');
app.get('/', (_req, res) => {
  res.type('html').send(homePage());
});
app.use('/tasks', createTaskRouter(manager, {
  ...STABLE_ROUTINES_TEXTS,
  // The routine the page's Start button runs, for a chosen pony (the router offers none unless told).
  kinds: [ROUTINE_KIND],
  getUser: (req): DemoUser => ({ name: 'Stable visitor', address: req.ip }),
  layout: taskPageLayout,
}));

const server = app.listen(port, host, () => {
  console.log(`stablehand demo: http://${host === '127.0.0.1' ? 'localhost' : host}:${port}/tasks/ (database: ${description}${runner ? '; routines run by workers on Redis' : ''})`);
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
