import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelTrackingTaskManager, createTaskRouter } from '../../src/index.js';
import { sqlite, tempDir } from '../helpers/data-sources.js';
import { recordingLogger, waitFor } from '../helpers/wait.js';
import express from 'express';

/** Another process that takes the file's write lock, holds it for `ms`, and says when it has it. */
function holdLock(file: string, ms: number): Promise<{ released: Promise<void> }> {
  const script = `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(file)}); db.exec('BEGIN EXCLUSIVE'); ` +
    `process.stdout.write('locked\\n'); setTimeout(() => { db.exec('COMMIT'); db.close(); }, ${ms});`;
  const child = spawn(process.execPath, ['-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
  const released = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve) => child.stdout.once('data', () => resolve({ released })));
}

describe('a SQLite file another process holds locked', () => {
  let dataSource: DataSource;
  let file: string;
  let manager: ModelTrackingTaskManager;
  const logger = recordingLogger();

  beforeAll(async () => {
    file = join(tempDir(), 'locked.db');
    dataSource = await sqlite.open([], { file });
    manager = new ModelTrackingTaskManager({ dataSource, logger, progressIntervalMs: 0 });
    manager.define('quick', { label: 'Quick', run: () => 'done' });
    await manager.start();
  });

  afterAll(async () => {
    await manager.stop({ graceMs: 1_000 });
    await dataSource.destroy();
  });

  it('never freezes the app while it waits: the page answers, and launches land once the lock is gone', async () => {
    const app = express();
    app.use('/tasks', createTaskRouter(manager, { statusCacheMs: 0 }));
    const before = await manager.launch('quick');
    await waitFor(async () => (await manager.getTask(before.id))?.status === 'DONE', 5_000, 'the first task');

    const lock = await holdLock(file, 4_000);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const launched = manager.launch('quick');
    // The page keeps answering from the file (WAL readers are not blocked) while the write waits.
    const started = Date.now();
    let answers = 0;
    while (Date.now() - started < 3_000) {
      const res = await request(app).get('/tasks/status/');
      expect(res.status).toBe(200);
      answers++;
    }
    const { id } = await launched;
    delay.disable();
    await lock.released;
    // Waiting for the lock took its turns on the event loop: it was never held for long (it was
    // for the whole 4 s before: the connection's busy timeout, 5 s, spent in one synchronous call).
    expect(delay.max / 1e6).toBeLessThan(500);
    expect(answers).toBeGreaterThan(10);
    await waitFor(async () => (await manager.getTask(id))?.status === 'DONE', 10_000, 'the launch made during the lock');
    expect(logger.errors).toEqual([]);
  }, 30_000);
});
