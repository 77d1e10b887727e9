import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import express from 'express';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { TaskContext } from '../../src/core/types.js';
import { TaskManager } from '../../src/manager/task-manager.js';
import type { TaskManagerOptions } from '../../src/manager/task-manager-options.js';
import { createTaskRouter, type TaskRouterOptions } from '../../src/ui/create-task-router.js';
import { ControlledTasks, deferred, recordingLogger, sleep, waitFor } from '../ui/helpers.js';
import { chromiumPath, describeWithBrowser } from '../helpers/chromium.js';

// The operator's console in a real browser: status tabs, paging, search, the affected-object
// view, retry, the live timeline and the metrics charts, each on a manager of its own so the
// counts a test checks are its own.

const describeBrowser = describeWithBrowser('the console browser tests');

const OUTPUT_DIR = resolve('test-output');
const POLL_MS = 300;
// Pages whose tasks have all ended look again this often, so a change made elsewhere shows soon.
const IDLE_POLL_MS = 1000;
// Counts are cached for 2 s on the server, on top of the idle poll: generous, as under CI load.
const LIVE_MS = 10_000;

/** A host model: `launch(..., { affected: new Order(42) })` is indexed as `order:42`. */
class Order {
  constructor(readonly id: number) {}
}

/**
 * A kind that walks the quarters as the test says: `step(id, 25)` lets it report 25%, and so on;
 * `step(id, 100)` lets it finish. It stops when cancelled.
 */
class Rounds {
  readonly started = new Set<string>();
  readonly #gates = new Map<string, ReturnType<typeof deferred<void>>>();

  #gate(id: string, percent: number): ReturnType<typeof deferred<void>> {
    const key = `${id}@${percent}`;
    let gate = this.#gates.get(key);
    if (!gate) {
      gate = deferred();
      this.#gates.set(key, gate);
    }
    return gate;
  }

  step(id: string, percent: number): void {
    this.#gate(id, percent).resolve();
  }

  releaseAll(): void {
    for (const gate of this.#gates.values()) gate.resolve();
  }

  #wait(ctx: TaskContext, percent: number): Promise<void> {
    return new Promise<void>((done, fail) => {
      ctx.signal.addEventListener('abort', () => fail(ctx.signal.reason as Error), { once: true });
      this.#gate(ctx.id, percent).promise.then(done, fail);
    });
  }

  define(manager: TaskManager): void {
    manager.define('rounds', {
      label: 'Evening stable rounds',
      run: async (ctx) => {
        this.started.add(ctx.id);
        for (const percent of [25, 50, 75]) {
          await this.#wait(ctx, percent);
          ctx.progress(percent, `Stall ${percent / 25} of 4`);
        }
        await this.#wait(ctx, 100);
        return 'Every stall checked.';
      },
    });
  }
}

describeBrowser('the operator\'s console in headless Chromium', () => {
  let server: Server;
  let origin: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  const app = express();
  const made: { manager: TaskManager; tasks: ControlledTasks; rounds: Rounds }[] = [];

  beforeAll(async () => {
    mkdirSync(OUTPUT_DIR, { recursive: true });
    server = await new Promise<Server>((done) => {
      const listening = app.listen(0, '127.0.0.1', () => done(listening));
    });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    context = await browser.newContext({ viewport: { width: 900, height: 800 } });
    // A refused inline script or style shows in the console too, but the event names the directive.
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
      });
    });
  }, 60_000);

  afterAll(async () => {
    // beforeAll may have failed part-way, leaving any of these unset.
    await (browser as Browser | undefined)?.close();
    await new Promise((done) => (server as Server | undefined)?.close(done));
    for (const { tasks, rounds } of made) {
      for (const id of tasks.gates.keys()) tasks.release(id);
      rounds.releaseAll();
    }
    await Promise.all(made.map(({ manager }) => manager.stop({ graceMs: 0 })));
  });

  afterEach(async () => {
    // Unset if no test has opened a page yet.
    await (page as Page | undefined)?.close();
  });

  /** A started manager with the controlled kinds and `rounds`, served at `/<mount>/`. */
  async function serve(mount: string, routerOptions: TaskRouterOptions = {}, managerOptions: TaskManagerOptions = {}) {
    const manager = new TaskManager({ cancelGraceMs: 100, progressIntervalMs: 10, milestonesAfterMs: 0, logger: recordingLogger(), ...managerOptions });
    const tasks = new ControlledTasks();
    tasks.define(manager);
    const rounds = new Rounds();
    rounds.define(manager);
    await manager.start();
    made.push({ manager, tasks, rounds });
    // Routes added after listen() are served like any other: Express reads its stack per request.
    app.use(`/${mount}`, createTaskRouter(manager, { pollIntervalMs: POLL_MS, idlePollIntervalMs: IDLE_POLL_MS, ...routerOptions }));
    const settled = (id: string) => waitFor(async () => {
      const record = await manager.getTask(id);
      return record?.cleanedUp ? record : null;
    }, 5000, `task ${id} to end`);
    return { manager, tasks, rounds, settled };
  }

  async function openPage(path: string): Promise<Page> {
    page = await context.newPage();
    // Generous, yet well inside the test's own timeout, so a wait that fails says which it was.
    page.setDefaultTimeout(10_000);
    problems = [];
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    await page.goto(`${origin}${path}`);
    return page;
  }

  function row(id: string) {
    return page.locator(`li.sh-task[data-id="${id}"]`);
  }

  function rowIds(): Promise<string[]> {
    return page.locator('li.sh-task').evaluateAll((items) => items.map((item) => item.getAttribute('data-id') ?? ''));
  }

  function tab(label: string) {
    return page.locator('nav.sh-tabs a.sh-tab').filter({ hasText: new RegExp(`^${label}\\d*$`) });
  }

  async function counts(): Promise<Record<string, string>> {
    return Object.fromEntries(await page.locator('[data-count]').evaluateAll((badges) =>
      badges.map((badge) => [badge.getAttribute('data-count') ?? '', badge.textContent])));
  }

  function query(name: string): string | null {
    return new URL(page.url()).searchParams.get(name);
  }

  function timeline(): Promise<string[]> {
    return page.locator('#sh-timeline > li > span').allTextContents();
  }

  /** Records every task row the page adds from now on, however briefly it stays. */
  async function watchAddedRows(): Promise<() => Promise<string[]>> {
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as Window & { __added?: string[] }).__added = seen;
      new MutationObserver((changes) => {
        for (const change of changes) {
          for (const node of change.addedNodes) if (node instanceof HTMLElement && node.dataset.id) seen.push(node.dataset.id);
        }
      }).observe(document.getElementById('sh-tasks')!, { childList: true });
    });
    return () => page.evaluate(() => (window as Window & { __added?: string[] }).__added ?? []);
  }

  it('filters by status tab, keeps the tab live as a task fails, and counts every status', async () => {
    const { manager, tasks, settled } = await serve('tabs', { kinds: ['quick'] });
    const done = [(await manager.launch('quick')).id, (await manager.launch('quick')).id];
    const failed = [(await manager.launch('broken')).id, (await manager.launch('broken')).id];
    for (const id of [...done, ...failed]) await settled(id);
    const held = (await manager.launch('hold')).id;
    await waitFor(() => tasks.started.has(held));

    await openPage('/tabs/');
    expect(await counts()).toEqual({ ALL: '5', RUNNING: '1', PENDING: '0', FAILED: '2', DONE: '2', CANCELLED: '0' });
    expect(await tab('All').getAttribute('aria-current')).toBe('page');
    expect(await page.locator('nav.sh-tabs a.sh-tab[aria-current]').count()).toBe(1);

    await tab('Failed').click();
    await page.waitForURL(/[?&]status=FAILED/);
    expect(query('status')).toBe('FAILED');
    expect(new Set(await rowIds())).toEqual(new Set(failed));
    expect(await page.locator('li.sh-task:not(.sh-task--failed)').count()).toBe(0);
    expect(await tab('Failed').getAttribute('aria-current')).toBe('page');
    expect(await tab('All').getAttribute('aria-current')).toBeNull();
    expect(await page.locator('nav.sh-tabs a.sh-tab[aria-current]').count()).toBe(1);
    // Counts stay those of every status: the tab narrows the rows, not the tally.
    expect(await counts()).toEqual({ ALL: '5', RUNNING: '1', PENDING: '0', FAILED: '2', DONE: '2', CANCELLED: '0' });

    // The running task fails elsewhere: the Failed tab, all of whose rows had ended, picks it up.
    tasks.failHeld(held, 'The hay cart lost a wheel');
    await expect.poll(() => row(held).locator('.sh-badge').textContent(), { timeout: LIVE_MS }).toBe('Failed');
    expect(await row(held).locator('.sh-result').textContent()).toBe('The hay cart lost a wheel');
    expect((await rowIds())[0]).toBe(held);
    await expect.poll(counts, { timeout: LIVE_MS }).toEqual({ ALL: '5', RUNNING: '0', PENDING: '0', FAILED: '3', DONE: '2', CANCELLED: '0' });

    // A task started from the run bar does not belong on the Failed tab: no row for it, not even briefly.
    const added = await watchAddedRows();
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    const started = await waitFor(async () => (await manager.listTasks()).tasks.find((t) => t.taskName === 'quick' && !done.includes(t.id)), 5000, 'the launch');
    await expect.poll(() => page.locator('#sh-live').textContent(), { timeout: 5000 }).toBe('Started Brushing parade manes');
    await expect.poll(counts, { timeout: LIVE_MS }).toEqual({ ALL: '6', RUNNING: '0', PENDING: '0', FAILED: '3', DONE: '3', CANCELLED: '0' });
    expect(await added()).toEqual([]);
    expect(await row(started.id).count()).toBe(0);

    await tab('All').click();
    await page.waitForURL(`${origin}/tabs/`);
    expect(await tab('All').getAttribute('aria-current')).toBe('page');
    expect(await rowIds()).toEqual([started.id, held, ...[...failed].reverse(), ...[...done].reverse()]);
    await page.screenshot({ path: join(OUTPUT_DIR, 'console-tabs.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  it('pages older and newer through the URL, and keeps an older page live', async () => {
    const { manager, tasks, settled } = await serve('pages', { pageSize: 3 });
    const watch = (await manager.launch('hold', undefined, { label: 'Night watch' })).id;
    await waitFor(() => tasks.started.has(watch));
    const rounds: string[] = [];
    for (let n = 1; n <= 5; n++) rounds.push((await manager.launch('quick', undefined, { label: `Round ${n}` })).id);
    for (const id of rounds) await settled(id);
    const [r1, r2, r3, r4, r5] = rounds;
    const firstPage = await manager.listTasks({ limit: 3 });

    await openPage('/pages/');
    expect(await rowIds()).toEqual([r5, r4, r3]);
    expect(await page.locator('.sh-pager a[rel=prev]').count()).toBe(0);
    expect(await page.locator('.sh-pager [aria-disabled="true"]').textContent()).toBe('← Newer');
    const statusUrls: string[] = [];
    page.on('request', (req) => {
      if (req.url().includes('/pages/status/')) statusUrls.push(req.url());
    });

    await page.locator('.sh-pager a[rel=next]').click();
    await page.waitForURL(/[?&]before=/);
    expect(await page.locator('.sh-pager a[rel=next]').count()).toBe(0);
    expect(query('before')).toBe(firstPage.nextCursor);
    expect(await rowIds()).toEqual([r2, r1, watch]);
    expect(await row(watch).locator('.sh-badge').textContent()).toBe('Running');
    expect(await page.locator('.sh-pager a[rel=prev]').textContent()).toBe('← Newer');
    // The tabs lead to the first page of their status, not to this cursor.
    for (const href of await page.locator('nav.sh-tabs a.sh-tab').evaluateAll((links) => links.map((link) => link.getAttribute('href')))) {
      expect(href).not.toMatch(/before=|after=/);
    }

    // The older page polls with its cursor, so its running task finishes in place.
    tasks.release(watch, 'Quiet night.');
    await expect.poll(() => row(watch).locator('.sh-badge').textContent(), { timeout: LIVE_MS }).toBe('Done');
    expect(await row(watch).locator('.sh-result').textContent()).toBe('Quiet night.');
    expect(await rowIds()).toEqual([r2, r1, watch]);
    expect(statusUrls.length).toBeGreaterThan(0);
    for (const url of statusUrls) expect(new URL(url).searchParams.get('before')).toBe(firstPage.nextCursor);

    // Newer leads back to the first page, which the server sends to its own plain URL.
    await page.locator('.sh-pager a[rel=prev]').click();
    await page.waitForURL((url) => !url.search.includes('before='));
    expect(query('after')).toBeNull();
    expect(query('before')).toBeNull();
    expect(await rowIds()).toEqual([r5, r4, r3]);
    expect(await page.locator('.sh-pager a[rel=next]').getAttribute('href')).toContain(`before=${r3}`);
    expect(problems).toEqual([]);
  });

  it('comes back through Newer to a first page that shows new tasks, like the plain first page', async () => {
    const { manager, settled } = await serve('newer', { pageSize: 2, kinds: ['quick'] });
    const rounds: string[] = [];
    for (let n = 1; n <= 4; n++) rounds.push((await manager.launch('quick', undefined, { label: `Lap ${n}` })).id);
    for (const id of rounds) await settled(id);
    const [, , l3, l4] = rounds;

    await openPage('/newer/');
    await page.locator('.sh-pager a[rel=next]').click();
    await page.waitForURL(/[?&]before=/);
    await page.locator('.sh-pager a[rel=prev]').click();
    // The first page reached through Newer is sent to its own URL (no cursor), so it behaves as one.
    await page.waitForURL((url) => url.pathname === '/newer/' && url.search === '');
    expect(await rowIds()).toEqual([l4, l3]);
    // This is the first page: nothing is newer, so the page says so.
    expect(await page.locator('.sh-pager a[rel=prev]').count()).toBe(0);
    expect(await page.locator('.sh-pager [aria-disabled="true"]').textContent()).toBe('← Newer');

    // A task launched by the app belongs at its top, as on the plain first page.
    const lap5 = (await manager.launch('quick', undefined, { label: 'Lap 5' })).id;
    await settled(lap5);
    await expect.poll(async () => (await rowIds())[0], { timeout: LIVE_MS }).toBe(lap5);
    expect(problems).toEqual([]);
  });

  /** Three finished tasks to search among: two "grey" labels, one touching order:42. */
  async function seedSearch(mount: string) {
    const served = await serve(mount);
    const { manager, settled } = served;
    const mare = (await manager.launch('quick', undefined, { label: 'Shoeing the grey mare', user: 'Applejack' })).id;
    const gelding = (await manager.launch('quick', undefined, { label: 'Feeding the bay gelding', affected: new Order(42) })).id;
    const pony = (await manager.launch('quick', undefined, { label: 'Grooming the grey pony', affected: 'order:7' })).id;
    for (const id of [mare, gelding, pony]) await settled(id);
    return { ...served, mare, gelding, pony };
  }

  /** Types into the search box and sends it as a person would: Enter, or the Search button. */
  async function search(text: string, how: 'enter' | 'button'): Promise<void> {
    await page.locator('#sh-q').fill(text);
    // Through the keyboard and the mouse: a submission the page refuses must fail the
    // URL check below (with the console showing why), not hang the action itself.
    if (how === 'enter') {
      await page.locator('#sh-q').focus();
      await page.keyboard.press('Enter');
    } else {
      const box = await page.getByRole('button', { name: 'Search', exact: true }).boundingBox();
      if (!box) throw new Error('The Search button is not on screen.');
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    }
    try {
      await page.waitForURL((url) => url.searchParams.get('q') === text, { timeout: 5000 });
    } catch (error) {
      throw new Error(`The search form did not reach ?q=${text} (still at ${page.url()}). Page problems: ${JSON.stringify(problems)}`, { cause: error });
    }
  }

  it('searches from the search box, by a word of a label and by an affected key, keeping the text and the tab', async () => {
    const { mare, gelding, pony } = await seedSearch('search');
    await openPage('/search/');
    expect(await page.locator('#sh-filter').count()).toBe(0);
    await search('grey', 'enter');
    expect(await rowIds()).toEqual([pony, mare]);
    expect(await page.locator('#sh-q').inputValue()).toBe('grey');
    expect(await page.locator('#sh-filter').textContent()).toBe('Tasks that match “grey” · Show all tasks');

    // From a tab, the search keeps the tab.
    await tab('Done').click();
    await page.waitForURL(/[?&]status=DONE/);
    await search('order:42', 'button');
    expect(query('status')).toBe('DONE');
    expect(await rowIds()).toEqual([gelding]);
    expect(await page.locator('#sh-q').inputValue()).toBe('order:42');
    expect(await tab('Done').getAttribute('aria-current')).toBe('page');
    expect(problems).toEqual([]);
  });

  it('shows a search\'s results, keeps them live and the tabs within them, and shows the search text escaped', async () => {
    const { manager, tasks, settled, mare, gelding, pony } = await seedSearch('searched');
    await openPage('/searched/?q=grey');
    expect(await rowIds()).toEqual([pony, mare]);
    expect(await page.locator('#sh-q').inputValue()).toBe('grey');
    expect(await page.locator('#sh-filter').textContent()).toBe('Tasks that match “grey” · Show all tasks');
    expect(await counts()).toMatchObject({ ALL: '2', DONE: '2' });

    // Polls carry the search: a matching task launched elsewhere shows up, another does not.
    const foal = (await manager.launch('hold', undefined, { label: 'Walking the grey foal' })).id;
    const other = (await manager.launch('quick', undefined, { label: 'Feeding the bay mare' })).id;
    await expect.poll(() => row(foal).locator('.sh-badge').textContent(), { timeout: LIVE_MS }).toBe('Running');
    await expect.poll(counts, { timeout: LIVE_MS }).toMatchObject({ ALL: '3', RUNNING: '1', DONE: '2' });
    await settled(other);
    await sleep(POLL_MS * 3);
    expect(await row(other).count()).toBe(0);
    expect(await rowIds()).toEqual([foal, pony, mare]);

    // The tabs keep the search.
    await tab('Running').click();
    await page.waitForURL(/[?&]status=RUNNING/);
    expect(query('q')).toBe('grey');
    expect(await page.locator('#sh-q').inputValue()).toBe('grey');
    expect(await rowIds()).toEqual([foal]);
    // …and the search form keeps the tab.
    expect(await page.locator('form.sh-search input[type=hidden][name=status]').inputValue()).toBe('RUNNING');
    tasks.release(foal);

    // An affected key is a search term too; so is a word of the user.
    await page.goto(`${origin}/searched/?q=${encodeURIComponent('order:42')}`);
    expect(await rowIds()).toEqual([gelding]);
    expect(await page.locator('#sh-q').inputValue()).toBe('order:42');
    await page.goto(`${origin}/searched/?q=applejack`);
    expect(await rowIds()).toEqual([mare]);

    // Markup and quotes in the search come back as text, in the box and in the note.
    const hostile = '"><b id="inj">bold</b><script>alert(1)</script>\'';
    await page.goto(`${origin}/searched/?${new URLSearchParams({ q: hostile }).toString()}`);
    expect(await page.locator('#sh-q').inputValue()).toBe(hostile);
    expect(await page.locator('#sh-filter').textContent()).toBe(`Tasks that match “${hostile}” · Show all tasks`);
    expect(await page.locator('#inj, b, #sh-filter script, form.sh-search script').count()).toBe(0);
    // Only the page's own two: its data block and its script.
    expect(await page.evaluate(() => document.scripts.length)).toBe(2);
    expect(await page.locator('li.sh-task').count()).toBe(0);
    expect(await page.locator('#sh-empty').isVisible()).toBe(true);
    // The tabs' links carry it encoded, and lead to the same search.
    const failedHref = await tab('Failed').getAttribute('href');
    expect(new URL(failedHref ?? '', origin).searchParams.get('q')).toBe(hostile);
    await sleep(POLL_MS * 2);
    expect(problems).toEqual([]);
  });

  it('lists what touched an object from a task\'s detail view, keeps it live, and leads back to every task', async () => {
    const { manager, tasks, settled } = await serve('affected');
    const invoice = (await manager.launch('quick', undefined, { label: 'Invoicing order 42', affected: new Order(42) })).id;
    const packing = (await manager.launch('quick', undefined, { label: 'Packing saddles', affected: ['order:42', 'order:43'] })).id;
    const shipping = (await manager.launch('quick', undefined, { label: 'Shipping order 7', affected: new Order(7) })).id;
    for (const id of [invoice, packing, shipping]) await settled(id);

    await openPage(`/affected/${packing}/`);
    const history = page.getByRole('region', { name: 'History of what it touched' });
    expect(await history.getByRole('link').allTextContents()).toEqual(['order:42', 'order:43']);
    await history.getByRole('link', { name: 'order:42' }).click();
    await page.waitForURL((url) => url.searchParams.get('affected') === 'order:42');
    expect(new URL(page.url()).pathname).toBe('/affected/');
    expect(await rowIds()).toEqual([packing, invoice]);
    expect(await page.locator('#sh-filter').textContent()).toBe('Tasks that touched order:42 · Show all tasks');
    expect(await page.locator('#sh-filter strong').textContent()).toBe('order:42');
    expect(await counts()).toMatchObject({ ALL: '2', DONE: '2', FAILED: '0' });
    // A search from here stays within the object.
    expect(await page.locator('form.sh-search input[type=hidden][name=affected]').inputValue()).toBe('order:42');

    // Polls carry the object: a task touching it shows up and runs live, another does not.
    const audit = (await manager.launch('hold', undefined, { label: 'Auditing order 42', affected: new Order(42) })).id;
    const unrelated = (await manager.launch('quick', undefined, { label: 'Shipping order 8', affected: new Order(8) })).id;
    await expect.poll(() => row(audit).locator('.sh-badge').textContent(), { timeout: LIVE_MS }).toBe('Running');
    await expect.poll(counts, { timeout: LIVE_MS }).toMatchObject({ ALL: '3', RUNNING: '1', DONE: '2' });
    tasks.release(audit, 'Order 42 balances.');
    await expect.poll(() => row(audit).locator('.sh-badge').textContent(), { timeout: LIVE_MS }).toBe('Done');
    await settled(unrelated);
    expect(await rowIds()).toEqual([audit, packing, invoice]);
    await page.screenshot({ path: join(OUTPUT_DIR, 'console-affected.png'), fullPage: true });

    await page.getByRole('link', { name: 'Show all tasks' }).click();
    await page.waitForURL(`${origin}/affected/`);
    expect(await page.locator('#sh-filter').count()).toBe(0);
    expect(await rowIds()).toEqual([unrelated, audit, shipping, packing, invoice]);
    expect(problems).toEqual([]);
  });

  it('retries a failed task from its row, and from the detail view onto the new task, linked both ways', async () => {
    const { manager, tasks, settled } = await serve('retry', { getUser: () => ({ name: 'Rarity' }) });
    const broken = (await manager.launch('broken', undefined, { label: 'Polishing the show harness' })).id;
    await settled(broken);

    await openPage('/retry/');
    const retry = row(broken).getByRole('button', { name: 'Retry Polishing the show harness' });
    expect(await retry.isVisible()).toBe(true);
    await retry.click();
    const again = await waitFor(async () => (await manager.getTask(broken))?.retriedAs, 5000, 'the retry');
    await expect.poll(() => row(again).count(), { timeout: LIVE_MS }).toBe(1);
    expect((await rowIds())[0]).toBe(again);
    await expect.poll(() => retry.isHidden(), { timeout: LIVE_MS }).toBe(true);
    await expect.poll(() => page.locator('#sh-live').textContent(), { timeout: 5000 }).toContain('Retried Polishing the show harness');
    expect(await row(again).locator('.sh-name').textContent()).toBe('Polishing the show harness');
    // The new task fails like the first; it can be retried in turn, the first one cannot.
    await expect.poll(() => row(again).locator('.sh-badge').textContent(), { timeout: LIVE_MS }).toBe('Failed');
    expect(await row(again).locator('.sh-retry').isVisible()).toBe(true);
    expect(await row(broken).locator('.sh-retry').isHidden()).toBe(true);
    expect(problems).toEqual([]);
    await page.close();

    // From the detail view of a cancelled task, Retry leads to the new task's own view.
    const stopped = (await manager.launch('hold', undefined, { label: 'Restocking the feed room' })).id;
    await waitFor(() => tasks.started.has(stopped));
    await manager.cancel(stopped, { user: 'Fluttershy' });
    await settled(stopped);
    await openPage(`/retry/${stopped}/`);
    expect(await page.locator('.sh-badge').textContent()).toBe('Cancelled');
    await page.getByRole('button', { name: 'Retry Restocking the feed room' }).click();
    const retried = await waitFor(async () => (await manager.getTask(stopped))?.retriedAs, 5000, 'the retry');
    await page.waitForURL(`${origin}/retry/${retried}/`);
    expect(await page.locator('h1').textContent()).toBe('Restocking the feed room');
    await expect.poll(() => page.locator('.sh-badge').textContent(), { timeout: LIVE_MS }).toBe('Running');
    expect(await page.locator('.sh-retry').isHidden()).toBe(true);
    const entries = await timeline();
    expect(entries.slice(0, 2)).toEqual(['Created by Rarity', 'Launched as a retry of another task']);
    const back = page.locator('#sh-timeline a');
    expect(await back.count()).toBe(1);
    expect(await back.textContent()).toBe(stopped);
    expect(await back.getAttribute('href')).toBe(`/retry/${stopped}/`);
    await page.screenshot({ path: join(OUTPUT_DIR, 'console-retry-detail.png'), fullPage: true });

    // The original names the retry: who retried it, and a link to it.
    await back.click();
    await page.waitForURL(`${origin}/retry/${stopped}/`);
    const original = await timeline();
    expect(original).toContain('Cancel requested by Fluttershy');
    expect(original).toContain('Cancelled');
    expect(original.at(-1)).toBe('Retried by Rarity as');
    expect(await page.locator('#sh-timeline > li').last().locator('a').getAttribute('href')).toBe(`/retry/${retried}/`);
    expect(await page.locator('.sh-retry').isHidden()).toBe(true);
    tasks.release(retried);
    expect(problems).toEqual([]);
  });

  it('builds the timeline live as a task passes each quarter, and as it is cancelled', async () => {
    const { manager, rounds, settled } = await serve('timeline', { getUser: () => ({ name: 'Rarity' }) });
    const walk = (await manager.launch('rounds', undefined, { user: { name: 'Applejack' } })).id;
    await waitFor(() => rounds.started.has(walk));
    await openPage(`/timeline/${walk}/`);
    await expect.poll(timeline, { timeout: 5000 }).toEqual(['Created by Applejack', expect.stringMatching(/^Started on \S+/)]);
    // Marked: the detail view patches the page in place, it never reloads it.
    await page.evaluate(() => { (window as Window & { mark?: number }).mark = 42; });

    const milestones: string[] = [];
    for (const percent of [25, 50, 75]) {
      rounds.step(walk, percent);
      milestones.push(`Reached ${percent}% — Stall ${percent / 25} of 4`);
      await expect.poll(async () => (await timeline()).slice(2), { timeout: LIVE_MS }).toEqual(milestones);
      expect(await page.locator('[data-field="progress"]').textContent()).toBe(`${percent}%`);
      expect(await page.locator('.sh-badge').textContent()).toBe('Running');
    }
    await page.screenshot({ path: join(OUTPUT_DIR, 'console-timeline-running.png'), fullPage: true });
    rounds.step(walk, 100);
    await expect.poll(async () => (await timeline()).slice(5), { timeout: LIVE_MS }).toEqual(['Done', 'Cleaned up']);
    expect(await page.locator('.sh-badge').textContent()).toBe('Done');
    expect(await page.evaluate(() => (window as Window & { mark?: number }).mark)).toBe(42);
    // Every entry carries its moment, machine-readable.
    for (const at of await page.locator('#sh-timeline time').evaluateAll((times) => times.map((time) => time.getAttribute('datetime') ?? ''))) {
      expect(Number.isNaN(Date.parse(at))).toBe(false);
    }
    expect(problems).toEqual([]);
    await page.close();

    // Cancelled from its own view at half way: who asked, then the end.
    const second = (await manager.launch('rounds', undefined, { user: { name: 'Applejack' } })).id;
    await waitFor(() => rounds.started.has(second));
    await openPage(`/timeline/${second}/`);
    rounds.step(second, 25);
    rounds.step(second, 50);
    await expect.poll(async () => (await timeline()).slice(2), { timeout: LIVE_MS }).toEqual(['Reached 25% — Stall 1 of 4', 'Reached 50% — Stall 2 of 4']);
    await page.getByRole('button', { name: 'Cancel Evening stable rounds' }).click();
    await expect.poll(async () => (await timeline()).slice(4), { timeout: LIVE_MS }).toEqual(['Cancel requested by Rarity', 'Cancelled', 'Cleaned up']);
    expect(await page.locator('.sh-badge').textContent()).toBe('Cancelled');
    await settled(second);
    // What the script built is what the server renders.
    const live = await timeline();
    await page.reload();
    expect(await timeline()).toEqual(live);
    expect(problems).toEqual([]);
  });

  it('draws a metrics chart per kind with bars of each outcome, described in words', async () => {
    const { manager, tasks, settled } = await serve('metrics', {}, { metricsCacheMs: 0 });
    const ids = [(await manager.launch('quick')).id, (await manager.launch('quick')).id, (await manager.launch('broken')).id];
    const kept = (await manager.launch('hold')).id;
    const dropped = (await manager.launch('hold')).id;
    await waitFor(() => tasks.started.has(kept) && tasks.started.has(dropped));
    tasks.release(kept);
    await manager.cancel(dropped);
    for (const id of [...ids, kept, dropped]) await settled(id);

    await openPage('/metrics/');
    const box = page.locator('details.sh-metrics-box');
    expect(await box.evaluate((el) => (el as HTMLDetailsElement).open)).toBe(false);
    expect(await box.locator('svg.sh-metrics-chart').first().isVisible()).toBe(false);
    await box.locator('summary').click();
    expect(await box.evaluate((el) => (el as HTMLDetailsElement).open)).toBe(true);

    const expected: Record<string, { finished: number; failed: number; cancelled: number; bars: string[] }> = {
      quick: { finished: 2, failed: 0, cancelled: 0, bars: ['sh-bar-done'] },
      broken: { finished: 1, failed: 1, cancelled: 0, bars: ['sh-bar-failed'] },
      hold: { finished: 2, failed: 0, cancelled: 1, bars: ['sh-bar-done', 'sh-bar-cancelled'] },
    };
    for (const span of ['hour', 'day']) {
      const section = box.locator('section.sh-metrics-window').filter({ has: page.getByRole('heading', { name: `Last ${span}`, exact: true }) });
      expect(await section.count()).toBe(1);
      // Kinds with no task in the window are left out (xss, progress, rounds).
      expect((await section.locator('h4.sh-metrics-kind').allTextContents()).sort()).toEqual(Object.keys(expected).sort());
      for (const [kind, want] of Object.entries(expected)) {
        const chart = section.locator('li.sh-metrics-row').filter({ has: page.locator('h4', { hasText: new RegExp(`^${kind}$`) }) }).locator('svg.sh-metrics-chart');
        expect(await chart.count()).toBe(1);
        expect(await chart.isVisible()).toBe(true);
        expect(await chart.getAttribute('role')).toBe('img');
        expect(await chart.getAttribute('aria-label'))
          .toBe(`${kind}: ${want.finished} finished in the last ${span}, ${want.failed} failed, ${want.cancelled} cancelled`);
        const classes = await chart.locator('rect:not(.sh-chart-baseline)').evaluateAll((rects) => rects.map((rect) => rect.getAttribute('class') ?? ''));
        expect([...new Set(classes)].sort()).toEqual([...want.bars].sort());
        // Each bar says its figures in its tooltip; together they add up to the kind's.
        const titles = await chart.locator('g > title').allTextContents();
        const sum = (word: string) => titles.reduce((total, title) => total + Number(new RegExp(`(\\d+) ${word}`).exec(title)?.[1] ?? 0), 0);
        expect([sum('done'), sum('failed'), sum('cancelled')]).toEqual([want.finished - want.failed - want.cancelled, want.failed, want.cancelled]);
      }
    }
    await page.screenshot({ path: join(OUTPUT_DIR, 'console-metrics.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
