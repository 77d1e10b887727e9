import { createRequire } from 'node:module';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { ConfigurationError } from '../core/errors.js';
import type { TaskRouterManager } from '../ports/task-manager-port.js';
import { findMissingManagerMember } from './manager-check.js';
import { resolveTaskUiOptions, type TaskUiOptions } from './router-options.js';
import { TaskUi, type UiRequest, type UiResponse } from './task-ui.js';

/**
 * Options of {@link createTaskRouter}. `authorize` and `getUser` receive the Express request.
 * Every option and its default is described on {@link TaskUiOptions}.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- a named public interface (in the docs, open to augmentation), not an alias
export interface TaskRouterOptions extends TaskUiOptions<Request> {}

const JSON_TYPES = ['application/json', 'application/*+json'];

type ExpressModule = typeof import('express');
let expressModule: ExpressModule | undefined;

/**
 * Express is an optional peer dependency: it is loaded on the first `createTaskRouter()` call
 * rather than imported, so `import 'stablehand'` keeps working in hosts that never use the page.
 */
function loadExpress(): ExpressModule {
  if (expressModule) return expressModule;
  // __filename exists in the CommonJS build, import.meta.url in the ES module build.
  const from = typeof __filename === 'string' ? __filename : import.meta.url;
  try {
    expressModule = createRequire(from)('express') as ExpressModule;
  } catch (error) {
    throw new ConfigurationError(`createTaskRouter needs the "express" package (version 5): ${String(error)}`);
  }
  return expressModule;
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function toUiRequest(req: Request, res: Response, parseJson: RequestHandler): UiRequest<Request> {
  const present = hasBody(req);
  const id = req.params.id;
  return {
    raw: req,
    baseUrl: req.baseUrl,
    query: req.query,
    taskId: typeof id === 'string' ? id : undefined,
    header(name) {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    secure: req.secure,
    wantsHtml: req.accepts(['json', 'html']) === 'html',
    method: req.method,
    body: { present, json: present && typeof req.is(JSON_TYPES) === 'string' },
    readJsonBody() {
      return new Promise((resolve, reject) => {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- body-parser's error is passed on as it is, for classifyError to read
        parseJson(req, res, (error?: unknown) => (error ? reject(error) : resolve(req.body as unknown)));
      });
    },
  };
}

function send(res: Response, response: UiResponse): void {
  res.status(response.status);
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  if (response.body === null) {
    res.end();
    return;
  }
  res.setHeader('Content-Length', Buffer.byteLength(response.body));
  // res.end rather than res.send: send would add its own ETag and freshness handling.
  res.end(response.body);
}

/**
 * Builds an Express 5 router serving the task page and its JSON API. Mount it anywhere
 * (`app.use('/tasks', createTaskRouter(manager))`); every URL the page uses follows the mount point.
 *
 * Routes, relative to the mount point, trailing slash optional:
 * `GET /` (page; `?status=`, `?q=`, `?affected=`, `?before=`, `?after=` filter and page it),
 * `POST run/`, `GET status/` (the same parameters), `GET fleet/`, `GET metrics/`,
 * `GET fragment/?affected=order:42` (an HTML fragment for a host's own page), `GET :id/` (JSON, or
 * HTML for browsers), `POST :id/cancel/` and `POST :id/retry/`. The router parses its own JSON bodies and answers its own errors as
 * `{ "error": { "code", "message" } }`, so the host app needs no other middleware.
 *
 * @throws ConfigurationError when `manager` lacks a needed member or an option is invalid.
 */
export function createTaskRouter(manager: TaskRouterManager, options?: TaskRouterOptions): Router {
  const express = loadExpress();
  const missing = findMissingManagerMember(manager);
  if (missing) throw new ConfigurationError(`createTaskRouter: the manager has no ${missing}.`);
  const resolved = resolveTaskUiOptions<Request>(options);
  const ui = new TaskUi<Request>(manager, resolved);
  // Not strict: a body of "str", 123 or null is valid JSON, which the routes refuse as INVALID_BODY.
  const parseJson = express.json({ limit: resolved.bodyLimitBytes, strict: false, type: JSON_TYPES });

  const handle = (route: (req: UiRequest<Request>) => Promise<UiResponse>) =>
    async (req: Request, res: Response): Promise<void> => {
      send(res, await route(toUiRequest(req, res, parseJson)));
    };
  const refuse = (allow: string) => (_req: Request, res: Response): void => send(res, ui.methodNotAllowed(allow));

  const router = express.Router({ strict: false });
  router.get('/', handle((req) => ui.page(req)));
  router.all('/', refuse('GET, HEAD'));
  router.post('/run', handle((req) => ui.run(req)));
  router.all('/run', refuse('POST'));
  router.get('/status', handle((req) => ui.status(req)));
  router.all('/status', refuse('GET, HEAD'));
  router.get('/fleet', handle((req) => ui.fleet(req)));
  router.all('/fleet', refuse('GET, HEAD'));
  router.get('/metrics', handle((req) => ui.metrics(req)));
  router.all('/metrics', refuse('GET, HEAD'));
  router.get('/fragment', handle((req) => ui.fragment(req)));
  router.all('/fragment', refuse('GET, HEAD'));
  router.get('/:id', handle((req) => ui.detail(req)));
  router.all('/:id', refuse('GET, HEAD'));
  router.post('/:id/cancel', handle((req) => ui.cancel(req)));
  router.all('/:id/cancel', refuse('POST'));
  router.post('/:id/retry', handle((req) => ui.retry(req)));
  router.all('/:id/retry', refuse('POST'));
  // Every other path under the mount point is answered here, in JSON, not by the host's 404 page.
  router.use((_req: Request, res: Response) => send(res, ui.notFound()));
  // Scoped to this router, so the host's own error handling never sees (or has to know) our errors.
  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    send(res, ui.errorResponse(error));
  });
  return router;
}

export type {
  TaskRouterAction,
  TaskRouterAuthorize,
  TaskRouterAuthorizeContext,
  TaskRouterAuthorizeResult,
  TaskRouterCsrfOptions,
  TaskRouterLogger,
} from './router-options.js';
export type { TaskRouterErrorBody, TaskRouterErrorCode } from './http-error.js';
export type { TaskRouterManager } from '../ports/task-manager-port.js';
