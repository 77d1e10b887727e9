import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { TaskManager } from '../../src/manager/task-manager.js';
import {
  XSS_LABEL, XSS_RESULT, csrfFor, hostApp, pageData, startManager, useStartedManager, waitFor, type ControlledTasks,
} from './helpers.js';

let manager: TaskManager;
let tasks: ControlledTasks;

useStartedManager((started) => ({ manager, tasks } = started));

function nonceOf(csp: string, directive: string): string | undefined {
  return new RegExp(`${directive} 'nonce-([^']+)'`).exec(csp)?.[1];
}

describe('GET / (the page)', () => {
  it('renders the page with neutral default words, the run bar and the empty state', async () => {
    const res = await request(hostApp(manager, { kinds: ['quick'] })).get('/tasks/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html; charset=utf-8/);
    expect(res.text).toContain('<h1>Tasks</h1>');
    expect(res.text).toContain('<title>Tasks</title>');
    expect(res.text).toMatch(/<button type="button" class="sh-run" id="sh-run">Start<\/button>/);
    expect(res.text).not.toContain('class="sh-hint"');
    expect(res.text).not.toContain('id="sh-kind"');
    expect(res.text).toMatch(/<p class="sh-empty" id="sh-empty">No tasks yet\.<\/p>/);
    expect(res.text).toContain('aria-live="polite"');
    expect(res.text).not.toMatch(/routine|pony|stable crew/i);
  });

  it('offers a choice of kinds, escaped, when several may be run', async () => {
    const res = await request(hostApp(manager, { kinds: ['quick', '<b>odd</b>'] })).get('/tasks/');
    expect(res.text).toContain(
      '<label class="sh-kind-label" for="sh-kind">Task</label><select class="sh-kind" id="sh-kind"><option>quick</option><option>&lt;b&gt;odd&lt;/b&gt;</option></select>',
    );
  });

  it('answers with and without the trailing slash', async () => {
    const app = hostApp(manager);
    const [slash, bare] = await Promise.all([request(app).get('/tasks/'), request(app).get('/tasks')]);
    expect(slash.status).toBe(200);
    expect(bare.status).toBe(200);
    expect(bare.text).toContain('<h1>Tasks</h1>');
  });

  it('server-renders rows newest first with the indicator, badge and timing of each state', async () => {
    const held = await manager.launch('hold', undefined, { user: { username: 'ann' }, affected: ['order:1', '<b>order:2</b>'] });
    await waitFor(() => tasks.started.has(held.id), 2000, 'hold to start');
    const done = await manager.launch('quick');
    const failed = await manager.launch('broken');
    await waitFor(async () => (await manager.getTask(failed.id))?.status === 'FAILED', 2000, 'broken to fail');
    await waitFor(async () => (await manager.getTask(done.id))?.status === 'DONE', 2000, 'quick to finish');

    const res = await request(hostApp(manager)).get('/tasks/');
    const rows = [...res.text.matchAll(/<li class="sh-task sh-task--(\w+)" data-id="([^"]+)">([\s\S]*?)<\/li>/g)];
    expect(rows.map((row) => row[2])).toEqual([failed.id, done.id, held.id]);

    const [failedRow, doneRow, runningRow] = rows.map((row) => row[0]);
    expect(runningRow).toContain('sh-ind sh-ind--running');
    expect(runningRow).toContain('<span class="sh-badge sh-badge--running">Running</span>');
    expect(runningRow).toMatch(/<span class="sh-meta">\d+ s<\/span>/);
    expect(runningRow).toMatch(/<button type="button" class="sh-cancel" aria-label="Cancel Restocking hay loft">Cancel<\/button>/);
    // Who launched it and what it works on, escaped, on the row itself.
    expect(runningRow).toContain('<p class="sh-who">ann · order:1, &lt;b&gt;order:2&lt;/b&gt;</p>');

    expect(doneRow).toContain('sh-ind sh-ind--done');
    expect(doneRow).toContain('<span class="sh-badge sh-badge--done">Done</span>');
    expect(doneRow).toMatch(/<span class="sh-meta">(\d\.\d|&lt; 0\.1) s · just now<\/span>/);
    expect(doneRow).toContain('<p class="sh-result">Routine complete: every stall passed inspection.</p>');
    expect(doneRow).toMatch(/class="sh-cancel"[^>]* hidden>/);
    expect(doneRow).toContain('<p class="sh-who">Anonymous</p>');

    expect(failedRow).toContain('<span class="sh-badge sh-badge--failed">Failed</span>');
    expect(failedRow).toContain('<p class="sh-result">The brass polish ran out</p>');
    expect(res.text).toMatch(/<p class="sh-empty" id="sh-empty" hidden>/);
    tasks.release(held.id);
  });

  it('shows a pending row as queued and a progress bar on a running row that reports progress', async () => {
    const { manager: single, tasks: singleTasks } = await startManager({ concurrency: 1 });
    try {
      const running = await single.launch('progress');
      const queued = await single.launch('hold');
      await waitFor(async () => (await single.getTask(running.id))?.progress !== null, 2000, 'progress');
      const res = await request(hostApp(single)).get('/tasks/');
      const queuedRow = new RegExp(`<li class="sh-task sh-task--pending" data-id="${queued.id}">([\\s\\S]*?)</li>`).exec(res.text)?.[0];
      expect(queuedRow).toContain('sh-ind sh-ind--pending');
      expect(queuedRow).toContain('<span class="sh-badge sh-badge--pending">Pending</span>');
      expect(queuedRow).toContain('<span class="sh-meta">queued</span>');
      const runningRow = new RegExp(`<li class="sh-task sh-task--running" data-id="${running.id}">([\\s\\S]*?)</li>`).exec(res.text)?.[0];
      expect(runningRow).toContain('<progress class="sh-progress" max="100" value="40" aria-label="Progress of Counting sugar-cube tins">40%</progress>');
      expect(runningRow).toContain('<p class="sh-message">Tin 4 of 10</p>');
      singleTasks.release(running.id);
      singleTasks.release(queued.id);
    } finally {
      await single.stop({ graceMs: 0 });
    }
  });

  it('sends a CSP with a fresh nonce on the inline script and style, and no unsafe-inline', async () => {
    const app = hostApp(manager);
    const first = await request(app).get('/tasks/');
    const second = await request(app).get('/tasks/');
    const csp = first.headers['content-security-policy'];
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    const scriptNonce = nonceOf(csp, 'script-src');
    expect(scriptNonce).toBeTruthy();
    expect(nonceOf(csp, 'style-src')).toBe(scriptNonce);
    expect(first.text).toContain(`<script nonce="${scriptNonce}">`);
    expect(first.text).toContain(`<style nonce="${scriptNonce}">`);
    expect(nonceOf(second.headers['content-security-policy'], 'script-src')).not.toBe(scriptNonce);
    expect(first.headers['x-content-type-options']).toBe('nosniff');
    expect(first.headers['cache-control']).toBe('no-store');
    // No tag may load anything from elsewhere.
    expect(first.text).not.toMatch(/<(script|link|img)[^>]+(src|href)="(https?:)?\/\//);
    expect(first.text).not.toMatch(/ style="/);
  });

  it('sets the CSRF cookie scoped to the mount point, and keeps a valid one', async () => {
    const app = hostApp(manager, {}, '/admin/stable');
    const res = await request(app).get('/admin/stable/');
    const cookie = (res.headers['set-cookie'] as unknown as string[])[0];
    expect(cookie).toMatch(/^stablehand_csrf=[\w-]+\.[\w-]+; Path=\/admin\/stable; SameSite=Strict; HttpOnly$/);
    const token = (pageData(res.text).csrf as { token: string }).token;
    expect(cookie.split(';')[0]).toBe(`stablehand_csrf=${token}`);

    const again = await request(app).get('/admin/stable/').set('Cookie', cookie.split(';')[0]);
    expect(again.headers['set-cookie']).toBeUndefined();
    expect((pageData(again.text).csrf as { token: string }).token).toBe(token);

    const forged = await request(app).get('/admin/stable/').set('Cookie', 'stablehand_csrf=abc.def');
    expect(forged.headers['set-cookie']).toBeDefined();
  });

  it('marks the cookie Secure over HTTPS behind a trusted proxy', async () => {
    const app = hostApp(manager);
    app.set('trust proxy', true);
    const res = await request(app).get('/tasks/').set('X-Forwarded-Proto', 'https');
    expect((res.headers['set-cookie'] as unknown as string[])[0]).toMatch(/; Secure$/);
  });

  it('builds every link and fetch URL from the mount point', async () => {
    const running = await manager.launch('hold');
    for (const mount of ['/admin/stable', '/']) {
      const app = hostApp(manager, {}, mount);
      const base = mount === '/' ? '' : mount;
      const res = await request(app).get(`${base}/`);
      expect(res.status).toBe(200);
      const data = pageData(res.text);
      expect(data.base).toBe(base);
      expect(data.statusUrl).toBe(`${base}/status/?limit=50`);
      expect(data.runUrl).toBe(`${base}/run/`);
      expect(res.text).toContain(`<a class="sh-name" href="${base}/${running.id}/">`);
      if (mount === '/') expect((res.headers['set-cookie'] as unknown as string[])[0]).toContain('Path=/;');
    }
    tasks.release(running.id);
  });

  it('follows a mount path with parameters without letting the request inject markup or cookie attributes', async () => {
    const app = hostApp(manager, {}, '/org/:org/tasks');
    const res = await request(app).get('/org/a;Domain=evil"x<y/tasks/');
    expect(res.status).toBe(200);
    const cookie = (res.headers['set-cookie'] as unknown as string[])[0];
    // The client already percent-encodes `"` and `<`; a raw `;` would end the Path attribute.
    expect(cookie).toContain('Path=/org/a%3BDomain=evil%22x%3Cy/tasks;');
    expect(cookie).not.toMatch(/;\s*Domain=/i);
    expect(pageData(res.text).runUrl).toBe('/org/a%3BDomain=evil%22x%3Cy/tasks/run/');
  });

  it('applies the text options', async () => {
    const app = hostApp(manager, {
      title: 'Barn <jobs>',
      heading: 'Barn & Stable',
      runLabel: 'Saddle up',
      runHint: 'Starts <one> job',
      emptyText: 'Nothing to see',
    });
    const res = await request(app).get('/tasks/');
    expect(res.text).toContain('<title>Barn &lt;jobs&gt;</title>');
    expect(res.text).toContain('<h1>Barn &amp; Stable</h1>');
    expect(res.text).toMatch(/>Saddle up<\/button>/);
    expect(res.text).toContain('Starts &lt;one&gt; job');
    expect(res.text).toContain('>Nothing to see</p>');
    expect(res.text).not.toContain('>Start</button>');
  });

  it('passes the polling interval and page size to the script', async () => {
    const res = await request(hostApp(manager, { pollIntervalMs: 750, pageSize: 20 })).get('/tasks/');
    const data = pageData(res.text);
    expect(data.pollIntervalMs).toBe(750);
    expect(data.statusUrl).toBe('/tasks/status/?limit=20');
    const defaults = pageData((await request(hostApp(manager)).get('/tasks/')).text);
    expect(defaults.pollIntervalMs).toBe(2000);
  });

  it('shows no run bar or cancel buttons, and sets no cookie, when read-only', async () => {
    const running = await manager.launch('hold');
    const res = await request(hostApp(manager, { readOnly: true })).get('/tasks/');
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('id="sh-run"');
    expect(res.text).not.toContain('class="sh-cancel"');
    expect(res.text).toContain(`data-id="${running.id}"`);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(pageData(res.text).csrf).toBeNull();
    expect(pageData(res.text).canCancel).toBe(false);
    tasks.release(running.id);
  });

  it('hides the controls that authorize refuses when rendering', async () => {
    const seen: string[] = [];
    const app = hostApp(manager, {
      authorize: (_req, action, context) => {
        seen.push(`${action}:${context.purpose}`);
        return action !== 'run';
      },
    });
    const running = await manager.launch('hold');
    const res = await request(app).get('/tasks/');
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('id="sh-run"');
    expect(res.text).toContain('class="sh-cancel"');
    expect(seen).toEqual(['view:request', 'run:render', 'cancel:render', 'retry:render']);
    tasks.release(running.id);
  });

  it('escapes task strings in the rows and in the inline data', async () => {
    const launched = await manager.launch('xss');
    await waitFor(async () => (await manager.getTask(launched.id))?.status === 'DONE', 2000, 'xss to finish');
    const res = await request(hostApp(manager)).get('/tasks/');
    expect(res.text).toContain('&lt;/script&gt;&lt;b&gt;Bold&lt;/b&gt; &amp; &quot;quoted&quot;');
    expect(res.text).toContain('&lt;script&gt;window.__pwned = 1&lt;/script&gt;&lt;img src=x onerror=&quot;window.__pwned = 2&quot;&gt;');
    // Exactly two real script elements: the data block and the nonce-bearing script.
    expect(res.text.match(/<script/g)).toHaveLength(2);
    expect(res.text.match(/<\/script>/g)).toHaveLength(2);
    const block = /<script type="application\/json" id="sh-data">([\s\S]*?)<\/script>/.exec(res.text)?.[1] ?? '';
    expect(block).toContain('\\u003c/script\\u003e');
    expect(block).not.toContain('\u2028');
    expect(block).not.toMatch(/[<>]/);
    expect(res.text).not.toContain('<b>');
    const data = pageData(res.text);
    const [task] = data.tasks as { label: string; result: string }[];
    expect(task.label).toBe(XSS_LABEL);
    expect(task.result).toBe(XSS_RESULT);
  });

  it('works without CSRF when it is turned off', async () => {
    const app = hostApp(manager, { csrf: false });
    const res = await request(app).get('/tasks/');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(pageData(res.text).csrf).toBeNull();
    const run = await request(app).post('/tasks/run/').send({ kind: 'quick' });
    expect(run.status).toBe(201);
  });

  it('uses the configured cookie and header names', async () => {
    const app = hostApp(manager, { csrf: { cookieName: 'barn_token', headerName: 'X-Barn-Token', secret: 'a'.repeat(32) } });
    const csrf = await csrfFor(app);
    expect(csrf.cookie).toMatch(/^barn_token=/);
    expect(csrf.headerName).toBe('x-barn-token');
    const run = await request(app).post('/tasks/run/').set('Cookie', csrf.cookie).set('X-Barn-Token', csrf.token).send({ kind: 'quick' });
    expect(run.status).toBe(201);
  });
});
