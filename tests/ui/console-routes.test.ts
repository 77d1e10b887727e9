import express, { type Express } from 'express';
import request from 'supertest';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ModelTrackingTaskManager, StablehandTaskLock, StablehandTaskRecord } from '../../src/index.js';
import type { TaskManager } from '../../src/manager/task-manager.js';
import {
  createTaskRouter, type TaskRouterAction, type TaskRouterAuthorizeContext, type TaskRouterManager, type TaskRouterOptions,
} from '../../src/ui/create-task-router.js';
import { sqlite, tempDir } from '../helpers/data-sources.js';
import { ControlledTasks, XSS_LABEL, csrfPoster, pageData, recordingLogger, sleep, useStartedManager, waitFor } from './helpers.js';

// The operator's console through HTTP: the filters, search and cursors of `GET /` and
// `GET status/`, `GET metrics/`, `GET fragment/`, `POST :id/retry/` and the new detail fields,
// against a real Express app and a real TaskManager (and, at the end, a SQLite file).

/** A host model: `launch(..., { affected: new Order(42) })` is indexed as `order:42`. */
class Order {
  constructor(readonly id: number) {}
}

// Every response of every app built here, and every fault the routers log: checked after each test.
const served: string[] = [];
const routerLog = recordingLogger();

afterEach(() => {
  const failures = served.splice(0).filter((line) => /^5\d\d /.test(line));
  const logged = routerLog.errors.splice(0);
  expect(failures, 'no route answered 5xx').toEqual([]);
  expect(logged, 'the router logged no fault').toEqual([]);
});

/**
 * A host app with the router at `mount`, offering every kind of `manager`. It records every
 * response's status, and anything that escapes the router (which must never happen).
 */
function consoleApp(manager: TaskRouterManager, options: TaskRouterOptions = {}, mount = '/tasks', queryParser?: 'extended'): Express {
  const app = express();
  if (queryParser) app.set('query parser', queryParser);
  app.use((req, res, next) => {
    res.on('finish', () => served.push(`${res.statusCode} ${req.method} ${req.originalUrl}`));
    next();
  });
  app.use(mount, createTaskRouter(manager, { kinds: [...manager.kinds], logger: routerLog, ...options }));
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- Express tells error middleware by its four parameters
  app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    served.push(`599 escaped: ${String(error)}`);
    res.status(599).send('escaped');
  });
  return app;
}

/**
 * The TaskRouterManager members every manager must have, taken from a real manager: no counts,
 * metrics, retry, fleet or search box.
 */
function minimalManager(manager: TaskManager): TaskRouterManager {
  return {
    kinds: manager.kinds,
    launch: (kind, input, options) => manager.launch(kind, input, options),
    cancel: (id, options) => manager.cancel(id, options),
    getTask: (id) => manager.getTask(id),
    listTasks: (query) => manager.listTasks(query),
  };
}

async function settle(manager: TaskManager, id: string, status: string): Promise<void> {
  await waitFor(async () => (await manager.getTask(id))?.status === status, 5000, `${id} to be ${status}`);
}

function idsOf(res: request.Response): string[] {
  return (res.body.tasks as { id: string }[]).map((task) => task.id);
}

function pageIds(html: string): string[] {
  return (pageData(html).tasks as { id: string }[]).map((task) => task.id);
}

function expectInvalidQuery(res: request.Response, parameter: string): void {
  expect(res.status, res.text).toBe(400);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body).toEqual({ error: { code: 'INVALID_QUERY', message: expect.stringContaining(`"${parameter}"`) } });
}

function expectError(res: request.Response, status: number, code: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
}

/** An attribute value as the browser reads it. */
function unescapeAttribute(value: string): string {
  return value.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

interface Link {
  /** As written in the markup. */
  rawHref: string;
  /** As the browser follows it. */
  href: string;
  attributes: string;
  inner: string;
}

/** The `<a>` elements whose opening tag matches `marker`. */
function linksIn(html: string, marker: RegExp): Link[] {
  const found: Link[] = [];
  for (const match of html.matchAll(/<a\b([^>]*)>([\s\S]*?)<\/a>/g)) {
    const attributes = match[1];
    if (!marker.test(attributes)) continue;
    const rawHref = /\bhref="([^"]*)"/.exec(attributes)?.[1] ?? '';
    found.push({ rawHref, href: unescapeAttribute(rawHref), attributes, inner: match[2] });
  }
  return found;
}

interface Tab {
  label: string;
  href: string;
  current: boolean;
  count: number | null;
}

function tabsOf(html: string): Tab[] {
  return linksIn(html, /class="sh-tab"/).map((link) => {
    const count = /data-count="\w+">(\d+)</.exec(link.inner)?.[1];
    return {
      label: link.inner.replace(/<span[\s\S]*$/, ''),
      href: link.href,
      current: link.attributes.includes('aria-current="page"'),
      count: count === undefined ? null : Number(count),
    };
  });
}

/** The `<li>` of one task in the list page. */
function rowOf(html: string, id: string): string {
  const at = html.indexOf(`data-id="${id}">`);
  if (at < 0) throw new Error(`no row for ${id}`);
  const start = html.lastIndexOf('<li', at);
  return html.slice(start, html.indexOf('</li>', at) + '</li>'.length);
}

const RETRY_BUTTON = '<button type="button" class="sh-retry"';
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UNKNOWN_ID = '01900000-0000-7000-8000-000000000000';

/**
 * Malformed queries of `GET /` and `GET status/`: a label, the query string (already URL
 * encoded), and the parameter the 400's message must name.
 */
const BAD_QUERIES: [string, string, string][] = [
  ['an unknown status', 'status=SLEEPING', 'status'],
  ['an empty status', 'status=', 'status'],
  ['a status list with one unknown', 'status=FAILED,NAPPING', 'status'],
  ['a bracketed status', 'status[]=FAILED', 'status'],
  ['a repeated search', 'q=a&q=b', 'q'],
  ['a bracketed search', 'q[]=x', 'q'],
  ['an indexed search', 'q[0]=x', 'q'],
  ['an affected object', 'affected[x]=1', 'affected'],
  ['a repeated affected key', 'affected=order:1&affected=order:2', 'affected'],
  ['a 201-character search', `q=${encodeURIComponent(`${'hay '.repeat(50)}x`)}`, 'q'],
  ['a 10 KB search', `q=${'x'.repeat(10 * 1024)}`, 'q'],
  ['a NUL in the search', 'q=hay%00loft', 'q'],
  ['a control character in the search', 'q=hay%01loft', 'q'],
  ['a DEL in the search', 'q=hay%7F', 'q'],
  ['a line feed in the search', 'q=hay%0Aloft', 'q'],
  ['a search without a word', 'q=%21%21%21', 'q'],
  ['a search of nine terms', 'q=a%20b%20c%20d%20e%20f%20g%20h%20i', 'q'],
  ['an affected key without a colon', 'affected=order', 'affected'],
  ['an affected key without a type', 'affected=:42', 'affected'],
  ['an affected key without an id', 'affected=order:', 'affected'],
  ['an affected key whose id is blank', 'affected=order:%20%20', 'affected'],
  ['an affected type with a space', 'affected=Or%20der:1', 'affected'],
  ['an affected id of 300 characters', `affected=order:${'7'.repeat(300)}`, 'affected'],
  ['an affected key of NUL', 'affected=%00', 'affected'],
  ['a NUL in the affected id', 'affected=order:4%002', 'affected'],
  ['a 201-character cursor', `before=${'x'.repeat(201)}`, 'before'],
  ['a 65-character cursor', `before=${'x'.repeat(65)}`, 'before'],
  ['an empty cursor', 'before=', 'before'],
  ['a control character as cursor', 'after=%01', 'after'],
  ['a repeated cursor', `before=${UNKNOWN_ID}&before=${UNKNOWN_ID}`, 'before'],
  ['both cursors', `before=${UNKNOWN_ID}&after=${UNKNOWN_ID}`, 'after'],
  ['a zero limit', 'limit=0', 'limit'],
  ['a limit over 500', 'limit=501', 'limit'],
  ['a negative limit', 'limit=-1', 'limit'],
  ['a fractional limit', 'limit=1.5', 'limit'],
  ['a limit in words', 'limit=ten', 'limit'],
  ['a repeated limit', 'limit=1&limit=2', 'limit'],
];

describe('the console over TaskManager', () => {
  let manager: TaskManager;
  let tasks: ControlledTasks;
  useStartedManager((started) => ({ manager, tasks } = started), { milestonesAfterMs: 0 });

  describe('GET status/ filters', () => {
    it('narrows to a status tab and counts every status within the other filters', async () => {
      const done = await manager.launch('quick', undefined, { affected: new Order(42) });
      const failedA = await manager.launch('broken', undefined, { affected: new Order(42) });
      const failedB = await manager.launch('broken');
      const running = await manager.launch('hold', undefined, { affected: [new Order(42), new Order(7)] });
      await waitFor(() => tasks.started.has(running.id));
      await settle(manager, done.id, 'DONE');
      await settle(manager, failedA.id, 'FAILED');
      await settle(manager, failedB.id, 'FAILED');
      const app = consoleApp(manager);

      const failed = await request(app).get('/tasks/status/?status=FAILED');
      expect(failed.status).toBe(200);
      expect(idsOf(failed)).toEqual([failedB.id, failedA.id]);
      expect(failed.body.counts).toEqual({ ALL: 4, PENDING: 0, RUNNING: 1, DONE: 1, FAILED: 2, CANCELLED: 0 });

      const several = await request(app).get('/tasks/status/?status=failed,%20done');
      expect(idsOf(several)).toEqual([failedB.id, failedA.id, done.id]);
      const repeated = await request(app).get('/tasks/status/?status=FAILED&status=DONE');
      expect(idsOf(repeated)).toEqual([failedB.id, failedA.id, done.id]);

      const touched = await request(app).get('/tasks/status/?status=FAILED&affected=order:42');
      expect(idsOf(touched)).toEqual([failedA.id]);
      expect(touched.body.counts).toEqual({ ALL: 3, PENDING: 0, RUNNING: 1, DONE: 1, FAILED: 1, CANCELLED: 0 });

      const cancelled = await request(app).get('/tasks/status/?status=CANCELLED');
      expect(cancelled.body).toEqual({ tasks: [], next_cursor: null, prev_cursor: null, counts: expect.objectContaining({ ALL: 4 }) });
    });

    it('searches words of the kind, the label and the user, affected keys and id prefixes', async () => {
      const byLabel = await manager.launch('quick', undefined, { label: 'Oats for Shadowfax' });
      const byUser = await manager.launch('quick', undefined, { user: { name: 'Marigold Stablemaster' } });
      const byKind = await manager.launch('broken');
      const byKey = await manager.launch('hold', undefined, { affected: new Order(42) });
      await waitFor(() => tasks.started.has(byKey.id));
      await settle(manager, byLabel.id, 'DONE');
      await settle(manager, byUser.id, 'DONE');
      await settle(manager, byKind.id, 'FAILED');
      const app = consoleApp(manager);
      const search = async (q: string): Promise<string[]> => {
        const res = await request(app).get(`/tasks/status/?q=${encodeURIComponent(q)}`);
        expect(res.status, `q=${q}: ${res.text}`).toBe(200);
        return idsOf(res);
      };

      expect(await search('shadowfax')).toEqual([byLabel.id]);
      expect(await search('SHADOWFAX  oats')).toEqual([byLabel.id]);
      expect(await search('marigold')).toEqual([byUser.id]);
      expect(await search('broken')).toEqual([byKind.id]);
      expect(await search('brass')).toEqual([byKind.id]);
      expect(await search('order:42')).toEqual([byKey.id]);
      expect(await search('Order:42')).toEqual([byKey.id]);
      expect(await search('shadowfax marigold')).toEqual([]);
      expect(await search('order:43')).toEqual([]);
      // The time and sequence of an id (its first 18 characters) are unique to it in one process.
      expect(await search(byUser.id.slice(0, 18))).toEqual([byUser.id]);
      expect(await search(byUser.id.slice(0, 18).toUpperCase())).toEqual([byUser.id]);
      expect(await search(byUser.id)).toEqual([byUser.id]);
      // Blank reads as no search, as an emptied search box submits it.
      expect(await search('   ')).toEqual([byKey.id, byKind.id, byUser.id, byLabel.id]);
      // 200 characters is the limit, not over it.
      expect(await search(`${'oats '.repeat(39)}oats!`)).toEqual([byLabel.id]);

      const counted = await request(app).get('/tasks/status/?q=brass');
      expect(counted.body.counts).toEqual({ ALL: 1, PENDING: 0, RUNNING: 0, DONE: 0, FAILED: 1, CANCELLED: 0 });
    });

    it('lists the tasks that touched an affected object, its type in any case', async () => {
      const first = await manager.launch('quick', undefined, { affected: new Order(42) });
      await manager.launch('quick', undefined, { affected: new Order(420) });
      const second = await manager.launch('broken', undefined, { affected: [new Order(7), 'order:42'] });
      const odd = await manager.launch('quick', undefined, { affected: 'order:<b>"42"</b>' });
      await settle(manager, first.id, 'DONE');
      await settle(manager, second.id, 'FAILED');
      await settle(manager, odd.id, 'DONE');
      const app = consoleApp(manager);

      const res = await request(app).get('/tasks/status/?affected=order:42');
      expect(res.status).toBe(200);
      expect(idsOf(res)).toEqual([second.id, first.id]);
      expect(res.body.counts).toEqual({ ALL: 2, PENDING: 0, RUNNING: 0, DONE: 1, FAILED: 1, CANCELLED: 0 });
      expect(idsOf(await request(app).get('/tasks/status/?affected=ORDER:42'))).toEqual([second.id, first.id]);
      expect(idsOf(await request(app).get('/tasks/status/?affected=%20order:42%20'))).toEqual([second.id, first.id]);
      expect(idsOf(await request(app).get('/tasks/status/?affected=order:43'))).toEqual([]);
      expect(idsOf(await request(app).get(`/tasks/status/?affected=${encodeURIComponent('order:<b>"42"</b>')}`))).toEqual([odd.id]);
      // An empty parameter is no filter.
      expect(idsOf(await request(app).get('/tasks/status/?affected=&q='))).toHaveLength(4);
      // The longest id accepted is 200 characters.
      const long = await request(app).get(`/tasks/status/?affected=order:${'7'.repeat(200)}`);
      expect(long.status).toBe(200);
      expect(long.body.tasks).toEqual([]);
    });

    it('pages older with next_cursor, then newer with prev_cursor, within the filters', async () => {
      const made: string[] = [];
      for (let n = 0; n < 5; n++) {
        made.push((await manager.launch('quick', undefined, { affected: new Order(9) })).id);
        await manager.launch('quick', undefined, { affected: new Order(10) });
      }
      const [t1, t2, t3, t4, t5] = made;
      for (const id of made) await settle(manager, id, 'DONE');
      const app = consoleApp(manager);
      const get = (query: string) => request(app).get(`/tasks/status/?affected=order:9&limit=2${query}`);

      const first = await get('');
      expect(idsOf(first)).toEqual([t5, t4]);
      expect(first.body.prev_cursor).toBeNull();
      expect(first.body.next_cursor).toEqual(expect.any(String));

      const second = await get(`&before=${encodeURIComponent(first.body.next_cursor)}`);
      expect(idsOf(second)).toEqual([t3, t2]);
      expect(second.body.prev_cursor).toEqual(expect.any(String));

      const last = await get(`&before=${encodeURIComponent(second.body.next_cursor)}`);
      expect(idsOf(last)).toEqual([t1]);
      expect(last.body.next_cursor).toBeNull();
      expect(last.body.prev_cursor).toEqual(expect.any(String));

      const back = await get(`&after=${encodeURIComponent(last.body.prev_cursor)}`);
      expect(idsOf(back)).toEqual([t3, t2]);
      expect(back.body.prev_cursor).toEqual(expect.any(String));

      const top = await get(`&after=${encodeURIComponent(back.body.prev_cursor)}`);
      expect(idsOf(top)).toEqual([t5, t4]);
      expect(top.body.prev_cursor).toBeNull();
      expect(top.body.next_cursor).toEqual(expect.any(String));

      // A 64-character cursor is still a cursor (it names no task, so it only bounds the page).
      const longest = await request(app).get(`/tasks/status/?affected=order:9&before=${'f'.repeat(64)}`);
      expect(longest.status).toBe(200);
      expect(idsOf(longest)).toEqual([t5, t4, t3, t2, t1]);
    });
  });

  describe('the page carries its URL state', () => {
    it('marks the current tab, fills the search box, notes the filter and pages with links that keep them', async () => {
      const failed: string[] = [];
      for (let n = 0; n < 3; n++) failed.push((await manager.launch('broken')).id);
      const done = await manager.launch('quick');
      for (const id of failed) await settle(manager, id, 'FAILED');
      await settle(manager, done.id, 'DONE');
      const app = consoleApp(manager, { pageSize: 2 }, '/ops/tasks');
      const q = 'brass "<tack>"';
      const filters = new URLSearchParams({ status: 'FAILED', q }).toString();

      const res = await request(app).get(`/ops/tasks/?${filters}`).set('Accept', 'text/html');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      const html = res.text;
      expect(pageIds(html)).toEqual([failed[2], failed[1]]);
      // Nothing of the search reaches the markup unescaped.
      expect(html).not.toContain('<tack>');
      expect(html).not.toContain('"<tack>"');

      const tabs = tabsOf(html);
      expect(tabs.map((tab) => tab.label)).toEqual(['All', 'Running', 'Pending', 'Failed', 'Done', 'Cancelled']);
      expect(tabs.filter((tab) => tab.current).map((tab) => tab.label)).toEqual(['Failed']);
      expect(tabs.find((tab) => tab.label === 'Failed')?.count).toBe(3);
      expect(tabs.find((tab) => tab.label === 'All')?.count).toBe(3);
      expect(tabs.find((tab) => tab.label === 'Done')?.count).toBe(0);
      // Tabs keep the search and drop the status of the current one.
      expect(tabs.find((tab) => tab.label === 'All')?.href).toBe(`/ops/tasks/?${new URLSearchParams({ q }).toString()}`);
      expect(tabs.find((tab) => tab.label === 'Done')?.href).toBe(`/ops/tasks/?${new URLSearchParams({ status: 'DONE', q }).toString()}`);

      const form = /<form class="sh-search"[\s\S]*?<\/form>/.exec(html)?.[0] ?? '';
      expect(form).toContain('action="/ops/tasks/"');
      expect(form).toContain('<input type="hidden" name="status" value="FAILED">');
      expect(form).toContain('value="brass &quot;&lt;tack&gt;&quot;"');

      const note = /<p class="sh-filter" id="sh-filter">[\s\S]*?<\/p>/.exec(html)?.[0] ?? '';
      expect(note).toContain('brass &quot;&lt;tack&gt;&quot;');
      expect(linksIn(note, /href=/).map((link) => link.href)).toEqual(['/ops/tasks/']);

      expect(html).toContain('<nav class="sh-pager"');
      expect(linksIn(html, /rel="prev"/)).toEqual([]);
      const [older] = linksIn(html, /rel="next"/);
      expect(older.rawHref).toContain('&amp;');
      expect(older.rawHref).not.toMatch(/&(?!amp;)/);
      const olderUrl = new URL(older.href, 'http://host');
      expect(olderUrl.pathname).toBe('/ops/tasks/');
      expect(Object.fromEntries(olderUrl.searchParams)).toEqual({ status: 'FAILED', q, before: failed[1] });

      const page2 = await request(app).get(older.href).set('Accept', 'text/html');
      expect(page2.status).toBe(200);
      expect(pageIds(page2.text)).toEqual([failed[0]]);
      expect(linksIn(page2.text, /rel="next"/)).toEqual([]);
      const [newer] = linksIn(page2.text, /rel="prev"/);
      const newerUrl = new URL(newer.href, 'http://host');
      expect(Object.fromEntries(newerUrl.searchParams)).toEqual({ status: 'FAILED', q, after: failed[0] });
      // The tabs of an older page lead to the first page of their filter.
      expect(tabsOf(page2.text).find((tab) => tab.label === 'Failed')?.href).toBe(`/ops/tasks/?${filters}`);

      // Newer reached the first page: the server sends it to that page's own URL, filters kept.
      const back = await request(app).get(newer.href).set('Accept', 'text/html');
      expect(back.status).toBe(303);
      expect(back.headers.location).toBe(`/ops/tasks/?${filters}`);
      const first = await request(app).get(back.headers.location).set('Accept', 'text/html');
      expect(pageIds(first.text)).toEqual([failed[2], failed[1]]);

      // The page's own polls keep its filters too.
      expect(pageData(html).statusUrl).toBe(`/ops/tasks/status/?${filters}&limit=2`);
    });

    it('keeps the page size of ?limit= in its pager links', async () => {
      for (let n = 0; n < 3; n++) await manager.launch('hold');
      const app = consoleApp(manager);
      const res = await request(app).get('/tasks/?limit=2').set('Accept', 'text/html');
      expect(pageIds(res.text)).toHaveLength(2);
      const [older] = linksIn(res.text, /rel="next"/);
      expect(new URL(older.href, 'http://host').searchParams.get('limit')).toBe('2');
    });

    it('shows the All tab as current and no filter note or pager on the plain first page', async () => {
      await manager.launch('hold');
      const html = (await request(consoleApp(manager)).get('/tasks/')).text;
      expect(tabsOf(html).filter((tab) => tab.current).map((tab) => tab.label)).toEqual(['All']);
      expect(tabsOf(html).find((tab) => tab.label === 'All')?.count).toBe(1);
      expect(html).toContain('<form class="sh-search"');
      expect(html).not.toContain('id="sh-filter"');
      expect(html).not.toContain('<nav class="sh-pager"');
      expect(html).toContain('<details class="sh-metrics-box">');
    });

    it('notes the affected filter, normalised and escaped, and keeps it in the search form and tabs', async () => {
      const hostile = 'order:"><script>alert(1)</script>';
      const touched = await manager.launch('quick', undefined, { affected: [new Order(42), hostile] });
      await settle(manager, touched.id, 'DONE');
      const app = consoleApp(manager);

      const html = (await request(app).get('/tasks/?affected=Order:42')).text;
      expect(pageIds(html)).toEqual([touched.id]);
      const note = /<p class="sh-filter" id="sh-filter">[\s\S]*?<\/p>/.exec(html)?.[0] ?? '';
      expect(note).toContain('<strong>order:42</strong>');
      expect(html).toContain('<input type="hidden" name="affected" value="order:42">');
      expect(tabsOf(html).find((tab) => tab.label === 'Running')?.href).toBe('/tasks/?status=RUNNING&affected=order%3A42');

      const res = await request(app).get(`/tasks/?affected=${encodeURIComponent(hostile)}`);
      expect(res.status).toBe(200);
      expect(pageIds(res.text)).toEqual([touched.id]);
      expect(res.text).not.toContain('<script>alert');
      expect(res.text).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');

      const detail = await request(app).get(`/tasks/${touched.id}/`).set('Accept', 'text/html');
      expect(detail.text).not.toContain('<script>alert');
      expect(linksIn(detail.text, /href="[^"]*affected=/).map((link) => link.href))
        .toEqual(['/tasks/?affected=order%3A42', `/tasks/?affected=${encodeURIComponent(hostile)}`]);

      const searched = await request(app).get(`/tasks/?q=${encodeURIComponent('<script>alert(1)</script>')}`);
      expect(searched.status).toBe(200);
      expect(searched.text).not.toContain('<script>alert');
      expect(searched.text).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;"');
    });
  });

  describe('bad queries answer 400 INVALID_QUERY in JSON', () => {
    it.each(BAD_QUERIES)('GET status/ with %s', async (_label, query, parameter) => {
      expectInvalidQuery(await request(consoleApp(manager)).get(`/tasks/status/?${query}`), parameter);
    });

    it.each(BAD_QUERIES)('GET / with %s, even for a browser', async (_label, query, parameter) => {
      const res = await request(consoleApp(manager)).get(`/tasks/?${query}`).set('Accept', 'text/html');
      expectInvalidQuery(res, parameter);
    });

    it.each([
      ['q[]=x', 'q'], ['affected[x]=1', 'affected'], ['before[]=x', 'before'], ['limit[]=1', 'limit'],
      ['status[]=FAILED&status[]=BOGUS', 'status'], ['q=a&q=b', 'q'], ['q[a][b]=1', 'q'],
    ])('GET status/?%s under the extended query parser', async (query, parameter) => {
      const app = consoleApp(manager, {}, '/tasks', 'extended');
      expectInvalidQuery(await request(app).get(`/tasks/status/?${query}`), parameter);
    });
  });

  describe('GET metrics/', () => {
    it('answers the figures per window and kind, with an ETag a client revalidates', async () => {
      const quick = [await manager.launch('quick'), await manager.launch('quick')];
      const broken = await manager.launch('broken');
      for (const task of quick) await settle(manager, task.id, 'DONE');
      await settle(manager, broken.id, 'FAILED');
      const app = consoleApp(manager);

      const res = await request(app).get('/tasks/metrics/');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body.generatedAt).toMatch(ISO_UTC);
      expect(res.body.windows.map((window: { name: string; bucketMs: number }) => [window.name, window.bucketMs]))
        .toEqual([['hour', 300_000], ['day', 3_600_000]]);
      const [hour, day] = res.body.windows;
      expect(hour.from).toMatch(ISO_UTC);
      expect(Date.parse(hour.to) - Date.parse(hour.from)).toBe(3_600_000);
      expect(Date.parse(day.to) - Date.parse(day.from)).toBe(86_400_000);
      expect(hour.kinds.map((kind: { kind: string }) => kind.kind)).toEqual(['quick', 'broken']);
      const [q, b] = hour.kinds;
      expect(q).toMatchObject({ kind: 'quick', finished: 2, done: 2, failed: 0, cancelled: 0, failureRate: 0 });
      expect(q.durationP50).toBeGreaterThan(0.03);
      expect(q.durationP95).toBeGreaterThanOrEqual(q.durationP50);
      expect(q.throughputPerHour).toBeGreaterThan(0);
      expect(q.buckets).toHaveLength(12);
      expect(q.buckets.reduce((sum: number, bucket: { done: number }) => sum + bucket.done, 0)).toBe(2);
      expect(b).toMatchObject({ kind: 'broken', finished: 1, done: 0, failed: 1, failureRate: 1, durationP50: null, durationP95: null });
      expect(day.kinds[0].buckets).toHaveLength(24);

      const etag = res.headers.etag;
      expect(etag).toEqual(expect.any(String));
      const again = await request(app).get('/tasks/metrics/').set('If-None-Match', etag);
      expect(again.status).toBe(304);
      expect(again.text).toBe('');
      const stale = await request(app).get('/tasks/metrics/').set('If-None-Match', '"not-it"');
      expect(stale.status).toBe(200);
    });

    it('refuses other methods with 405', async () => {
      const res = await request(consoleApp(manager)).post('/tasks/metrics/');
      expectError(res, 405, 'METHOD_NOT_ALLOWED');
      expect(res.headers.allow).toBe('GET, HEAD');
    });
  });

  describe('GET fragment/', () => {
    it('renders the tasks that touched an object as a script-free HTML fragment under the mount path', async () => {
      const app = consoleApp(manager, {}, '/ops/tasks');
      const xss = await manager.launch('xss', undefined, { affected: new Order(42) });
      const img = await manager.launch('quick', undefined, { affected: new Order(42), label: '<img src=x onerror=alert(1)> hay' });
      await manager.launch('quick', undefined, { affected: new Order(43) });
      await settle(manager, xss.id, 'DONE');
      await settle(manager, img.id, 'DONE');

      const res = await request(app).get('/ops/tasks/fragment/?affected=Order:42');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html; charset=utf-8/);
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['cache-control']).toBe('no-store');
      const html = res.text;
      expect(html).not.toMatch(/<script/i);
      expect(html).not.toMatch(/<style/i);
      expect(html).not.toMatch(/\sstyle=/i);
      expect(html).not.toMatch(/<img/i);
      expect(html).not.toContain('<b>');
      // XSS_LABEL is '</script><b>Bold</b> & "quoted" …'.
      expect(XSS_LABEL.startsWith('</script><b>Bold</b>')).toBe(true);
      expect(html).toContain('&lt;/script&gt;&lt;b&gt;Bold&lt;/b&gt; &amp; &quot;quoted&quot;');
      expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; hay');

      const hrefs = linksIn(html, /href=/).map((link) => link.href);
      expect(hrefs).toEqual([`/ops/tasks/${img.id}/`, `/ops/tasks/${xss.id}/`, '/ops/tasks/?affected=order%3A42']);
    });

    it('escapes a hostile affected key and says when nothing touched it', async () => {
      const hostile = 'order:"><script>alert(1)</script>';
      const res = await request(consoleApp(manager)).get(`/tasks/fragment/?affected=${encodeURIComponent(hostile)}`);
      expect(res.status).toBe(200);
      expect(res.text).not.toMatch(/<script/i);
      expect(res.text).toContain('class="sh-embed-empty"');
      expect(linksIn(res.text, /href=/).map((link) => link.href)).toEqual([`/tasks/?affected=${encodeURIComponent(hostile)}`]);
    });

    it('answers 400 without an affected object, or with a malformed one', async () => {
      const app = consoleApp(manager);
      expectError(await request(app).get('/tasks/fragment/'), 400, 'INVALID_QUERY');
      expectError(await request(app).get('/tasks/fragment/?affected='), 400, 'INVALID_QUERY');
      expectError(await request(app).get('/tasks/fragment/?q=hay'), 400, 'INVALID_QUERY');
      for (const bad of ['order', ':42', 'order:', 'Or%20der:1', '%00', `order:${'7'.repeat(300)}`]) {
        expectInvalidQuery(await request(app).get(`/tasks/fragment/?affected=${bad}`), 'affected');
      }
      expectInvalidQuery(await request(app).get('/tasks/fragment/?affected[]=order:1'), 'affected');
      expectInvalidQuery(await request(app).get('/tasks/fragment/?affected=order:1&affected=order:2'), 'affected');
      expectError(await request(app).post('/tasks/fragment/?affected=order:1'), 405, 'METHOD_NOT_ALLOWED');
    });
  });

  describe('GET :id/ with the console fields', () => {
    it('shows milestones, cleanup and affected keys in JSON, and a timeline and history links in HTML', async () => {
      manager.define('steps', {
        label: 'Sweeping the lofts',
        run: async ({ progress }) => {
          progress(30, 'Loft A');
          await sleep(40);
          progress(60, 'Loft B');
          await sleep(40);
          return 'swept';
        },
      });
      const launched = await manager.launch('steps', undefined, { affected: [new Order(42), 'shelf:b-7'] });
      await settle(manager, launched.id, 'DONE');
      const app = consoleApp(manager);

      const json = await request(app).get(`/tasks/${launched.id}/`);
      expect(json.status).toBe(200);
      expect(json.body).toMatchObject({
        retry_of: null, retried_as: null, retried_by: null, retried_at: null, cleaned_up: true,
        affected_keys: ['order:42', 'shelf:b-7'],
        milestones: [
          { percent: 30, message: 'Loft A', at: expect.stringMatching(ISO_UTC), attempt: 1 },
          { percent: 60, message: 'Loft B', at: expect.stringMatching(ISO_UTC), attempt: 1 },
        ],
      });

      const html = (await request(app).get(`/tasks/${launched.id}/`).set('Accept', 'text/html')).text;
      const timeline = /<ol class="sh-timeline" id="sh-timeline">([\s\S]*?)<\/ol>/.exec(html)?.[1] ?? '';
      expect(timeline).toContain('Reached 30% \u2014 Loft A');
      expect(timeline).toContain('Reached 60% \u2014 Loft B');
      expect(timeline).toContain('Done');
      expect(linksIn(html, /href="[^"]*affected=/).map((link) => link.href))
        .toEqual(['/tasks/?affected=order%3A42', '/tasks/?affected=shelf%3Ab-7']);
    });

    it('shows a running task as not cleaned up', async () => {
      const running = await manager.launch('hold');
      await waitFor(() => tasks.started.has(running.id));
      const res = await request(consoleApp(manager)).get(`/tasks/${running.id}/`);
      expect(res.body).toMatchObject({ status: 'RUNNING', cleaned_up: false, milestones: [], affected_keys: [] });
    });
  });

  describe('POST :id/retry/', () => {
    async function cancelledHold(affected?: unknown): Promise<string> {
      const { id } = await manager.launch('hold', undefined, affected === undefined ? {} : { affected });
      await waitFor(() => tasks.started.has(id));
      await manager.cancel(id);
      await settle(manager, id, 'CANCELLED');
      return id;
    }

    async function failedTask(): Promise<string> {
      const { id } = await manager.launch('broken');
      await settle(manager, id, 'FAILED');
      return id;
    }

    it('retries a cancelled task as a new one that runs, linked both ways', async () => {
      const app = consoleApp(manager, { getUser: () => ({ name: 'Head Groom' }) });
      const post = await csrfPoster(app);
      const old = await cancelledHold(new Order(42));

      const res = await post(`/tasks/${old}/retry/`);
      expect(res.status, res.text).toBe(201);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({ id: expect.any(String), label: 'Restocking hay loft', status: 'PENDING', retry_of: old });
      const fresh = res.body.id as string;
      expect(fresh).not.toBe(old);
      expect(res.headers.location).toBe(`/tasks/${fresh}/`);

      await waitFor(() => tasks.started.has(fresh), 5000, 'the retry to start');
      tasks.release(fresh);
      await settle(manager, fresh, 'DONE');

      const before = await request(app).get(`/tasks/${old}/`);
      expect(before.body).toMatchObject({
        status: 'CANCELLED', retried_as: fresh, retried_by: 'Head Groom', retried_at: expect.stringMatching(ISO_UTC),
      });
      const after = await request(app).get(res.headers.location);
      expect(after.body).toMatchObject({ status: 'DONE', retry_of: old, retried_as: null, user: 'Head Groom', affected_keys: ['order:42'] });

      // The old task's page says who retried it, and links the new one; its Retry button is hidden.
      const html = (await request(app).get(`/tasks/${old}/`).set('Accept', 'text/html')).text;
      const timeline = /<ol class="sh-timeline" id="sh-timeline">([\s\S]*?)<\/ol>/.exec(html)?.[1] ?? '';
      expect(timeline).toContain('Retried by Head Groom as');
      expect(linksIn(timeline, /href=/).map((link) => link.href)).toContain(`/tasks/${fresh}/`);
      expect(html).toMatch(/<button type="button" class="sh-retry"[^>]* hidden>/);
    });

    it('retries a failed task, then refuses a second retry with 409', async () => {
      const app = consoleApp(manager);
      const post = await csrfPoster(app);
      const old = await failedTask();
      const first = await post(`/tasks/${old}/retry/`);
      expect(first.status, first.text).toBe(201);
      expectError(await post(`/tasks/${old}/retry/`), 409, 'TASK_NOT_RETRYABLE');
      await settle(manager, first.body.id, 'FAILED');
      expect((await manager.getTask(first.body.id))?.startedAt).toBeInstanceOf(Date);
    });

    it('makes one task of two retries at once', async () => {
      const app = consoleApp(manager);
      const post = await csrfPoster(app);
      const old = await failedTask();
      const answers = await Promise.all([post(`/tasks/${old}/retry/`), post(`/tasks/${old}/retry/`)]);
      expect(answers.map((res) => res.status).sort()).toEqual([201, 409]);
      const retries = (await manager.listTasks()).tasks.filter((task) => task.retryOf === old);
      expect(retries).toHaveLength(1);
    });

    it('refuses DONE, RUNNING and PENDING tasks with 409', async () => {
      const app = consoleApp(manager);
      const post = await csrfPoster(app);
      const done = await manager.launch('quick');
      const running = await manager.launch('hold');
      await waitFor(() => tasks.started.has(running.id));
      await settle(manager, done.id, 'DONE');
      expectError(await post(`/tasks/${done.id}/retry/`), 409, 'TASK_NOT_RETRYABLE');
      expectError(await post(`/tasks/${running.id}/retry/`), 409, 'TASK_NOT_RETRYABLE');
      expect((await manager.getTask(done.id))?.retriedAs).toBeNull();
    });

    it('answers 404 for an unknown or implausible id, and 405 for other methods', async () => {
      const app = consoleApp(manager);
      const post = await csrfPoster(app);
      expectError(await post(`/tasks/${UNKNOWN_ID}/retry/`), 404, 'TASK_NOT_FOUND');
      expectError(await post('/tasks/%01/retry/'), 404, 'TASK_NOT_FOUND');
      expectError(await post(`/tasks/${'x'.repeat(201)}/retry/`), 404, 'TASK_NOT_FOUND');

      const old = await failedTask();
      const get = await request(app).get(`/tasks/${old}/retry/`);
      expectError(get, 405, 'METHOD_NOT_ALLOWED');
      expect(get.headers.allow).toBe('POST');
      expectError(await request(app).put(`/tasks/${old}/retry`), 405, 'METHOD_NOT_ALLOWED');
      expect((await manager.getTask(old))?.retriedAs).toBeNull();
    });

    it('asks authorize for the retry action, and obeys a refusal (403) or "unauthenticated" (401)', async () => {
      const calls: [TaskRouterAction, TaskRouterAuthorizeContext][] = [];
      let verdict: boolean | 'unauthenticated' = false;
      const app = consoleApp(manager, {
        authorize: (_req, action, context) => {
          calls.push([action, context]);
          return action === 'retry' ? verdict : true;
        },
      });
      const post = await csrfPoster(app);
      const old = await failedTask();

      expectError(await post(`/tasks/${old}/retry/`), 403, 'FORBIDDEN');
      expect(calls).toContainEqual(['retry', { purpose: 'request', taskId: old }]);
      verdict = 'unauthenticated';
      expectError(await post(`/tasks/${old}/retry/`), 401, 'UNAUTHENTICATED');
      expect((await manager.getTask(old))?.retriedAs).toBeNull();

      verdict = true;
      expect((await post(`/tasks/${old}/retry/`)).status).toBe(201);
    });

    it('hides the Retry button in the page and the detail view when authorize refuses it for rendering', async () => {
      const calls: [TaskRouterAction, TaskRouterAuthorizeContext][] = [];
      const open = consoleApp(manager);
      const closed = consoleApp(manager, {
        authorize: (_req, action, context) => {
          calls.push([action, context]);
          return !(action === 'retry' && context.purpose === 'render');
        },
      });
      const old = await failedTask();

      const shown = (await request(open).get('/tasks/')).text;
      expect(rowOf(shown, old)).toMatch(/<button type="button" class="sh-retry" aria-label="Retry [^"]*">Retry<\/button>/);
      expect(pageData(shown).canRetry).toBe(true);
      const shownDetail = (await request(open).get(`/tasks/${old}/`).set('Accept', 'text/html')).text;
      expect(shownDetail).toContain(RETRY_BUTTON);

      const page = (await request(closed).get('/tasks/')).text;
      expect(rowOf(page, old)).not.toContain(RETRY_BUTTON);
      expect(pageData(page).canRetry).toBe(false);
      expect(calls).toContainEqual(['retry', { purpose: 'render' }]);
      const detail = (await request(closed).get(`/tasks/${old}/`).set('Accept', 'text/html')).text;
      expect(detail).not.toContain(RETRY_BUTTON);
      expect(pageData(detail).canRetry).toBe(false);
      expect(calls).toContainEqual(['retry', { purpose: 'render', taskId: old }]);

      // Hiding is all it does: the request itself is allowed.
      const post = await csrfPoster(closed);
      expect((await post(`/tasks/${old}/retry/`)).status).toBe(201);
    });

    it('is refused by a read-only router, which shows no Retry button', async () => {
      const app = consoleApp(manager, { readOnly: true });
      const old = await failedTask();
      expectError(await request(app).post(`/tasks/${old}/retry/`), 403, 'READ_ONLY');
      const page = (await request(app).get('/tasks/')).text;
      expect(rowOf(page, old)).not.toContain(RETRY_BUTTON);
      expect((await manager.getTask(old))?.retriedAs).toBeNull();
    });

    it('needs the CSRF cookie and header', async () => {
      const app = consoleApp(manager);
      const old = await failedTask();
      expectError(await request(app).post(`/tasks/${old}/retry/`), 403, 'CSRF_FAILED');
      // A real cookie from the page, but a header that does not repeat its token.
      const page = await request(app).get('/tasks/');
      const cookie = (page.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
      expectError(await request(app).post(`/tasks/${old}/retry/`).set('Cookie', cookie).set('x-csrf-token', 'forged'), 403, 'CSRF_FAILED');
      expectError(await request(app).post(`/tasks/${old}/retry/`).set('Cookie', cookie), 403, 'CSRF_FAILED');
      expect((await manager.getTask(old))?.retriedAs).toBeNull();
    });

    it('refuses requests from another site, and accepts its own and trusted origins', async () => {
      const app = consoleApp(manager, { trustedOrigins: ['https://admin.example'] });
      const post = await csrfPoster(app);
      const old = await failedTask();
      expectError(await post(`/tasks/${old}/retry/`).set('Origin', 'https://evil.example'), 403, 'CROSS_ORIGIN');
      expectError(await post(`/tasks/${old}/retry/`).set('Sec-Fetch-Site', 'cross-site'), 403, 'CROSS_ORIGIN');
      expect((await manager.getTask(old))?.retriedAs).toBeNull();

      const own = await post(`/tasks/${old}/retry/`).set('Host', 'stable.example').set('Origin', 'http://stable.example').set('Sec-Fetch-Site', 'same-origin');
      expect(own.status, own.text).toBe(201);
      const other = await failedTask();
      expect((await post(`/tasks/${other}/retry/`).set('Origin', 'https://admin.example')).status).toBe(201);
    });
  });

  describe('a manager with only the required members', () => {
    it('has no counts, search box, metrics box or Retry button, and answers 404 for metrics/ and retry', async () => {
      const minimal = minimalManager(manager);
      const app = consoleApp(minimal);
      const { id } = await manager.launch('broken');
      await settle(manager, id, 'FAILED');

      const status = await request(app).get('/tasks/status/');
      expect(status.status).toBe(200);
      expect(status.body.counts).toBeNull();
      expect(idsOf(status)).toEqual([id]);

      const html = (await request(app).get('/tasks/?status=FAILED')).text;
      expect(html).not.toContain('data-count=');
      expect(html).not.toContain('<form class="sh-search"');
      expect(html).not.toContain('<details class="sh-metrics-box">');
      expect(rowOf(html, id)).not.toContain(RETRY_BUTTON);
      expect(tabsOf(html).filter((tab) => tab.current).map((tab) => tab.label)).toEqual(['Failed']);
      const detail = (await request(app).get(`/tasks/${id}/`).set('Accept', 'text/html')).text;
      expect(detail).not.toContain(RETRY_BUTTON);

      expectError(await request(app).get('/tasks/metrics/'), 404, 'NO_METRICS');
      const post = await csrfPoster(app);
      expectError(await post(`/tasks/${id}/retry/`), 404, 'NOT_FOUND');
      expect((await manager.getTask(id))?.retriedAs).toBeNull();

      // Bad queries are still refused before the manager is asked.
      expectInvalidQuery(await request(app).get('/tasks/status/?q=%00'), 'q');
    });
  });
});

describe('the console over ModelTrackingTaskManager on a SQLite file', () => {
  let dataSource: DataSource;
  let manager: ModelTrackingTaskManager;
  let tasks: ControlledTasks;

  beforeAll(async () => {
    dataSource = await sqlite.open();
    // No metrics cache: every test of this block shares the manager, and reads figures it just made.
    manager = new ModelTrackingTaskManager({ dataSource, cancelGraceMs: 100, progressIntervalMs: 10, metricsCacheMs: 0, logger: recordingLogger() });
    tasks = new ControlledTasks();
    tasks.define(manager);
    await manager.start();
  });

  afterAll(async () => {
    for (const id of tasks.gates.keys()) tasks.release(id);
    await manager.stop({ graceMs: 0 });
    await dataSource.destroy();
  });

  it('filters by status and affected object, searches, counts and pages', async () => {
    const made: { id: string }[] = [];
    for (let n = 0; n < 3; n++) made.push(await manager.launch('broken', undefined, { affected: new Order(501) }));
    made.push(await manager.launch('quick', undefined, { affected: new Order(501), user: { name: 'Tamsin Farrier' } }));
    for (const task of made.slice(0, 3)) await settle(manager, task.id, 'FAILED');
    await settle(manager, made[3].id, 'DONE');
    const [f1, f2, f3, done] = made.map((task) => task.id);
    expect(manager.searchable).toBe(true);
    const app = consoleApp(manager);

    const failed = await request(app).get('/tasks/status/?affected=order:501&status=FAILED&limit=2');
    expect(idsOf(failed)).toEqual([f3, f2]);
    expect(failed.body.counts).toEqual({ ALL: 4, PENDING: 0, RUNNING: 0, DONE: 1, FAILED: 3, CANCELLED: 0 });
    const older = await request(app).get(`/tasks/status/?affected=order:501&status=FAILED&limit=2&before=${failed.body.next_cursor}`);
    expect(idsOf(older)).toEqual([f1]);
    expect(older.body.next_cursor).toBeNull();
    const newer = await request(app).get(`/tasks/status/?affected=order:501&status=FAILED&limit=2&after=${older.body.prev_cursor}`);
    expect(idsOf(newer)).toEqual([f3, f2]);
    expect(newer.body.prev_cursor).toBeNull();

    expect(idsOf(await request(app).get('/tasks/status/?q=farrier'))).toEqual([done]);
    expect(idsOf(await request(app).get('/tasks/status/?q=brass%20order:501'))).toEqual([f3, f2, f1]);
    expect(idsOf(await request(app).get(`/tasks/status/?q=${f2.slice(0, 18)}`))).toEqual([f2]);
    expect(idsOf(await request(app).get(`/tasks/status/?q=${f2.slice(0, 18).toUpperCase()}`))).toEqual([f2]);
    const both = await request(app).get('/tasks/status/?q=farrier&affected=order:501');
    expect(idsOf(both)).toEqual([done]);
    expect(both.body.counts).toEqual({ ALL: 1, PENDING: 0, RUNNING: 0, DONE: 1, FAILED: 0, CANCELLED: 0 });

    const page = (await request(app).get('/tasks/?status=FAILED&affected=order:501')).text;
    expect(pageIds(page)).toEqual([f3, f2, f1]);
    expect(tabsOf(page).filter((tab) => tab.current).map((tab) => tab.label)).toEqual(['Failed']);
    expect(tabsOf(page).find((tab) => tab.label === 'Failed')?.count).toBe(3);
  });

  it('refuses malformed queries with 400 before reaching SQL', async () => {
    const app = consoleApp(manager);
    for (const [, query, parameter] of BAD_QUERIES) {
      expectInvalidQuery(await request(app).get(`/tasks/status/?${query}`), parameter);
    }
  });

  it('retries a failed task through HTTP and records both links', async () => {
    const app = consoleApp(manager, { getUser: () => 'night shift' });
    const post = await csrfPoster(app);
    const { id: old } = await manager.launch('broken', undefined, { affected: new Order(502) });
    await settle(manager, old, 'FAILED');

    const res = await post(`/tasks/${old}/retry/`);
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ retry_of: old, status: 'PENDING', label: 'Polishing tack room brass' });
    expect(res.headers.location).toBe(`/tasks/${res.body.id}/`);
    await settle(manager, res.body.id, 'FAILED');
    expectError(await post(`/tasks/${old}/retry/`), 409, 'TASK_NOT_RETRYABLE');

    expect((await request(app).get(`/tasks/${old}/`)).body).toMatchObject({ retried_as: res.body.id, retried_by: 'night shift' });
    expect((await request(app).get(`/tasks/${res.body.id}/`)).body).toMatchObject({
      retry_of: old, user: 'night shift', affected_keys: ['order:502'],
    });
    expect(idsOf(await request(app).get('/tasks/status/?affected=order:502'))).toEqual([res.body.id, old]);
  });

  it('serves the fragment and the metrics from the database', async () => {
    const { id } = await manager.launch('xss', undefined, { affected: new Order(503) });
    await settle(manager, id, 'DONE');
    const app = consoleApp(manager);

    const fragment = await request(app).get('/tasks/fragment/?affected=order:503');
    expect(fragment.status).toBe(200);
    expect(fragment.text).not.toMatch(/<script|\sstyle=/i);
    expect(linksIn(fragment.text, /href=/).map((link) => link.href)).toEqual([`/tasks/${id}/`, '/tasks/?affected=order%3A503']);

    const metrics = await request(app).get('/tasks/metrics/');
    expect(metrics.status).toBe(200);
    const hour = (metrics.body.windows as { name: string; kinds: { kind: string; done: number }[] }[]).find((window) => window.name === 'hour');
    expect(hour?.kinds.find((kind) => kind.kind === 'xss')?.done).toBe(1);
    expect(metrics.headers.etag).toEqual(expect.any(String));
  });
});

describe('the console over a ModelTrackingTaskManager without StablehandTaskKey', () => {
  let dataSource: DataSource;
  let manager: ModelTrackingTaskManager;

  beforeAll(async () => {
    dataSource = new DataSource({
      type: 'better-sqlite3', database: join(tempDir(), 'no-keys.db'), entities: [StablehandTaskRecord, StablehandTaskLock], synchronize: true,
    });
    await dataSource.initialize();
    manager = new ModelTrackingTaskManager({ dataSource, logger: recordingLogger() });
    new ControlledTasks().define(manager);
    await manager.start();
  });

  afterAll(async () => {
    await manager.stop({ graceMs: 0 });
    await dataSource.destroy();
  });

  it('shows no search box, and answers a search or an object filter with 400, not 500', async () => {
    const { id } = await manager.launch('broken', undefined, { affected: new Order(1) });
    await settle(manager, id, 'FAILED');
    expect(manager.searchable).toBe(false);
    const app = consoleApp(manager);

    const page = await request(app).get('/tasks/');
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('<form class="sh-search"');
    expect(idsOf(await request(app).get('/tasks/status/?status=FAILED'))).toEqual([id]);
    for (const path of ['/tasks/status/?q=brass', '/tasks/status/?affected=order:1', '/tasks/?q=brass', '/tasks/fragment/?affected=order:1']) {
      const res = await request(app).get(path);
      expectError(res, 400, 'INVALID_QUERY');
      expect(res.body.error.message).toContain('StablehandTaskKey');
    }
    // Retry needs no index table.
    const post = await csrfPoster(app);
    expect((await post(`/tasks/${id}/retry/`)).status).toBe(201);
  });
});
