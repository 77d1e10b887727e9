import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TaskManager } from '../../src/manager/task-manager.js';
import { createTaskRouter } from '../../src/ui/create-task-router.js';
import { axeViolations, formatViolations } from '../helpers/axe.js';
import { ControlledTasks, recordingLogger, waitFor } from '../ui/helpers.js';
import { chromiumPath, describeWithBrowser } from '../helpers/chromium.js';

const describeBrowser = describeWithBrowser('the accessibility tests');

/** A host model: `launch(..., { affected: new Order(42) })` is indexed as `order:42`. */
class Order {
  constructor(readonly id: number) {}
}

describeBrowser('the task page under axe-core', () => {
  let server: Server;
  let origin: string;
  let browser: Browser;
  // One slot, so a second held task provably waits as PENDING behind the running one.
  let manager: TaskManager;
  let tasks: ControlledTasks;
  const ids: Record<'done' | 'failed' | 'cancelled' | 'retried' | 'retry' | 'running' | 'pending', string> = {
    done: '', failed: '', cancelled: '', retried: '', retry: '', running: '', pending: '',
  };

  beforeAll(async () => {
    manager = new TaskManager({ concurrency: 1, cancelGraceMs: 100, progressIntervalMs: 10, logger: recordingLogger() });
    tasks = new ControlledTasks();
    tasks.define(manager);
    await manager.start();
    // One after another: the single slot must be free for each to reach its state.
    const settled = async (id: string) => waitFor(async () => (await manager.getTask(id))?.completedAt, 5000, `task ${id} to end`);
    ids.done = (await manager.launch('quick')).id;
    await settled(ids.done);
    ids.failed = (await manager.launch('broken')).id;
    await settled(ids.failed);
    ids.cancelled = (await manager.launch('hold')).id;
    await waitFor(() => tasks.started.has(ids.cancelled));
    await manager.cancel(ids.cancelled);
    await settled(ids.cancelled);
    // A failed task retried by an operator: both timelines link to the other task.
    ids.retried = (await manager.launch('broken', undefined, { user: 'Twilight', affected: new Order(42), label: 'Reshoeing for order 42' })).id;
    await settled(ids.retried);
    ids.retry = (await manager.retry(ids.retried, { user: 'Rarity' })).id;
    await settled(ids.retry);
    ids.running = (await manager.launch('progress')).id;
    await waitFor(async () => (await manager.getTask(ids.running))?.progress !== null);
    ids.pending = (await manager.launch('hold')).id;

    const app = express();
    app.use('/mount', createTaskRouter(manager, { kinds: ['quick', 'hold'], runHint: 'Starts a routine in the background' }));
    server = await new Promise<Server>((done) => {
      const listening = app.listen(0, '127.0.0.1', () => done(listening));
    });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }, 60_000);

  afterAll(async () => {
    // beforeAll may have failed part-way, leaving any of these unset.
    await (browser as Browser | undefined)?.close();
    await new Promise((done) => (server as Server | undefined)?.close(done));
    for (const id of (tasks as ControlledTasks | undefined)?.gates.keys() ?? []) tasks.release(id);
    await (manager as TaskManager | undefined)?.stop({ graceMs: 0 });
  });

  const openMetrics = async (page: Page): Promise<void> => {
    await page.locator('details.sh-metrics-box > summary').click();
    expect(await page.locator('details.sh-metrics-box svg.sh-metrics-chart').first().isVisible()).toBe(true);
  };
  // Guards against auditing a page that lacks what it is here for.
  const hasFilterNote = async (page: Page): Promise<void> => {
    expect(await page.locator('#sh-filter').isVisible()).toBe(true);
  };
  const hasTimelineLink = async (page: Page): Promise<void> => {
    expect(await page.locator('#sh-timeline a').count()).toBe(1);
  };
  const pages: { name: string; path: () => string; prepare?: (page: Page) => Promise<void> }[] = [
    { name: 'the list', path: () => '/mount/' },
    { name: 'a filtered list', path: () => '/mount/?status=FAILED' },
    { name: 'a searched list', path: () => '/mount/?q=reshoeing', prepare: hasFilterNote },
    { name: 'an affected-object view', path: () => '/mount/?affected=order:42', prepare: hasFilterNote },
    { name: 'the list with its metrics open', path: () => '/mount/', prepare: openMetrics },
    { name: 'a failed task\'s detail view', path: () => `/mount/${ids.failed}/` },
    { name: 'a running task\'s detail view', path: () => `/mount/${ids.running}/` },
    { name: 'a retried task\'s detail view', path: () => `/mount/${ids.retried}/`, prepare: hasTimelineLink },
    { name: 'the detail view of a retry', path: () => `/mount/${ids.retry}/`, prepare: hasTimelineLink },
  ];

  for (const colorScheme of ['light', 'dark'] as const) {
    for (const target of pages) {
      it(`has no violations on ${target.name} in the ${colorScheme} scheme`, async () => {
        // bypassCSP lets axe's inline script in; the page's own policy is left as the library sends it.
        const context = await browser.newContext({ bypassCSP: true, colorScheme, viewport: { width: 900, height: 700 } });
        try {
          const page = await context.newPage();
          await page.goto(`${origin}${target.path()}`);
          // Let the page script take over (its first patch may restyle rows) before auditing.
          await page.locator('.sh-task').first().waitFor();
          await page.waitForLoadState('load');
          await target.prepare?.(page);
          // Guards against auditing the light colours twice.
          expect(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches)).toBe(colorScheme === 'dark');
          const violations = await axeViolations(page);
          expect(violations, `axe violations:\n${formatViolations(violations)}`).toEqual([]);
        } finally {
          await context.close();
        }
      });
    }
  }
});
