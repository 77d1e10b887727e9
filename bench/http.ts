/**
 * HTTP benchmark of the task router over a large store (`npm run bench:http`). Prints, from one
 * run on one machine, p50, p99 and max latency over one connection (a max far above the p99 is
 * a recount or a metrics computation holding the event loop: better-sqlite3 is synchronous) and
 * requests per second over ten:
 * - the first page `GET status/` (its counts come from the router's 2 s counts cache), and the
 *   idle poll answered 304;
 * - a status-filtered page (`?status=FAILED`), an affected-object lookup (`?affected=order:42`),
 *   a search by a label word (`?q=march`) and by a word of a kind's name (`?q=invoice`), and an
 *   older page (`?before=` a cursor half-way down the table);
 * - each of those also through a router with `statusCacheMs: 0`, which reads the store on every
 *   request (the honest figure for a page nobody else is polling); the targets are read there;
 * - `GET metrics/` (the manager caches it for `metricsCacheMs`, 15 s) and the HTML page `GET /`;
 * - timed once in the server process: a cold `countTasks()` per filter and a cold `metrics()`,
 *   computed without any cache of the library (SQLite's own page cache is warm from the run).
 *
 * The store: `BENCH_RECORDS` finished records (default 1,000,000) created over the last 30 days,
 * generated straight into the SQLite file (see seed-records.ts) after `stablehandMigrations` made
 * the tables, then 100 running tasks launched through the public API. `BENCH_SEED=api` writes the
 * finished records through `launch()` instead (slow: use it with `BENCH_RECORDS=10000`).
 * `BENCH_SECONDS` sets the length of each run (default 5).
 *
 * The server runs in a child process (this file with `--serve`), so the load generator never
 * shares its event loop. Latencies come from autocannon's per-response timings (its own histogram
 * keeps whole milliseconds and skips 304s, too coarse here). No assertions: the figures are for
 * reading.
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
import { StablehandTaskRecord, stablehandEntities } from '../src/adapters/typeorm/task-record-entity.js';
import { ModelTrackingTaskManager } from '../src/adapters/typeorm/model-tracking-task-manager.js';
import { createTaskRouter } from '../src/ui/create-task-router.js';
import { BENCH_KINDS, ordersFor, seedRecords } from './seed-records.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? process.env.BENCH_FINISHED ?? 1_000_000);
const THROUGH_API = process.env.BENCH_SEED === 'api';
const RUNNING = 100;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const SPAN_MS = 30 * 86_400_000;
const AFFECTED = 'order:42';
const LABEL_WORD = 'march';
const KIND_WORD = 'invoice';

function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function openDataSource(file: string): DataSource {
  return new DataSource({
    type: 'better-sqlite3',
    database: file,
    enableWAL: true,
    entities: stablehandEntities,
    migrations: stablehandMigrations,
  });
}

/**
 * How the bundled entity's datetime columns are stored on better-sqlite3 (`2025-03-01 12:00:00.123`,
 * UTC), checked against the TypeORM driver itself so the library's date comparisons see the
 * generated rows exactly as rows it wrote.
 */
function checkedDateEncoder(dataSource: DataSource): (ms: number) => string {
  const column = dataSource.getMetadata(StablehandTaskRecord).findColumnWithPropertyName('createdAt');
  if (!column) throw new Error('The bundled entity has no createdAt column');
  const encode = (ms: number): string => new Date(ms).toISOString().slice(0, 23).replace('T', ' ');
  for (const ms of [0, 1_700_000_000_007, Date.now()]) {
    const expected: unknown = dataSource.driver.preparePersistentValue(new Date(ms), column);
    if (expected !== encode(ms)) throw new Error(`Dates are stored as ${String(expected)}, not ${encode(ms)}: update the generator`);
  }
  return encode;
}

/** The old way, kept for comparison: every finished record written by `launch()`. */
async function seedThroughApi(manager: ModelTrackingTaskManager): Promise<void> {
  let launched = 0;
  const worker = async (): Promise<void> => {
    while (launched < RECORDS) {
      const i = launched++;
      const kind = BENCH_KINDS[i % BENCH_KINDS.length];
      const affected = [`order:${1 + (i % Math.max(1, Math.floor(RECORDS / 4)))}`, `customer:${1 + (i % 500)}`];
      await manager.launch(kind.name, undefined, i % 5 === 0 ? { affected, label: `Import of ${LABEL_WORD} orders` } : { affected });
    }
  };
  await Promise.all(Array.from({ length: 200 }, worker));
  // Wait until every finished task is durable before the running ones go on top.
  for (;;) {
    const active = await manager.listTasks({ status: ['PENDING', 'RUNNING'], limit: 1 });
    if (active.tasks.length === 0) break;
    await new Promise((done) => setTimeout(done, 50));
  }
}

async function launchRunning(manager: ModelTrackingTaskManager): Promise<void> {
  for (let i = 0; i < RUNNING; i++) await manager.launch('hold', undefined, { affected: [`order:${ordersFor(RECORDS) + 1 + i}`] });
  for (;;) {
    const running = await manager.listTasks({ status: 'RUNNING', limit: RUNNING });
    if (running.tasks.length === RUNNING && running.tasks.every((t) => t.progress !== null)) break;
    await new Promise((done) => setTimeout(done, 50));
  }
}

async function timed<T>(work: () => Promise<T>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/** What the server process reports once it listens. */
interface Ready {
  port: number;
  count: number;
  keys: number;
  seedSeconds: number;
  seedMode: string;
  lastDay: number;
  lastHour: number;
  affectedTasks: number;
  wordTasks: number;
  deepCursor: string;
  /** Finished tasks per metrics window, as `metrics()` counted them. */
  finished: string[];
  /** In-process timings, in ms. */
  cold: [string, number][];
}

/** The child: builds the store, serves the router, reports, and stops when told. */
async function serve(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'stablehand-bench-http-'));
  const file = join(dir, 'tasks.db');
  let dataSource = openDataSource(file);
  await dataSource.initialize();
  await dataSource.runMigrations();
  const now = Date.now();
  let seedSeconds = 0;
  let seedMode = 'through launch()';
  if (!THROUGH_API) {
    const encodeDate = checkedDateEncoder(dataSource);
    await dataSource.destroy();
    const seeded = seedRecords({ file, records: RECORDS, endMs: now - 600_000, spanMs: SPAN_MS, encodeDate });
    seedSeconds = seeded.seconds;
    seedMode = 'generated into SQLite';
    dataSource = openDataSource(file);
    await dataSource.initialize();
  }

  const manager = new ModelTrackingTaskManager({ dataSource, concurrency: RUNNING + 28 });
  for (const kind of BENCH_KINDS) manager.define(kind.name, { label: kind.label, run: () => 'ok' });
  let releaseAll!: () => void;
  const release = new Promise<void>((done) => { releaseAll = done; });
  manager.define('hold', { label: 'Restocking hay loft', run: async ({ progress }) => {
    progress({ percent: 40, message: 'Bale 4 of 10' });
    await release;
  } });
  await manager.start();
  if (THROUGH_API) {
    const seeding = performance.now();
    await seedThroughApi(manager);
    seedSeconds = (performance.now() - seeding) / 1000;
  }
  await launchRunning(manager);

  const one = async (sql: string, params: unknown[] = []): Promise<unknown> => {
    const rows = await dataSource.query<Record<string, unknown>[]>(sql, params);
    return Object.values(rows[0] ?? {})[0];
  };
  const count = Number(await one('SELECT COUNT(*) FROM stablehand_task'));
  const since = (ms: number): string => new Date(Date.now() - ms).toISOString().slice(0, 23).replace('T', ' ');
  const lastDay = Number(await one('SELECT COUNT(*) FROM stablehand_task WHERE created_at >= ?', [since(86_400_000)]));
  const lastHour = Number(await one('SELECT COUNT(*) FROM stablehand_task WHERE created_at >= ?', [since(3_600_000)]));
  const keys = Number(await one('SELECT COUNT(*) FROM stablehand_task_key'));
  const affectedTasks = Number(await one('SELECT COUNT(*) FROM stablehand_task_key WHERE index_key = ?', [AFFECTED]));
  const wordTasks = Number(await one('SELECT COUNT(*) FROM stablehand_task_key WHERE index_key = ?', [`~${LABEL_WORD}`]));
  const deepCursor = String(await one('SELECT id FROM stablehand_task ORDER BY id LIMIT 1 OFFSET ?', [Math.floor(count / 2)]));

  // Cold: no cache of the library in the way (counts are cached by the router, not the manager;
  // metrics() computes on its first call).
  const cold: [string, number][] = [];
  cold.push(['cold countTasks(), no filter', await timed(() => manager.countTasks())]);
  const repeats: number[] = [];
  for (let i = 0; i < 10; i++) repeats.push(await timed(() => manager.countTasks()));
  repeats.sort((a, b) => a - b);
  cold.push(['countTasks(), no filter, p50 of 10 more uncached calls', repeats[5]]);
  cold.push([`cold countTasks({ affected: '${AFFECTED}' })`, await timed(() => manager.countTasks({ affected: AFFECTED }))]);
  cold.push([`cold countTasks({ search: '${LABEL_WORD}' })`, await timed(() => manager.countTasks({ search: LABEL_WORD }))]);
  cold.push([`cold countTasks({ search: '${KIND_WORD}' }) (a kind word)`, await timed(() => manager.countTasks({ search: KIND_WORD }))]);
  cold.push(['cold metrics() (hour and day windows)', await timed(() => manager.metrics())]);
  // The metrics read the generated dates as the library's own: their totals show it.
  const finished = (await manager.metrics()).windows.map((window) => `${window.name} ${fmt(window.kinds.reduce((sum, kind) => sum + kind.finished, 0))}`);
  cold.push(['metrics(), cached', await timed(() => manager.metrics())]);

  const app = express();
  app.use('/tasks', createTaskRouter(manager));
  // The same routes reading the store on every request (counts still from their 2 s cache).
  app.use('/uncached', createTaskRouter(manager, { statusCacheMs: 0 }));
  const server = await new Promise<Server>((done) => {
    const listening = app.listen(0, '127.0.0.1', () => done(listening));
  });
  const ready: Ready = {
    port: (server.address() as AddressInfo).port, count, keys, seedSeconds, seedMode, lastDay, lastHour, affectedTasks, wordTasks, deepCursor, finished, cold,
  };
  process.send?.(ready);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
      releaseAll();
      await manager.stop({ graceMs: 1000 });
      await dataSource.destroy();
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    })();
  };
  // Told to stop, or orphaned: a parent that died (Ctrl-C, a closed pipe) must not leave the
  // server and its gigabyte of SQLite behind.
  process.once('message', stop);
  process.once('disconnect', stop);
}

interface Measured {
  p50: number;
  p99: number;
  max: number;
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
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99), max: times.at(-1) ?? Number.NaN, perSecond: result.requests.average, statuses };
}

interface Route {
  name: string;
  path: string;
  headers?: Record<string, string>;
  /** The p50 the issue asks for, in ms. */
  target?: number;
}

async function main(): Promise<void> {
  const child = fork(new URL(import.meta.url).pathname, ['--serve'], { execArgv: ['--import', 'tsx'] });
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('message', (message) => resolve(message as Ready));
    child.once('exit', (code) => reject(new Error(`server exited with ${String(code)}`)));
  });
  console.log(
    `store: ${fmt(ready.count)} records (${fmt(RECORDS)} finished, ${ready.seedMode}, + ${RUNNING} running), ${fmt(ready.keys)} index keys; ` +
    `finished records written in ${fmt(ready.seedSeconds, 1)} s`,
  );
  console.log(
    `created in the last day: ${fmt(ready.lastDay)}, last hour: ${fmt(ready.lastHour)} (with the running ones); ` +
    `tasks with ${AFFECTED}: ${fmt(ready.affectedTasks)}; with the word "${LABEL_WORD}": ${fmt(ready.wordTasks)}`,
  );
  console.log(`finished tasks in metrics(): ${ready.finished.join(', ')}`);
  console.log('timed once in the server process (SQLite page cache warm, no library cache):');
  for (const [name, ms] of ready.cold) console.log(`  ${name}: ${fmt(ms, 1)} ms`);

  const origin = `http://127.0.0.1:${ready.port}`;
  const failures: string[] = [];
  try {
    const first = await fetch(`${origin}/tasks/status/`);
    const etag = first.headers.get('etag') ?? '';
    const body = await first.text();
    const revalidated = await fetch(`${origin}/tasks/status/`, { headers: { 'If-None-Match': etag } });
    console.log(`GET status/: ${first.status}, ${fmt(Buffer.byteLength(body))} bytes; with If-None-Match: ${revalidated.status}`);
    console.log(`${SECONDS} s per run; latency over 1 connection, throughput over 10 connections`);
    console.log('"cached": the default router (statusCacheMs 1000, answers dropped on every lifecycle event);');
    console.log('"statusCacheMs 0": a router reading the store on every request; counts still come from the 2 s counts cache.');
    const filtered: [string, string, number | undefined][] = [
      ['first page', '', 5],
      ['status-filtered page', '?status=FAILED', 10],
      ['affected-object lookup', `?affected=${AFFECTED}`, 10],
      [`search by a label word`, `?q=${LABEL_WORD}`, 10],
      [`search by a kind word`, `?q=${KIND_WORD}`, 10],
      ['older page', `?before=${ready.deepCursor}`, 10],
    ];
    const routes: Route[] = [];
    for (const [name, query, target] of filtered) {
      routes.push({ name: `${name}, cached`, path: `/tasks/status/${query}` });
      routes.push({ name: `${name}, statusCacheMs 0`, path: `/uncached/status/${query}`, target });
    }
    // The ETag is read again just before its run: heartbeats of the running tasks change the page.
    routes.push({ name: 'idle poll, 304', path: '/tasks/status/', headers: { 'If-None-Match': '' } });
    routes.push({ name: 'metrics (GET metrics/, cached 15 s)', path: '/tasks/metrics/', target: 20 });
    routes.push({ name: 'HTML page (GET /)', path: '/tasks/' });
    for (const route of routes) {
      const headers = { ...route.headers };
      if (headers['If-None-Match'] === '') headers['If-None-Match'] = (await fetch(`${origin}${route.path}`)).headers.get('etag') ?? '';
      const single = await measure(`${origin}${route.path}`, 1, headers);
      const loaded = await measure(`${origin}${route.path}`, 10, headers);
      const codes = Object.entries(single.statuses).map(([code, n]) => `${fmt(n)} × ${code}`).join(', ');
      const target = route.target === undefined ? '' : ` (target < ${route.target} ms)`;
      console.log(
        `p50 ${route.name}: ${fmt(single.p50, 3)} ms${target}  p99 ${fmt(single.p99, 3)} ms  max ${fmt(single.max, 1)} ms  ` +
        `${fmt(loaded.perSecond)} req/s  (${codes})`,
      );
      if (route.target !== undefined && !(single.p50 < route.target)) failures.push(`${route.name}: ${fmt(single.p50, 3)} ms`);
    }
  } finally {
    child.send('stop');
  }
  console.log(failures.length ? `targets missed: ${failures.join('; ')}` : 'every p50 target met');
}

const run = process.argv.includes('--serve') ? serve : main;
run().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
