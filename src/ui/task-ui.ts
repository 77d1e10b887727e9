import { runInput } from './run-input.js';
import { isPlausibleId } from '../core/ids.js';
import { renderTaskDetail } from './detail-template.js';
import { normaliseBasePath } from './escape.js';
import { etagFor, ifNoneMatchHits } from './etag.js';
import { DEFAULT_STALE_AFTER_MS } from '../core/fleet.js';
import { TaskRouterHttpError, classifyError } from './http-error.js';
import { renderTaskPage, taskUrl } from './page-template.js';
import type { ResolvedTaskUiOptions } from './router-options.js';
import { RequestGuard } from './request-guard.js';
import type { UiRequest, UiResponse } from './ui-request.js';

export type { UiRequest, UiResponse } from './ui-request.js';
import { listViewOf, viewQuery } from './list-view.js';
import { renderMetricsSection } from './metrics-chart.js';
import { renderAffectedFragment } from './affected-fragment.js';
import { createNonce, htmlHeaders, jsonHeaders } from './security-headers.js';
import { StatusCache } from './status-cache.js';
import { AdaptiveCache } from './adaptive-cache.js';
import { parseStatusQuery } from './status-query.js';
import type { TaskRouterManager } from '../ports/task-manager-port.js';
import { STATUS_CHANGING_EVENTS } from './manager-check.js';
import {
  toFleetJson, toStatusJson, toTaskDetail, toTaskSummary, type FleetJson, type RunResponseJson, type CancelResponseJson, type RetryResponseJson,
  type StatusCountsJson,
} from './task-view.js';
import type { CountTasksOptions, ListTasksOptions } from '../core/list-query.js';

/** How long the tabs' counts are reused at least, in milliseconds: they are an aggregate over many records. */
const COUNTS_CACHE_MS = 2_000;

/**
 * The task page and API without a web framework: each method turns a {@link UiRequest} into a
 * {@link UiResponse}, throwing only errors that {@link TaskUi.errorResponse} knows how to answer.
 */
export class TaskUi<Req> {
  readonly #manager: TaskRouterManager;
  readonly #options: ResolvedTaskUiOptions<Req>;
  readonly #statusCache: StatusCache<{ body: string; etag: string }>;
  // Counts are not dropped on every event: under load they would be recounted on every poll.
  readonly #countsCache = new AdaptiveCache<StatusCountsJson | null>(COUNTS_CACHE_MS);
  readonly #guard: RequestGuard<Req>;

  /** Serves `manager` with already resolved options; subscribes to its events when it has them. */
  constructor(manager: TaskRouterManager, options: ResolvedTaskUiOptions<Req>) {
    this.#manager = manager;
    this.#options = options;
    this.#statusCache = new StatusCache(options.statusCacheMs);
    this.#guard = new RequestGuard(options, (error) => this.#log(error));
    // Each event listened to makes the manager build a payload per task: only when something here is cached.
    if (typeof manager.on === 'function' && (options.statusCacheMs > 0 || typeof manager.countTasks === 'function')) {
      const invalidate = (): void => {
        this.#statusCache.invalidate();
        this.#countsCache.invalidate();
      };
      for (const event of STATUS_CHANGING_EVENTS) manager.on(event, invalidate);
    }
  }

  /** `GET /`: the list page, filtered, searched and paged as its URL says. */
  async page(req: UiRequest<Req>): Promise<UiResponse> {
    await this.#guard.authorize(req, 'view');
    const query = parseStatusQuery(req.query, this.#options.pageSize);
    const canRun = this.#options.kinds.length > 0 && await this.#guard.mayShow(req, 'run');
    const canCancel = await this.#guard.mayShow(req, 'cancel');
    const canRetry = typeof this.#manager.retry === 'function' && await this.#guard.mayShow(req, 'retry');
    const manager = this.#manager;
    const [page, fleet, counts, metrics] = await Promise.all([
      manager.listTasks(query), this.#fleetJson(), this.#counts(query),
      manager.metrics ? manager.metrics().then(renderMetricsSection) : null,
    ]);
    const basePath = normaliseBasePath(req.baseUrl);
    const view = listViewOf(query, this.#options.pageSize);
    if (view.after !== undefined && !page.prevCursor) {
      // "Newer" reached the first page: its own URL, so that it polls and shows new tasks as the first page does.
      delete view.after;
      return { status: 303, headers: { Location: `${basePath}/${viewQuery(view)}`, 'Cache-Control': 'no-store' }, body: '' };
    }
    const nonce = createNonce();
    const headers = htmlHeaders(nonce);
    const csrf = canRun || canCancel || canRetry ? this.#guard.csrfSetup(req, basePath, headers) : null;
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
      canRetry,
      searchable: manager.searchable === true,
      view,
      counts,
      prevCursor: page.prevCursor ?? null,
      nextCursor: page.nextCursor,
      metricsHtml: metrics,
      csrf,
      pollIntervalMs: this.#options.pollIntervalMs,
      idlePollIntervalMs: this.#options.idlePollIntervalMs,
      staleAfterMs: manager.staleAfterMs ?? DEFAULT_STALE_AFTER_MS,
      pageSize: query.limit ?? this.#options.pageSize,
      tasks: page.tasks.map(toTaskSummary),
      fleet,
      now: Date.now(),
      layout: this.#options.layout,
    });
    return { status: 200, headers, body: html };
  }

  /** `GET status/`: a page of tasks as JSON, or a bodiless 304 when the client's copy is current. */
  async status(req: UiRequest<Req>): Promise<UiResponse> {
    await this.#guard.authorize(req, 'view');
    const query = parseStatusQuery(req.query, this.#options.pageSize);
    const { body, etag } = await this.#statusCache.get(JSON.stringify(query), async () => {
      const [page, counts] = await Promise.all([this.#manager.listTasks(query), this.#counts(query)]);
      const text = JSON.stringify(toStatusJson(page, counts));
      return { body: text, etag: etagFor(text) };
    });
    return this.#conditionalJson(req, body, etag);
  }

  /** Counts for the tabs within the query's filters (not its status), or null when the manager cannot count. */
  #counts(query: ListTasksOptions): Promise<StatusCountsJson | null> {
    const manager = this.#manager;
    if (!manager.countTasks) return Promise.resolve(null);
    const filters: CountTasksOptions = {};
    if (query.affected !== undefined) filters.affected = query.affected;
    if (query.search !== undefined) filters.search = query.search;
    return this.#countsCache.get(JSON.stringify(filters), () => manager.countTasks?.(filters) ?? Promise.resolve(null));
  }

  /** `GET metrics/`: per kind, the last hour and day; 404 when the manager has no metrics. */
  async metrics(req: UiRequest<Req>): Promise<UiResponse> {
    await this.#guard.authorize(req, 'view');
    if (!this.#manager.metrics) throw new TaskRouterHttpError(404, 'NO_METRICS', 'This task manager reports no metrics.');
    return this.#cacheableJson(req, JSON.stringify(await this.#manager.metrics()));
  }

  /**
   * `GET fragment/?affected=order:42`: the tasks that touched one object, as a small HTML
   * fragment for a host's own page (no script, no style: it follows the page's CSP).
   */
  async fragment(req: UiRequest<Req>): Promise<UiResponse> {
    await this.#guard.authorize(req, 'view');
    const query = parseStatusQuery(req.query, 10);
    if (query.affected === undefined) throw new TaskRouterHttpError(400, 'INVALID_QUERY', 'Name the object, as "affected=order:42".');
    const page = await this.#manager.listTasks(query);
    const html = renderAffectedFragment(normaliseBasePath(req.baseUrl), query.affected, page.tasks.map(toTaskSummary), Date.now());
    return { status: 200, headers: { ...htmlHeaders(createNonce()), 'Cache-Control': 'no-store' }, body: html };
  }

  /** `GET fleet/`: who holds the unfinished tasks and how many wait; 404 when the manager cannot tell. */
  async fleet(req: UiRequest<Req>): Promise<UiResponse> {
    await this.#guard.authorize(req, 'view');
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
    await this.#guard.guardWrite(req, 'run');
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
    const affected = spec?.affected ? spec.affected(input) : undefined;
    const launched = await this.#manager.launch(kind, input, { ...(user === undefined ? {} : { user }), ...(affected === undefined ? {} : { affected }) });
    const payload: RunResponseJson = { id: launched.id, label: launched.label, status: 'PENDING' };
    const headers = { ...jsonHeaders(), Location: taskUrl(normaliseBasePath(req.baseUrl), launched.id) };
    return { status: 201, headers, body: JSON.stringify(payload) };
  }

  /** `GET :id/`: one task, as the detail view for browsers and as JSON otherwise. */
  async detail(req: UiRequest<Req>): Promise<UiResponse> {
    const id = this.#taskId(req);
    await this.#guard.authorize(req, 'view', id);
    const [record, keys] = await Promise.all([this.#manager.getTask(id), this.#manager.affectedKeysOf?.(id) ?? []]);
    if (!record) throw new TaskRouterHttpError(404, 'TASK_NOT_FOUND', 'No task with that id.');
    const task = toTaskDetail(record, keys);
    if (!req.wantsHtml) {
      const response = this.#cacheableJson(req, JSON.stringify(task));
      response.headers.Vary = 'Accept';
      return response;
    }
    const canCancel = await this.#guard.mayShow(req, 'cancel', id);
    const canRetry = typeof this.#manager.retry === 'function' && await this.#guard.mayShow(req, 'retry', id);
    const basePath = normaliseBasePath(req.baseUrl);
    const nonce = createNonce();
    const headers = { ...htmlHeaders(nonce), Vary: 'Accept' };
    const csrf = canCancel || canRetry ? this.#guard.csrfSetup(req, basePath, headers) : null;
    const html = renderTaskDetail({
      nonce,
      basePath,
      listTitle: this.#options.title,
      task,
      canCancel,
      canRetry,
      searchable: this.#manager.searchable === true,
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
    await this.#guard.guardWrite(req, 'cancel', id);
    const user = this.#options.getUser ? await this.#options.getUser(req.raw) : undefined;
    const result = await this.#manager.cancel(id, user === undefined ? {} : { user });
    const payload: CancelResponseJson = { id: result.id, status: result.status };
    return { status: 202, headers: jsonHeaders(), body: JSON.stringify(payload) };
  }

  /** `POST :id/retry/`: retries a FAILED or CANCELLED task as a new one; 201 with the new task. */
  async retry(req: UiRequest<Req>): Promise<UiResponse> {
    const id = this.#taskId(req);
    const retry = this.#manager.retry?.bind(this.#manager);
    if (!retry) throw new TaskRouterHttpError(404, 'NOT_FOUND', 'This task manager does not retry tasks.');
    await this.#guard.guardWrite(req, 'retry', id);
    const user = this.#options.getUser ? await this.#options.getUser(req.raw) : undefined;
    const launched = await retry(id, user === undefined ? {} : { user });
    const payload: RetryResponseJson = { id: launched.id, label: launched.label, status: 'PENDING', retry_of: id };
    const headers = { ...jsonHeaders(), Location: taskUrl(normaliseBasePath(req.baseUrl), launched.id) };
    return { status: 201, headers, body: JSON.stringify(payload) };
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
}
