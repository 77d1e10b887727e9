/**
 * HTTP benchmark of the task router (`tsx bench/http.ts`). Prints, from one run on one machine:
 * - p50 latency of `GET status/` (the page's first poll: 50 newest tasks, a full JSON body);
 * - p50 latency of an idle poll: the same request with `If-None-Match`, answered 304;
 * - requests per second of both under a few concurrent connections;
 * - the same two with `statusCacheMs: 0`, where every request reads the store.
 *
 * The store holds 10,000 finished records and 100 running tasks in a SQLite file, all written
 * through the public API. The server runs in a child process (this file with `--serve`), so the
 * load generator never shares its event loop. Latencies come from autocannon's per-response
 * timings (its own histogram keeps whole milliseconds and skips 304s, too coarse here).
 * No assertions: the figures are for reading.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'reflect-metadata';
import autocannon from 'autocannon';
import express from 'express';
import { DataSource } from 'typeorm';
import { stablehandMigrations } from '../src/index.js';
import { stablehandEntities } from '../src/adapters/typeorm/task-record-entity.js';
import { ModelTrackingTaskManager } from '../src/adapters/typeorm/model-tracking-task-manager.js';
import { createTaskRouter } from '../src/ui/create-task-router.js';

const FINISHED = Number(process.env.BENCH_FINISHED ?? 10_000);
const RUNNING = 100;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function seed(manager: ModelTrackingTaskManager, release: Promise<void>): Promise<void> {
  manager.define('groom', { label: 'Brushing parade manes', run: () => 'Every stall passed inspection.' });
  manager.define('hold', { label: 'Restocking hay loft', run: async ({ progress }) => {
    progress({ percent: 40, message: 'Bale 4 of 10' });
    await release;
  } });
  let launched = 0;
  const worker = async (): Promise<void> => {
    while (launched < FINISHED) {
      launched++;
      await manager.launch('groom');
    }
  };
  await Promise.all(Array.from({ length: 200 }, worker));
  // Wait until every finished task is durable before the running ones go on top.
  for (;;) {
    const active = await manager.listTasks({ status: ['PENDING', 'RUNNING'], limit: 1 });
    if (active.tasks.length === 0) break;
    await new Promise((done) => setTimeout(done, 50));
  }
  for (let i = 0; i < RUNNING; i++) await manager.launch('hold');
  for (;;) {
    const running = await manager.listTasks({ status: 'RUNNING', limit: RUNNING });
    if (running.tasks.length === RUNNING && running.tasks.every((t) => t.progress !== null)) break;
    await new Promise((done) => setTimeout(done, 50));
  }
}

interface Measured {
  p50: number;
  p99: number;
  perSecond: number;
  statuses: Record<number, number>;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

async function measure(url: string, connections: number, headers: Record<string, string>): Promise<Measured> {
  const times: number[] = [];
  const statuses: Record<number, number> = {};
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({ url, connections, duration: SECONDS, headers }, (error, outcome) => {
      if (error) reject(error as Error);
      else resolve(outcome);
    });
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      times.push(responseTime);
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    });
  });
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99), perSecond: result.requests.average, statuses };
}

/** The child: seeds the store, serves the router, reports its port, and stops when told. */
async function serve(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'stablehand-bench-http-'));
  const dataSource = new DataSource({
    type: 'better-sqlite3',
    database: join(dir, 'tasks.db'),
    enableWAL: true,
    entities: stablehandEntities,
    migrations: stablehandMigrations,
  });
  await dataSource.initialize();
  await dataSource.runMigrations();
  const manager = new ModelTrackingTaskManager({ dataSource, concurrency: RUNNING + 28 });
  let releaseAll!: () => void;
  const release = new Promise<void>((done) => { releaseAll = done; });
  await manager.start();

  const seeding = performance.now();
  await seed(manager, release);
  const seconds = (performance.now() - seeding) / 1000;
  const [{ count }] = await dataSource.query<{ count: number }[]>('SELECT COUNT(*) AS count FROM stablehand_task');

  const app = express();
  app.use('/tasks', createTaskRouter(manager));
  // The same routes reading the store on every request, to show what the cache saves.
  app.use('/uncached', createTaskRouter(manager, { statusCacheMs: 0 }));
  const server = await new Promise<Server>((done) => {
    const listening = app.listen(0, '127.0.0.1', () => done(listening));
  });
  process.send?.({ port: (server.address() as AddressInfo).port, count, seconds });
  process.once('message', () => {
    void (async () => {
      await new Promise((done) => server.close(done));
      releaseAll();
      await manager.stop({ graceMs: 1000 });
      await dataSource.destroy();
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    })();
  });
}

async function main(): Promise<void> {
  const child = fork(new URL(import.meta.url).pathname, ['--serve'], { execArgv: ['--import', 'tsx'] });
  const ready = await new Promise<{ port: number; count: number; seconds: number }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { port: number; count: number; seconds: number }));
    child.once('exit', (code) => reject(new Error(`server exited with ${String(code)}`)));
  });
  console.log(`store: ${fmt(ready.count)} records (${fmt(FINISHED)} finished + ${RUNNING} running), seeded in ${fmt(ready.seconds, 1)} s`);
  const origin = `http://127.0.0.1:${ready.port}`;
  try {
    const first = await fetch(`${origin}/tasks/status/`);
    const etag = first.headers.get('etag') ?? '';
    const body = await first.text();
    const revalidated = await fetch(`${origin}/tasks/status/`, { headers: { 'If-None-Match': etag } });
    console.log(`GET status/: ${first.status}, ${fmt(Buffer.byteLength(body))} bytes; with If-None-Match: ${revalidated.status}`);
    console.log(`${SECONDS} s per run; latency over 1 connection, throughput over 10 connections`);
    for (const [name, path, headers] of [
      ['GET status/ first page', '/tasks/status/', {}],
      ['idle poll, 304', '/tasks/status/', { 'If-None-Match': etag }],
      ['GET status/, statusCacheMs 0', '/uncached/status/', {}],
      ['idle poll, 304, statusCacheMs 0', '/uncached/status/', { 'If-None-Match': etag }],
    ] as const) {
      const single = await measure(`${origin}${path}`, 1, headers);
      const loaded = await measure(`${origin}${path}`, 10, headers);
      const codes = Object.entries(single.statuses).map(([code, n]) => `${fmt(n)} × ${code}`).join(', ');
      console.log(
        `${name.padEnd(33)} p50 ${fmt(single.p50, 3)} ms  p99 ${fmt(single.p99, 3)} ms  ` +
        `${fmt(loaded.perSecond)} req/s  (${codes})`,
      );
    }
  } finally {
    child.send('stop');
  }
}

const run = process.argv.includes('--serve') ? serve : main;
run().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
