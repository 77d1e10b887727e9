import express, { type Express } from 'express';
import request from 'supertest';
import { afterEach, beforeEach } from 'vitest';
import { deferred, recordingLogger, sleep, waitFor } from '../helpers/wait.js';
import { TaskManager } from '../../src/manager/task-manager.js';
import type { ProgressPayload } from '../../src/core/types.js';
import type { TaskManagerOptions } from '../../src/manager/task-manager-options.js';
import { createTaskRouter, type TaskRouterOptions } from '../../src/ui/create-task-router.js';

export { deferred, recordingLogger, sleep, waitFor };
type Deferred<T> = ReturnType<typeof deferred<T>>;

export const XSS_RESULT = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">\u2028end';
export const XSS_LABEL = '</script><b>Bold</b> & "quoted" \u2028 label';

/**
 * Kinds whose outcome the test decides:
 * - `hold` waits until `release(id)` / `failHeld(id)` or until it is cancelled;
 * - `quick` succeeds after 60 ms, `broken` fails after 60 ms;
 * - `xss` returns a result full of markup; `progress` reports 40% then holds.
 */
export class ControlledTasks {
  readonly gates = new Map<string, Deferred<string>>();
  readonly started = new Set<string>();

  gate(id: string): Deferred<string> {
    let gate = this.gates.get(id);
    if (!gate) {
      gate = deferred<string>();
      this.gates.set(id, gate);
    }
    return gate;
  }

  release(id: string, result = 'Routine complete: every stall passed inspection.'): void {
    this.gate(id).resolve(result);
  }

  failHeld(id: string, message: string): void {
    this.gate(id).reject(new Error(message));
  }

  define(manager: TaskManager): void {
    const hold = async (id: string, signal: AbortSignal): Promise<string> => {
      this.started.add(id);
      const gate = this.gate(id);
      return new Promise<string>((resolve, reject) => {
        // stablehand aborts the signal with a DOMException.
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
        gate.promise.then(resolve, reject);
      });
    };
    manager.define('hold', { label: 'Restocking hay loft', run: (ctx) => hold(ctx.id, ctx.signal) });
    manager.define('quick', {
      label: 'Brushing parade manes',
      run: async () => {
        await sleep(60);
        return 'Routine complete: every stall passed inspection.';
      },
    });
    manager.define('broken', {
      label: 'Polishing tack room brass',
      run: async () => {
        await sleep(60);
        throw new Error('The brass polish ran out');
      },
    });
    manager.define('xss', { label: XSS_LABEL, run: () => Promise.resolve(XSS_RESULT) });
    manager.define('progress', {
      label: 'Counting sugar-cube tins',
      run: (ctx) => {
        const report: ProgressPayload = { percent: 40, message: 'Tin 4 of 10', tins: 4 };
        ctx.progress(report);
        return hold(ctx.id, ctx.signal);
      },
    });
  }
}

/** A started in-memory manager with the controlled kinds. */
/** Starts a fresh manager before each test of the file and stops it after, releasing held tasks. */
export function useStartedManager(
  take: (started: { manager: TaskManager; tasks: ControlledTasks }) => void,
  options: TaskManagerOptions = {},
): void {
  let current: { manager: TaskManager; tasks: ControlledTasks } | undefined;
  beforeEach(async () => {
    current = await startManager(options);
    take(current);
  });
  afterEach(async () => {
    if (!current) return;
    for (const id of current.tasks.gates.keys()) current.tasks.release(id);
    await current.manager.stop({ graceMs: 0 });
  });
}

export async function startManager(options: TaskManagerOptions = {}): Promise<{ manager: TaskManager; tasks: ControlledTasks }> {
  const manager = new TaskManager({ cancelGraceMs: 100, progressIntervalMs: 10, logger: recordingLogger(), ...options });
  const tasks = new ControlledTasks();
  tasks.define(manager);
  await manager.start();
  return { manager, tasks };
}

/**
 * A host app with the router at `mount`. The host's final error handler records anything that
 * escapes the router, which must never happen.
 */
export function hostApp(manager: TaskManager, options: TaskRouterOptions = {}, mount = '/tasks'): Express & { escaped: unknown[] } {
  const app = express() as Express & { escaped: unknown[] };
  app.escaped = [];
  // The tests' pages offer every kind the manager defines, unless a test says otherwise (the
  // router's own default offers none).
  app.use(mount, createTaskRouter(manager, 'kinds' in options ? options : { kinds: manager.kinds, ...options }));
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- Express tells error middleware by its four parameters
  app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    app.escaped.push(error);
    res.status(599).send('escaped');
  });
  return app;
}

/** Loads the page and returns what its script would post with: the cookie and the token. */
export async function csrfFor(app: Express, mount = '/tasks'): Promise<{ cookie: string; token: string; headerName: string }> {
  const res = await request(app).get(`${mount}/`).set('Accept', 'text/html');
  const data = pageData(res.text);
  const csrf = data.csrf as { token: string; headerName: string };
  const setCookie = res.headers['set-cookie'] as unknown as string[] | undefined;
  const cookie = (setCookie?.[0] ?? '').split(';')[0] ?? '';
  return { cookie, token: csrf.token, headerName: csrf.headerName };
}

/**
 * A `POST` maker that carries a valid CSRF cookie and header, as the page's script sends them.
 * It returns a function, not a request: a supertest request is thenable and would be sent early.
 */
export async function csrfPoster(app: Express, mount = '/tasks'): Promise<(path: string) => request.Test> {
  const csrf = await csrfFor(app, mount);
  return (path) => request(app).post(path).set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token);
}

/** The JSON data block the page script starts from. */
export function pageData(html: string): Record<string, unknown> {
  const match = /<script type="application\/json" id="sh-data">([\s\S]*?)<\/script>/.exec(html);
  if (!match?.[1]) throw new Error('page has no data block');
  return JSON.parse(match[1]) as Record<string, unknown>;
}

/** Launches through the HTTP API with a valid CSRF pair. */
export async function runViaHttp(app: Express, body: object = {}, mount = '/tasks'): Promise<request.Response> {
  const csrf = await csrfFor(app, mount);
  return request(app).post(`${mount}/run/`).set('Cookie', csrf.cookie).set(csrf.headerName, csrf.token).send(body);
}
