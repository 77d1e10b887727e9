/**
 * A worker of the demo's cluster mode (`npm run demo:cluster` starts two): runs stable routines
 * from the BullMQ queue on REDIS_URL, recording them in DATABASE_URL. SIGTERM or SIGINT stops it
 * after its running routines finish.
 */
import 'reflect-metadata';
import { runWorker } from 'stablehand';
import { demoManager, demoRunner, openDemoDatabase } from './setup.js';

const { dataSource } = await openDemoDatabase();
const runner = demoRunner(Number(process.env.WORKER_CONCURRENCY ?? 2));
if (!runner) throw new Error('The demo worker needs REDIS_URL.');
const worker = await runWorker(demoManager(dataSource, runner, 0, process.env.INSTANCE_ID), { graceMs: 10_000 });
console.log('stablehand demo worker: taking routines');
await worker.stopped;
await dataSource.destroy();
process.exit(0);
