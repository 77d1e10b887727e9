import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import express from 'express';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { TaskManager } from '../../src/manager/task-manager.js';
import { createTaskRouter } from '../../src/ui/create-task-router.js';
import { ControlledTasks, XSS_LABEL, XSS_RESULT, recordingLogger, waitFor } from '../ui/helpers.js';
import { chromiumPath, describeWithBrowser } from '../helpers/chromium.js';

const describeBrowser = describeWithBrowser('the browser tests');

const OUTPUT_DIR = resolve('test-output');
const POLL_MS = 300;

describeBrowser('the task page in headless Chromium', () => {
  let server: Server;
  let origin: string;
  let userDataDir: string;
  let context: BrowserContext;
  // One slot, so a second task provably waits as PENDING while the first holds the slot.
  let queue: TaskManager;
  let queueTasks: ControlledTasks;
  let manager: TaskManager;
  let tasks: ControlledTasks;
  let failStatus = false;
  let page: Page;
  let problems: string[];

  beforeAll(async () => {
    mkdirSync(OUTPUT_DIR, { recursive: true });
    queue = new TaskManager({ concurrency: 1, cancelGraceMs: 100, logger: recordingLogger() });
    queueTasks = new ControlledTasks();
    queueTasks.define(queue);
    manager = new TaskManager({ cancelGraceMs: 100, progressIntervalMs: 10, logger: recordingLogger() });
    tasks = new ControlledTasks();
    tasks.define(manager);
    // Fails its first attempt (with markup in the error), then succeeds after a 2 s backoff.
    const tries = new Map<string, number>();
    manager.define('retried', {
      label: 'Shoeing the grey mare', attempts: 2, backoff: 2_000,
      run: ({ id }) => {
        tries.set(id, (tries.get(id) ?? 0) + 1);
        if (tries.get(id) === 1) throw new Error('The farrier is <i>late</i>');
        return 'Four new shoes.';
      },
    });
    await Promise.all([queue.start(), manager.start()]);

    const app = express();
    // Lets a test take the status endpoint down to watch the page degrade and recover.
    app.use((req, res, next) => {
      if (failStatus && req.path.includes('/status')) res.status(503).end();
      else next();
    });
    app.use('/stable', createTaskRouter(queue, { kinds: ['hold'], pollIntervalMs: POLL_MS }));
    app.use('/broken', createTaskRouter(manager, { kinds: ['broken'], runHint: 'Starts a task that fails', pollIntervalMs: POLL_MS }));
    app.use('/choose', createTaskRouter(manager, { kinds: ['quick', 'broken'], pollIntervalMs: POLL_MS }));
    app.use('/xss', createTaskRouter(manager, { kinds: ['xss'], pollIntervalMs: POLL_MS }));
    app.use('/retry', createTaskRouter(manager, { kinds: ['retried'], pollIntervalMs: POLL_MS }));
    app.use('/plain', createTaskRouter(manager, { pollIntervalMs: POLL_MS }));
    app.use('/forms', createTaskRouter(manager, {
      pollIntervalMs: POLL_MS,
      kinds: ['quick', { kind: 'hold', fields: {
        region: { type: 'enum', label: 'Region', options: ['north', 'south'], required: true },
        limit: { type: 'number', label: 'Limit', min: 1, integer: true },
        dryRun: { type: 'boolean', label: 'Dry run' },
      } }],
    }));
    app.use('/idle', createTaskRouter(manager, { kinds: ['quick'], pollIntervalMs: POLL_MS, idlePollIntervalMs: 500 }));
    app.use('/mixed', createTaskRouter(manager, { kinds: ['hold'], pollIntervalMs: POLL_MS }));
    server = await new Promise<Server>((done) => {
      const listening = app.listen(0, '127.0.0.1', () => done(listening));
    });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    userDataDir = mkdtempSync(join(tmpdir(), 'stablehand-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath,
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run',
      ],
      viewport: { width: 900, height: 700 },
    });
  }, 60_000);

  afterAll(async () => {
    // beforeAll may have failed part-way, leaving any of these unset.
    await (context as BrowserContext | undefined)?.close();
    await new Promise((done) => (server as Server | undefined)?.close(done));
    for (const t of [queueTasks, tasks] as (ControlledTasks | undefined)[]) for (const id of t?.gates.keys() ?? []) t?.release(id);
    const managers: (TaskManager | undefined)[] = [queue, manager];
    await Promise.all(managers.filter((m) => m !== undefined).map((m) => m.stop({ graceMs: 0 })));
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  async function openPage(path: string): Promise<Page> {
    page = await context.newPage();
    problems = [];
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    await page.goto(`${origin}${path}`);
    return page;
  }

  afterEach(async () => {
    // Unset if no test has opened a page yet.
    await (page as Page | undefined)?.close();
  });

  function row(id: string) {
    return page.locator(`li.sh-task[data-id="${id}"]`);
  }

  it('starts a routine, shows it pending then running with pulsing rings, and finishes it', async () => {
    const blocker = await queue.launch('hold');
    await waitFor(() => queueTasks.started.has(blocker.id));
    await openPage('/stable/');
    const statusRequests: number[] = [];
    page.on('request', (req) => {
      if (req.url().includes('/stable/status/')) statusRequests.push(Date.now());
    });

    await page.getByRole('button', { name: 'Start', exact: true }).click();
    const created = await waitFor(async () => (await queue.listTasks()).tasks.find((t) => t.id !== blocker.id), 5000, 'launch');
    const mine = row(created.id);
    await expect.poll(() => mine.locator('.sh-badge').textContent()).toBe('Pending');
    await expect.poll(() => mine.locator('.sh-meta').textContent()).toBe('queued');
    expect(await mine.locator('.sh-ind').getAttribute('class')).toBe('sh-ind sh-ind--pending');
    await page.screenshot({ path: join(OUTPUT_DIR, 'task-page-pending.png') });
    // Mark the element: if rows were rebuilt instead of patched, the mark would vanish.
    await mine.evaluate((el) => { (el as HTMLElement & { mark?: number }).mark = 42; });

    queueTasks.release(blocker.id);
    await expect.poll(() => mine.locator('.sh-badge').textContent(), { timeout: 5000 }).toBe('Running');
    const ring = mine.locator('.sh-ring').first();
    expect(await ring.evaluate((el) => getComputedStyle(el).animationName)).toBe('sh-pulse');
    expect(await ring.isVisible()).toBe(true);
    // The elapsed time ticks between polls.
    await expect.poll(() => mine.locator('.sh-meta').textContent(), { timeout: 4000 }).toMatch(/^[1-9]\d* s$/);
    await page.screenshot({ path: join(OUTPUT_DIR, 'task-page-running.png') });

    queueTasks.release(created.id, 'All forty stalls mucked out.');
    await expect.poll(() => mine.locator('.sh-badge').textContent(), { timeout: 5000 }).toBe('Done');
    expect(await mine.locator('.sh-result').textContent()).toBe('All forty stalls mucked out.');
    expect(await mine.locator('.sh-meta').textContent()).toMatch(/^(\d+(\.\d)?|< 0\.1) s · just now$/);
    const tick = await mine.locator('.sh-dot').evaluate((el) => getComputedStyle(el, '::after').content);
    expect(tick).toBe('"✓"');
    expect(await mine.locator('.sh-cancel').isHidden()).toBe(true);
    expect(await mine.evaluate((el) => (el as HTMLElement & { mark?: number }).mark)).toBe(42);
    await expect.poll(() => page.locator('#sh-live').textContent()).toContain('Restocking hay loft: Done');

    // Every task is terminal now, so polling slows to the idle interval (15 s by default).
    const settled = statusRequests.length;
    await new Promise((done) => setTimeout(done, POLL_MS * 4));
    expect(statusRequests.length - settled).toBeLessThanOrEqual(1);
    expect(problems).toEqual([]);
  });

  it('shows a failed routine with its error', async () => {
    await openPage('/broken/');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    const failed = page.locator('li.sh-task--failed').first();
    await failed.waitFor({ timeout: 5000 });
    expect(await failed.locator('.sh-badge').textContent()).toBe('Failed');
    expect(await failed.locator('.sh-result').textContent()).toBe('The brass polish ran out');
    const cross = await failed.locator('.sh-dot').evaluate((el) => getComputedStyle(el, '::after').content);
    expect(cross).toBe('"×"');
    const color = await failed.locator('.sh-result').evaluate((el) => getComputedStyle(el).color);
    const muted = await page.locator('.sh-hint').evaluate((el) => getComputedStyle(el).color);
    expect(color).not.toBe(muted);
    expect(problems).toEqual([]);
  });

  it('shows a routine waiting for its next attempt as "Retrying in N s", then done on its second attempt', async () => {
    await openPage('/retry/');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    const created = await waitFor(async () => (await manager.listTasks()).tasks.find((t) => t.taskName === 'retried'), 5000, 'launch');
    const mine = row(created.id);
    await expect.poll(() => mine.locator('.sh-badge').textContent(), { timeout: 5000 }).toBe('Retrying');
    await expect.poll(() => mine.locator('.sh-meta').textContent()).toMatch(/^Retrying in [12] s$/);
    await page.screenshot({ path: join(OUTPUT_DIR, 'task-page-retrying.png') });
    await expect.poll(() => mine.locator('.sh-badge').textContent(), { timeout: 8000 }).toBe('Done');
    expect(await mine.locator('.sh-meta').textContent()).toMatch(/^attempt 2 of 2 · /);
    await mine.locator('a').first().click();
    await expect.poll(() => page.locator('[data-field="attempt_errors"]').textContent()).toMatch(/^1: The farrier is <i>late<\/i> \(\d{4}-/);
    expect(await page.locator('[data-field="attempt_errors"] i').count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('shows a task launched elsewhere in the app while the page is idle, within its idle interval', async () => {
    await openPage('/idle/');
    // Let every task on the page end, so the page is idle.
    await expect.poll(async () => (await manager.listTasks({ status: ['PENDING', 'RUNNING'] })).tasks.length, { timeout: 5000 }).toBe(0);
    await new Promise((done) => setTimeout(done, 700));
    const { id } = await manager.launch('quick', undefined, { label: 'Launched by the app' });
    await expect.poll(() => row(id).count(), { timeout: 4000 }).toBe(1);
    await expect.poll(() => row(id).locator('.sh-badge').textContent(), { timeout: 5000 }).toBe('Done');
    expect(problems).toEqual([]);
  });

  it('shows no run bar when the router offers no kinds, only the tasks', async () => {
    await openPage('/plain/');
    expect(await page.locator('#sh-run').count()).toBe(0);
    expect(await page.locator('.sh-runbar').count()).toBe(0);
    await expect.poll(() => page.locator('li.sh-task').count(), { timeout: 5000 }).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('shows a listed kind\'s form when it is chosen, sends its values, and shows the server\'s refusal', async () => {
    await openPage('/forms/');
    const form = page.locator('fieldset.sh-fields[data-kind="hold"]');
    expect(await form.isHidden()).toBe(true);
    await page.locator('#sh-kind').selectOption('hold');
    expect(await form.isVisible()).toBe(true);
    await page.locator('#sh-field-hold-region').selectOption('south');
    await page.locator('#sh-field-hold-limit').fill('0');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await expect.poll(() => page.locator('#sh-error').textContent(), { timeout: 5000 }).toBe('Limit must be at least 1.');
    await page.locator('#sh-field-hold-limit').fill('7');
    await page.locator('#sh-field-hold-dryRun').check();
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    const created = await waitFor(async () => (await manager.listTasks()).tasks.find((t) => t.taskName === 'hold' && t.input !== null), 5000, 'the launch');
    expect(created.input).toEqual({ region: 'south', limit: 7, dryRun: true });
    tasks.release(created.id);
    // The browser notes the refused request itself; nothing else went wrong.
    expect(problems.filter((problem) => !problem.includes('status of 400'))).toEqual([]);
  });

  it('asks which kind to run when several are offered, and runs the chosen one', async () => {
    await openPage('/choose/');
    const choice = page.getByRole('combobox', { name: 'Task' });
    expect(await choice.locator('option').allTextContents()).toEqual(['quick', 'broken']);
    await choice.selectOption('broken');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    const failed = page.locator('li.sh-task--failed').first();
    await failed.waitFor({ timeout: 5000 });
    const id = await failed.getAttribute('data-id');
    expect((await manager.getTask(id ?? ''))?.taskName).toBe('broken');
    expect(problems).toEqual([]);
  });

  it('cancels a running routine from its row', async () => {
    const launched = await manager.launch('hold');
    await waitFor(() => tasks.started.has(launched.id));
    await openPage('/mixed/');
    const mine = row(launched.id);
    expect(await mine.locator('.sh-badge').textContent()).toBe('Running');
    await mine.getByRole('button', { name: 'Cancel Restocking hay loft' }).click();
    await expect.poll(() => mine.locator('.sh-badge').textContent(), { timeout: 5000 }).toBe('Cancelled');
    expect(await mine.locator('.sh-cancel').isHidden()).toBe(true);
    expect((await manager.getTask(launched.id))?.status).toBe('CANCELLED');
    expect(problems).toEqual([]);
  });

  it('shows markup from a task as text and never runs it', async () => {
    await openPage('/xss/');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    // Other tests' tasks of the same manager are on the page too: find this one by its id.
    const created = await waitFor(async () => (await manager.listTasks()).tasks.find((t) => t.taskName === 'xss'), 5000, 'the xss launch');
    const done = page.locator(`li.sh-task--done[data-id="${created.id}"]`);
    await done.waitFor({ timeout: 5000 });
    expect(await done.locator('.sh-result').textContent()).toBe(XSS_RESULT);
    expect(await done.locator('.sh-name').textContent()).toBe(XSS_LABEL);
    expect(await page.evaluate(() => (window as Window & { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('li.sh-task img, li.sh-task script, li.sh-task b').count()).toBe(0);

    // The same task, server-rendered on a fresh load and in its detail view.
    await page.reload();
    expect(await done.locator('.sh-result').textContent()).toBe(XSS_RESULT);
    await done.locator('.sh-name').click();
    await page.waitForURL(/\/xss\/[^/]+\/$/);
    expect(await page.locator('h1').textContent()).toBe(XSS_LABEL);
    expect(await page.locator('[data-field="result"]').textContent()).toBe(XSS_RESULT);
    expect(await page.evaluate(() => (window as Window & { __pwned?: number }).__pwned)).toBeUndefined();
    expect(problems).toEqual([]);
  });

  it('keeps the last data and says it is reconnecting while polls fail, then recovers', async () => {
    const launched = await manager.launch('progress');
    await waitFor(async () => (await manager.getTask(launched.id))?.progress !== null);
    await openPage('/mixed/');
    const mine = row(launched.id);
    expect(await mine.locator('progress').getAttribute('value')).toBe('40');
    const failedPolls: number[] = [];
    page.on('response', (res) => {
      if (res.url().includes('/mixed/status/') && res.status() === 503) failedPolls.push(Date.now());
    });
    failStatus = true;
    try {
      const notice = page.locator('#sh-notice');
      await notice.waitFor({ state: 'visible', timeout: 5000 });
      // Retries back off (600, 1200, 2400 ms …) instead of hammering every 300 ms.
      await new Promise((done) => setTimeout(done, 2500));
      expect(failedPolls.length).toBeGreaterThanOrEqual(2);
      expect(failedPolls.length).toBeLessThanOrEqual(4);
      const gaps = failedPolls.slice(1).map((at, i) => at - failedPolls[i]);
      expect(gaps[gaps.length - 1]).toBeGreaterThan(POLL_MS * 3);
      expect(await notice.textContent()).toMatch(/^Last updated (just now|\d+ s ago) — reconnecting$/);
      expect(await mine.locator('.sh-badge').textContent()).toBe('Running');
      await page.screenshot({ path: join(OUTPUT_DIR, 'task-page-reconnecting.png') });
    } finally {
      failStatus = false;
    }
    tasks.release(launched.id);
    await expect.poll(() => mine.locator('.sh-badge').textContent(), { timeout: 10_000 }).toBe('Done');
    expect(await page.locator('#sh-notice').isHidden()).toBe(true);
    expect(problems.filter((p) => !p.includes('503'))).toEqual([]);
  });

  it('shows every field in the detail view, updates it live and cancels from it', async () => {
    const launched = await manager.launch('progress', undefined, { user: { name: 'Applejack' }, affected: ['Barn 2'] });
    await waitFor(async () => (await manager.getTask(launched.id))?.progress !== null);
    await openPage(`/mixed/${launched.id}/`);
    expect(await page.locator('h1').textContent()).toBe('Counting sugar-cube tins');
    expect(await page.locator('.sh-badge').textContent()).toBe('Running');
    expect(await page.locator('[data-field="progress"]').textContent()).toBe('40%');
    expect(await page.locator('[data-field="user"]').textContent()).toBe('Applejack');
    expect(await page.locator('[data-field="affected"]').textContent()).toBe('Barn 2');
    expect(await page.locator('[data-field="completed_at"]').textContent()).toBe('—');
    await page.screenshot({ path: join(OUTPUT_DIR, 'task-detail-running.png'), fullPage: true });
    await page.getByRole('button', { name: 'Cancel Counting sugar-cube tins' }).click();
    await expect.poll(() => page.locator('.sh-badge').textContent(), { timeout: 5000 }).toBe('Cancelled');
    expect(await page.locator('[data-field="completed_at"]').textContent()).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
    expect(await page.locator('.sh-cancel').isHidden()).toBe(true);
    await page.getByRole('link', { name: '← Tasks' }).click();
    await page.waitForURL(`${origin}/mixed/`);
    expect(problems).toEqual([]);
  });

  it('is usable from the keyboard and detail links follow the mount point', async () => {
    await openPage('/broken/');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('sh-run');
    const before = await page.locator('li.sh-task').count();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('li.sh-task').count(), { timeout: 5000 }).toBe(before + 1);
    const href = await page.locator('li.sh-task .sh-name').first().getAttribute('href');
    expect(href).toMatch(/^\/broken\/[^/]+\/$/);
    expect(problems).toEqual([]);
  });

  it('stops the pulse for reduced motion and follows the dark scheme', async () => {
    const launched = await manager.launch('hold');
    await waitFor(() => tasks.started.has(launched.id));
    await openPage('/mixed/');
    await page.emulateMedia({ reducedMotion: 'reduce', colorScheme: 'dark' });
    const ring = row(launched.id).locator('.sh-ring').first();
    expect(await ring.evaluate((el) => getComputedStyle(el).animationName)).toBe('none');
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe('rgb(22, 24, 27)');
    await page.screenshot({ path: join(OUTPUT_DIR, 'task-page-dark.png'), fullPage: true });
    await page.emulateMedia({ reducedMotion: 'no-preference', colorScheme: 'light' });
    await page.screenshot({ path: join(OUTPUT_DIR, 'task-page.png'), fullPage: true });
    tasks.release(launched.id);
    expect(problems).toEqual([]);
  });
});
