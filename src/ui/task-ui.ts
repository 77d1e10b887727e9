import { runInput } from './run-input.js';
import { isPlausibleId } from '../core/ids.js';
import { csrfCookie, isSignedCsrfToken, issueCsrfToken, readCookie, verifyCsrfPair } from './csrf.js';
import { renderTaskDetail } from './detail-template.js';
import { normaliseBasePath } from './escape.js';
import { etagFor, ifNoneMatchHits } from './etag.js';
import { DEFAULT_STALE_AFTER_MS } from '../core/fleet.js';
import { TaskRouterHttpError, classifyError } from './http-error.js';
import { renderTaskPage, taskUrl, type CsrfClientSetup } from './page-template.js';
import type { ResolvedTaskUiOptions, TaskRouterAction } from './router-options.js';
import { createNonce, htmlHeaders, jsonHeaders } from './security-headers.js';
import { StatusCache } from './status-cache.js';
import { parseStatusQuery } from './status-query.js';
import type { TaskRouterManager } from '../ports/task-manager-port.js';
import { STATUS_CHANGING_EVENTS } from './manager-check.js';
import { toFleetJson, toStatusJson, toTaskDetail, toTaskSummary, type FleetJson, type RunResponseJson, type CancelResponseJson } from './task-view.js';

/**
 * A request as the framework-free core sees it. A web framework adapter builds one per request;
 * the core never touches the framework's objects except to hand `raw` to the host's callbacks.
 */
export interface UiRequest<Req> {
  /** The framework's own request, passed to `authorize` and `getUser`. */
  raw: Req;
  /** The path the router is mounted at for this request (Express's `req.baseUrl`). */
  baseUrl: string;
  query: Readonly<Record<string, unknown>>;
  /** The task id of `:id` routes, already percent-decoded. */
  taskId?: string | undefined;
  /** A request header by lower-case name, repeated values joined with `, `. */
  header(name: string): string | undefined;
  /** True over HTTPS (directly or through a trusted proxy); decides the cookie's `Secure` flag. */
  secure: boolean;
  /** True when content negotiation prefers HTML over JSON. */
  wantsHtml: boolean;
  /** The HTTP method, upper case. */
  method: string;
  /** Whether the request carries a body, and whether it is declared as JSON. */
  body: { present: boolean; json: boolean };
  /** Parses the JSON body within the size limit; rejects with the parser's error. */
  readJsonBody(): Promise<unknown>;
}

/** A response for the adapter to send as is. `body` is `null` for 304. */
export interface UiResponse {
  status: number;
  headers: Record<string, string>;
  body: string | null;
}

/** Ids are short (UUIDv7-like); anything far longer cannot exist and is not worth a store round trip. */

/**
 * The task page and API without a web framework: each method turns a {@link UiRequest} into a
 * {@link UiResponse}, throwing only errors that {@link TaskUi.errorResponse} knows how to answer.
 */
export class TaskUi<Req> {
  readonly #manager: TaskRouterManager;
  readonly #options: ResolvedTaskUiOptions<Req>;
  readonly #statusCache: StatusCache<{ body: string; etag: string }>;

  /** Serves `manager` with already resolved options; subscribes to its events when it has them. */
  constructor(manager: TaskRouterManager, options: ResolvedTaskUiOptions<Req>) {
    this.#manager = manager;
    this.#options = options;
    this.#statusCache = new StatusCache(options.statusCacheMs);
    if (options.statusCacheMs > 0 && typeof manager.on === 'function') {
      const invalidate = (): void => this.#statusCache.invalidate();
      for (const event of STATUS_CHANGING_EVENTS) manager.on(event, invalidate);
    }
  }

  /** `GET /`: the list page. */
  async page(req: UiRequest<Req>): Promise<UiResponse> {
    await this.#authorize(req, 'view');
    const canRun = this.#options.kinds.length > 0 && await this.#mayShow(req, 'run');
    const canCancel = await this.#mayShow(req, 'cancel');
    const [page, fleet] = await Promise.all([this.#manager.listTasks({ limit: this.#options.pageSize }), this.#fleetJson()]);
    const basePath = normaliseBasePath(req.baseUrl);
    const nonce = createNonce();
    const headers = htmlHeaders(nonce);
    const csrf = canRun || canCancel ? this.#csrfSetup(req, basePath, headers) : null;
    const html = renderTaskPage({
      nonce,
      basePath,
      title: this.#options.title,
      heading: this.#options.heading,
      runLabel: this.#options.runLabel,
      runHint: this.#options.runHint,
      emptyText: this.#options.emptyText,
      canRun,
      kinds: canRun ? this.#options.kinds : [],
      forms: canRun ? [...this.#options.offered.values()].filter((offered) => offered.fields !== null) : [],
      canCancel,
      csrf,
      pollIntervalMs: this.#options.pollIntervalMs,
      idlePollIntervalMs: this.#options.idlePollIntervalMs,
      staleAfterMs: this.#manager.staleAfterMs ?? DEFAULT_STALE_AFTER_MS,
      pageSize: this.#options.pageSize,
      tasks: page.tasks.map(toTaskSummary),
      fleet,
      now: Date.now(),
      layout: this.#options.layout,
    });
    return { status: 200, headers, body: html };
  }

  /** `GET status/`: a page of tasks as JSON, or a bodiless 304 when the client's copy is current. */
  async status(req: UiRequest<Req>): Promise<UiResponse> {
    await this.#authorize(req, 'view');
    const query = parseStatusQuery(req.query, this.#options.pageSize);
    const { body, etag } = await this.#statusCache.get(JSON.stringify(query), async () => {
      const text = JSON.stringify(toStatusJson(await this.#manager.listTasks(query)));
      return { body: text, etag: etagFor(text) };
    });
    return this.#conditionalJson(req, body, etag);
  }

  /** `GET fleet/`: who holds the unfinished tasks and how many wait; 404 when the manager cannot tell. */
  async fleet(req: UiRequest<Req>): Promise<UiResponse> {
    await this.#authorize(req, 'view');
    const report = await this.#fleetJson();
    if (!report) throw new TaskRouterHttpError(404, 'NO_FLEET', 'This task manager reports no fleet.');
    const body = JSON.stringify(report);
    return this.#conditionalJson(req, body, etagFor(body));
  }

  async #fleetJson(): Promise<FleetJson | null> {
    return this.#manager.fleet ? toFleetJson(await this.#manager.fleet()) : null;
  }

  /** `POST run/`: launches one of the offered kinds. */
  async run(req: UiRequest<Req>): Promise<UiResponse> {
    const offered = this.#options.kinds;
    if (offered.length === 0) {
      throw new TaskRouterHttpError(403, 'RUN_DISABLED', 'This page starts no tasks: the router offers no kinds (its kinds option).');
    }
    await this.#guardWrite(req, 'run');
    const body = await this.#readBody(req);
    let kind: string | undefined;
    if (body !== undefined) {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new TaskRouterHttpError(400, 'INVALID_BODY', 'The body must be a JSON object such as {"kind": "..."}.');
      }
      const given = (body as Record<string, unknown>).kind;
      if (given !== undefined && (typeof given !== 'string' || given === '')) {
        throw new TaskRouterHttpError(400, 'INVALID_BODY', '"kind" must be a non-empty string.');
      }
      kind = given;
      const extra = Object.keys(body).find((key) => key !== 'kind' && key !== 'input');
      if (extra !== undefined) throw new TaskRouterHttpError(400, 'INVALID_BODY', `Unknown key "${extra}": the body has "kind" and "input".`);
    }
    if (kind === undefined) {
      // Only an unambiguous request runs: with several kinds offered, the client must choose.
      if (offered.length > 1) {
        throw new TaskRouterHttpError(400, 'KIND_REQUIRED', `Name the kind to run, as {"kind": "..."}: one of ${offered.join(', ')}.`);
      }
      kind = offered[0];
    } else if (!offered.includes(kind)) {
      throw new TaskRouterHttpError(400, 'UNKNOWN_KIND', `Unknown task kind. Offered kinds: ${offered.join(', ')}.`);
    }
    const spec = this.#options.offered.get(kind);
    const input = spec ? runInput(spec, (body as Record<string, unknown> | undefined)?.input) : undefined;
    const user = this.#options.getUser ? await this.#options.getUser(req.raw) : undefined;
    const launched = await this.#manager.launch(kind, input, user === undefined ? {} : { user });
    const payload: RunResponseJson = { id: launched.id, label: launched.label, status: 'PENDING' };
    const headers = { ...jsonHeaders(), Location: taskUrl(normaliseBasePath(req.baseUrl), launched.id) };
    return { status: 201, headers, body: JSON.stringify(payload) };
  }

  /** `GET :id/`: one task, as the detail view for browsers and as JSON otherwise. */
  async detail(req: UiRequest<Req>): Promise<UiResponse> {
    const id = this.#taskId(req);
    await this.#authorize(req, 'view', id);
    const record = await this.#manager.getTask(id);
    if (!record) throw new TaskRouterHttpError(404, 'TASK_NOT_FOUND', 'No task with that id.');
    const task = toTaskDetail(record);
    if (!req.wantsHtml) {
      const response = this.#cacheableJson(req, JSON.stringify(task));
      response.headers.Vary = 'Accept';
      return response;
    }
    const canCancel = await this.#mayShow(req, 'cancel', id);
    const basePath = normaliseBasePath(req.baseUrl);
    const nonce = createNonce();
    const headers = { ...htmlHeaders(nonce), Vary: 'Accept' };
    const csrf = canCancel ? this.#csrfSetup(req, basePath, headers) : null;
    const html = renderTaskDetail({
      nonce,
      basePath,
      listTitle: this.#options.title,
      task,
      canCancel,
      csrf,
      pollIntervalMs: this.#options.pollIntervalMs,
      staleAfterMs: this.#manager.staleAfterMs ?? DEFAULT_STALE_AFTER_MS,
      now: Date.now(),
      layout: this.#options.layout,
    });
    return { status: 200, headers, body: html };
  }

  /** `POST :id/cancel/`: asks the manager to cancel; 202 once accepted. */
  async cancel(req: UiRequest<Req>): Promise<UiResponse> {
    const id = this.#taskId(req);
    await this.#guardWrite(req, 'cancel', id);
    const user = this.#options.getUser ? await this.#options.getUser(req.raw) : undefined;
    const result = await this.#manager.cancel(id, user === undefined ? {} : { user });
    const payload: CancelResponseJson = { id: result.id, status: result.status };
    return { status: 202, headers: jsonHeaders(), body: JSON.stringify(payload) };
  }

  /** 404 for a path under the mount point that names nothing. */
  notFound(): UiResponse {
    return this.errorResponse(new TaskRouterHttpError(404, 'NOT_FOUND', 'Nothing here: see the routes of the task router.'));
  }

  /** 405 for a known path asked with the wrong method. */
  methodNotAllowed(allow: string): UiResponse {
    return this.errorResponse(
      new TaskRouterHttpError(405, 'METHOD_NOT_ALLOWED', `Use ${allow} here.`, { Allow: allow }),
    );
  }

  /**
   * Answers anything thrown by the methods above. Client mistakes get their 4xx; anything else is
   * logged and answered with a bare 500, so no stack trace or internal message reaches a client.
   */
  errorResponse(error: unknown): UiResponse {
    const { http, internal } = classifyError(error);
    if (internal) this.#log(error);
    return { status: http.status, headers: { ...jsonHeaders(), ...http.headers }, body: JSON.stringify(http.toBody()) };
  }

  #log(error: unknown): void {
    try {
      this.#options.logger.error('stablehand task router: unexpected error', error);
    } catch {
      // A broken logger must not turn a clean 500 into a crashed request.
    }
  }

  #taskId(req: UiRequest<Req>): string {
    const id = req.taskId;
    if (!isPlausibleId(id)) throw new TaskRouterHttpError(404, 'TASK_NOT_FOUND', 'No task with that id.');
    return id;
  }

  #cacheableJson(req: UiRequest<Req>, body: string): UiResponse {
    return this.#conditionalJson(req, body, etagFor(body));
  }

  #conditionalJson(req: UiRequest<Req>, body: string, etag: string): UiResponse {
    const headers = { ...jsonHeaders(), ETag: etag };
    if (ifNoneMatchHits(req.header('if-none-match'), etag)) return { status: 304, headers, body: null };
    return { status: 200, headers, body };
  }

  async #readBody(req: UiRequest<Req>): Promise<unknown> {
    if (!req.body.present) return undefined;
    // Refused on its declared length, before a byte of it is read (and the connection closed, so
    // the rest is never read either).
    const declared = Number(req.header('content-length') ?? 0);
    if (declared > this.#options.bodyLimitBytes) {
      throw new TaskRouterHttpError(413, 'PAYLOAD_TOO_LARGE', 'The request body is too large.', { Connection: 'close' });
    }
    if (!req.body.json) {
      throw new TaskRouterHttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
    }
    return req.readJsonBody();
  }

  /** The host's login URL for this request, when it gives one a Location header can carry. */
  #loginUrl(req: UiRequest<Req>): string | undefined {
    const loginUrl = this.#options.loginUrl;
    if (!loginUrl) return undefined;
    try {
      const url: unknown = loginUrl(req.raw);
      // eslint-disable-next-line no-control-regex -- a header value must carry no control character
      if (typeof url === 'string' && url !== '' && !/[\u0000-\u001f\u007f]/.test(url)) return url;
      if (url !== undefined) this.#log(new Error(`loginUrl returned ${JSON.stringify(url)}, which is no URL a redirect can carry`));
    } catch (error) {
      this.#log(error);
    }
    return undefined;
  }

  async #authorize(req: UiRequest<Req>, action: TaskRouterAction, taskId?: string): Promise<void> {
    const authorize = this.#options.authorize;
    if (!authorize) return;
    const verdict = await authorize(req.raw, action, taskId === undefined ? { purpose: 'request' } : { purpose: 'request', taskId });
    if (verdict === true) return;
    if (verdict === 'unauthenticated') {
      const login = req.wantsHtml && (req.method === 'GET' || req.method === 'HEAD') ? this.#loginUrl(req) : undefined;
      if (login !== undefined) throw new TaskRouterHttpError(303, 'UNAUTHENTICATED', 'Sign in to use this page.', { Location: login });
      throw new TaskRouterHttpError(401, 'UNAUTHENTICATED', 'Sign in to use this page.');
    }
    // Anything but an explicit true refuses: a callback that forgot to return must not open the door.
    throw new TaskRouterHttpError(403, 'FORBIDDEN', 'You may not do this.');
  }

  /** Whether the page should show a control; a refusal only hides it, so errors count as refusals. */
  async #mayShow(req: UiRequest<Req>, action: 'run' | 'cancel', taskId?: string): Promise<boolean> {
    if (this.#options.readOnly) return false;
    const authorize = this.#options.authorize;
    if (!authorize) return true;
    const context = taskId === undefined ? { purpose: 'render' as const } : { purpose: 'render' as const, taskId };
    try {
      return (await authorize(req.raw, action, context)) === true;
    } catch (error) {
      this.#log(error);
      return false;
    }
  }

  async #guardWrite(req: UiRequest<Req>, action: 'run' | 'cancel', taskId?: string): Promise<void> {
    if (this.#options.readOnly) {
      throw new TaskRouterHttpError(403, 'READ_ONLY', 'This task page is read-only.');
    }
    if (!sameSite(req.header('origin'), req.header('sec-fetch-site'), req.header('host'), this.#options.trustedOrigins)) {
      throw new TaskRouterHttpError(403, 'CROSS_ORIGIN', 'This request comes from another site.');
    }
    await this.#authorize(req, action, taskId);
    const csrf = this.#options.csrf;
    if (!csrf) return;
    const cookie = readCookie(req.header('cookie'), csrf.cookieName);
    if (!verifyCsrfPair(cookie, req.header(csrf.headerName), csrf.secret)) {
      throw new TaskRouterHttpError(403, 'CSRF_FAILED', 'Missing or invalid CSRF token; reload the page and try again.');
    }
  }

  /** Reuses the client's valid token or issues one, adding its cookie to `headers`. */
  #csrfSetup(req: UiRequest<Req>, basePath: string, headers: Record<string, string>): CsrfClientSetup | null {
    const csrf = this.#options.csrf;
    if (!csrf) return null;
    const existing = readCookie(req.header('cookie'), csrf.cookieName);
    // Reusing a valid token keeps other open tabs of the page working.
    if (isSignedCsrfToken(existing, csrf.secret)) return { headerName: csrf.headerName, token: existing };
    const token = issueCsrfToken(csrf.secret);
    headers['Set-Cookie'] = csrfCookie(csrf.cookieName, token, basePath || '/', req.secure);
    return { headerName: csrf.headerName, token };
  }
}

/**
 * Whether a state-changing request comes from the page's own site (or a trusted origin), as the
 * browser tells it: `Origin` naming the request's own host, and `Sec-Fetch-Site` saying
 * `same-origin` (or `none`, typed by the user). A client that sends neither (curl, a server) passes:
 * the CSRF check and `authorize` still apply.
 */
function sameSite(origin: string | undefined, site: string | undefined, host: string | undefined, trusted: ReadonlySet<string>): boolean {
  if (origin !== undefined && trusted.has(origin)) return true;
  if (origin !== undefined) {
    if (hostOf(origin) !== host) return false;
  }
  return site === undefined || site === 'same-origin' || site === 'none';
}

function hostOf(origin: string): string | null {
  return URL.canParse(origin) ? new URL(origin).host : null;
}
