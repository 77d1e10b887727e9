import { randomBytes } from 'node:crypto';
import { ConfigurationError } from '../core/errors.js';
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from '../core/list-query.js';
import { checkOptionKeys, type KeySet } from '../core/options.js';
import { resolveOfferedKind, type OfferedKind, type TaskRouterKind } from './run-input.js';

/** What a request wants to do: look at tasks, start one, cancel one, or retry a failed or cancelled one. */
export type TaskRouterAction = 'view' | 'run' | 'cancel' | 'retry';

/**
 * What `authorize` answers. `true` allows; `false` refuses with 403 `FORBIDDEN`;
 * `'unauthenticated'` refuses with 401 `UNAUTHENTICATED` (nobody is signed in, as opposed to
 * someone who may not do this). A throw is treated as a server fault: logged, answered with 500.
 */
export type TaskRouterAuthorizeResult = boolean | 'unauthenticated';

/** Extra facts `authorize` gets with the action. */
export interface TaskRouterAuthorizeContext {
  /** The task a `cancel` or `retry` (or a detail `view`) is about. */
  taskId?: string;
  /**
   * `'request'` when the answer decides the request itself; `'render'` when the page only asks
   * whether to show the run and cancel buttons, so a refusal there just hides them.
   */
  purpose: 'request' | 'render';
}

/** Decides whether a request may perform an action. May be async. */
export type TaskRouterAuthorize<Req> = (
  req: Req,
  action: TaskRouterAction,
  context: TaskRouterAuthorizeContext,
) => TaskRouterAuthorizeResult | Promise<TaskRouterAuthorizeResult>;

/** Where the router reports its own faults (a throwing `authorize`, a broken store). */
export interface TaskRouterLogger {
  /** Called once per fault with a short description and the thrown value. */
  error(message: string, error: unknown): void;
}

/** Settings of the CSRF double-submit check on `POST` routes. */
export interface TaskRouterCsrfOptions {
  /**
   * Key that signs tokens, at least 16 characters. Give the same one to every instance behind a
   * load balancer, or a page served by one instance cannot post to another.
   * @defaultValue a random key per router, so tokens do not survive a restart (a reload fixes that)
   */
  secret?: string | undefined;
  /**
   * Name of the token cookie.
   * @defaultValue `'stablehand_csrf'`
   */
  cookieName?: string | undefined;
  /**
   * Request header that must repeat the token.
   * @defaultValue `'x-csrf-token'`
   */
  headerName?: string | undefined;
}

/**
 * Options of the task page and API, independent of the web framework. `Req` is the framework's
 * request type, handed unchanged to `authorize` and `getUser`.
 */
export interface TaskUiOptions<Req> {
  /**
   * The page's `<title>`.
   * @defaultValue `'Tasks'`
   */
  title?: string | undefined;
  /**
   * The page's main heading.
   * @defaultValue `'Tasks'`
   */
  heading?: string | undefined;
  /**
   * Text of the run button.
   * @defaultValue `'Start'`
   */
  runLabel?: string | undefined;
  /**
   * Hint beside the run button; an empty string shows none.
   * @defaultValue `''` (no hint)
   */
  runHint?: string | undefined;
  /**
   * Text shown while there are no tasks.
   * @defaultValue `'No tasks yet.'`
   */
  emptyText?: string | undefined;
  /**
   * Task kinds the page may start: the run bar offers them (a choice when there are several), and
   * `POST run/` launches only these (400 for any other, even one the manager defines). Without
   * any, the page starts nothing: no run bar, and `POST run/` answers 403 `RUN_DISABLED`; tasks
   * are launched by the app itself and the page only shows them.
   * @defaultValue none
   */
  kinds?: readonly (string | TaskRouterKind)[] | undefined;
  /**
   * How often an open page looks for changes while nothing is PENDING or RUNNING, so a task
   * launched elsewhere in the app shows up; each look costs the server a bare 304 when nothing
   * changed. A hidden tab does not look at all. 0 stops looking until the page is reloaded.
   * @defaultValue 15000
   */
  idlePollIntervalMs?: number | undefined;
  /**
   * How often the page polls while a task is pending or running, in milliseconds (100–3,600,000).
   * @defaultValue `2000`
   */
  pollIntervalMs?: number | undefined;
  /**
   * How many of the newest tasks the page shows and polls (1 to `MAX_LIST_LIMIT`, 500).
   * @defaultValue `50`
   */
  pageSize?: number | undefined;
  /**
   * How long, in milliseconds (0–60,000), one `GET status/` answer may be reused for identical
   * queries. Any lifecycle event of the manager drops the cache at once, so this only bounds how
   * late changes made by other processes (or a write still in flight) can show; 0 reads the store
   * on every request.
   * @defaultValue `1000`
   */
  statusCacheMs?: number | undefined;
  /**
   * Gatekeeper for every route; see {@link TaskRouterAuthorizeResult} for what its answers mean.
   * @defaultValue allows everything: mount the router behind the host's own authentication
   */
  authorize?: TaskRouterAuthorize<Req> | undefined;
  /**
   * Serves the page and the read routes only: `POST run/` and `POST :id/cancel/` answer 403
   * `READ_ONLY`, and the page shows no run or cancel buttons.
   * @defaultValue `false`
   */
  readOnly?: boolean | undefined;
  /**
   * Largest accepted JSON body, in bytes or as a string such as `'4kb'`.
   * @defaultValue `'4kb'`
   */
  bodyLimit?: number | string | undefined;
  /**
   * Who launches a task from a request; passed to `launch()` as `user`, shown in the detail view.
   * @defaultValue none: tasks are launched without a user
   */
  getUser?: ((req: Req) => unknown) | undefined;
  /**
   * CSRF settings, or `false` to turn the check off. Turn it off only when every client that can
   * post authenticates with a credential a browser never attaches on its own (an API token header).
   * @defaultValue enabled with the defaults of {@link TaskRouterCsrfOptions}
   */
  csrf?: TaskRouterCsrfOptions | false | undefined;
  /**
   * Where to send a browser that asks for the page or a detail view while `authorize` answers
   * `'unauthenticated'`: the host's login page, e.g.
   * `(req) => \`/login?next=${encodeURIComponent(req.originalUrl)}\``. The browser gets a 303 to it;
   * JSON clients still get 401 `UNAUTHENTICATED`. Returning undefined keeps the 401.
   * @defaultValue none: 401 for everyone
   */
  loginUrl?: ((req: Req) => string | undefined) | undefined;
  /**
   * Origins besides the page's own (`https://admin.example.com`) allowed to post to `run/` and
   * `:id/cancel/`. Browsers say where a request comes from (`Origin`, `Sec-Fetch-Site`); one that
   * names another site is refused with 403 `CROSS_ORIGIN` before anything else, in addition to the
   * CSRF check. The page's own origin is the request's `Host`: behind a proxy that rewrites it,
   * list the public origin here.
   * @defaultValue none: same-origin requests only
   */
  trustedOrigins?: readonly string[] | undefined;
  /**
   * Receives the router's own faults.
   * @defaultValue `console`
   */
  logger?: TaskRouterLogger | undefined;
  /**
   * Wraps the page's and the detail view's `<body>` content in the host's own layout (a masthead,
   * navigation). It gets the page's HTML and this response's CSP nonce: a `<style>` or `<script>`
   * it adds must carry `nonce="…"`, and inline `style` attributes are blocked. What it returns is
   * trusted HTML, so escape anything it interpolates.
   * @defaultValue none: the page stands alone
   */
  layout?: ((page: TaskPageLayoutInput) => string) | undefined;
}

/** What a {@link TaskUiOptions.layout} function gets. */
export interface TaskPageLayoutInput {
  /** The page's own HTML, to place inside the layout. */
  body: string;
  /** The CSP nonce of this response, for the layout's own `<style>` and `<script>` tags. */
  nonce: string;
  /** The document's title. */
  title: string;
}

/** {@link TaskUiOptions} with every default applied and every value checked. */
export interface ResolvedTaskUiOptions<Req> {
  title: string;
  heading: string;
  runLabel: string;
  runHint: string;
  emptyText: string;
  /** The offered kinds' names, in order. */
  kinds: readonly string[];
  /** Each offered kind with its fixed input or form. */
  offered: ReadonlyMap<string, OfferedKind>;
  pollIntervalMs: number;
  idlePollIntervalMs: number;
  pageSize: number;
  statusCacheMs: number;
  /** See {@link TaskUiOptions.authorize}; `null` allows everything. */
  authorize: TaskRouterAuthorize<Req> | null;
  readOnly: boolean;
  bodyLimitBytes: number;
  /** See {@link TaskUiOptions.getUser}; `null` when not given. */
  getUser: ((req: Req) => unknown) | null;
  csrf: { secret: string; cookieName: string; headerName: string } | null;
  /** See {@link TaskUiOptions.loginUrl}; `null` when not given. */
  loginUrl: ((req: Req) => string | undefined) | null;
  /** See {@link TaskUiOptions.trustedOrigins}, normalised (`scheme://host[:port]`). */
  trustedOrigins: ReadonlySet<string>;
  logger: TaskRouterLogger;
  /** See {@link TaskUiOptions.layout}; `null` when not given. */
  layout: ((page: TaskPageLayoutInput) => string) | null;
}

/** Default texts of the page: plain words that fit any app (the demo sets its own). */
export const DEFAULT_TEXTS = {
  title: 'Tasks',
  heading: 'Tasks',
  runLabel: 'Start',
  runHint: '',
  emptyText: 'No tasks yet.',
} as const;

const OPTION_KEYS: KeySet<TaskUiOptions<unknown>> = {
  title: true, heading: true, runLabel: true, runHint: true, emptyText: true, kinds: true, pollIntervalMs: true, idlePollIntervalMs: true,
  pageSize: true, statusCacheMs: true, authorize: true, readOnly: true, bodyLimit: true, getUser: true, csrf: true, trustedOrigins: true, loginUrl: true,
  logger: true, layout: true,
};
const CSRF_KEYS: KeySet<TaskRouterCsrfOptions> = { secret: true, cookieName: true, headerName: true };
const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const SIZE_UNITS: Readonly<Partial<Record<string, number>>> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

function fail(message: string): never {
  throw new ConfigurationError(`createTaskRouter: ${message}`);
}

function text(value: unknown, name: string, fallback: string, allowEmpty: boolean): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') fail(`${name} must be a string.`);
  if (!allowEmpty && value.trim() === '') fail(`${name} must not be empty.`);
  return value;
}

function integer(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`${name} must be an integer from ${min} to ${max}.`);
  }
  return value;
}

/** A function option, or null when not given; the caller states which function type it is. */
function fn(value: unknown, name: string): AnyFunction | null {
  if (value === undefined) return null;
  if (typeof value !== 'function') fail(`${name} must be a function.`);
  return value as AnyFunction;
}

type AnyFunction = (...args: never[]) => unknown;

/** Reads a body limit given as bytes or as `'<n>b|kb|mb|gb'`. */
export function parseByteSize(value: number | string): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(value);
  if (!match) return null;
  const bytes = Math.floor(Number(match[1]) * (SIZE_UNITS[(match.at(2) ?? 'b').toLowerCase()] ?? 1));
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : null;
}

function resolveKinds(value: unknown): ReadonlyMap<string, OfferedKind> {
  const offered = new Map<string, OfferedKind>();
  if (value === undefined) return offered;
  if (!Array.isArray(value)) fail('kinds must be an array of kind names (or { kind, input?, fields? } objects).');
  for (const entry of value as unknown[]) {
    const kind = resolveOfferedKind(entry, fail);
    if (!offered.has(kind.kind)) offered.set(kind.kind, kind);
  }
  return offered;
}

function resolveCsrf(value: unknown): ResolvedTaskUiOptions<unknown>['csrf'] {
  if (value === false) return null;
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    fail('csrf must be an options object or false.');
  }
  const given = checkOptionKeys(value, CSRF_KEYS, 'createTaskRouter csrf');
  const secret = given.secret;
  if (secret !== undefined && (typeof secret !== 'string' || secret.length < 16)) {
    fail('csrf.secret must be a string of at least 16 characters.');
  }
  const cookieName = text(given.cookieName, 'csrf.cookieName', 'stablehand_csrf', false);
  const headerName = text(given.headerName, 'csrf.headerName', 'x-csrf-token', false);
  if (!HTTP_TOKEN.test(cookieName)) fail('csrf.cookieName must be a valid cookie name.');
  if (!HTTP_TOKEN.test(headerName)) fail('csrf.headerName must be a valid header name.');
  return {
    // A random per-router key is enough for one process; the option exists for several.
    secret: secret ?? randomBytes(32).toString('base64url'),
    cookieName,
    headerName: headerName.toLowerCase(),
  };
}

function resolveLogger(value: unknown): TaskRouterLogger {
  if (value === undefined) return console;
  if (typeof value !== 'object' || value === null || typeof (value as TaskRouterLogger).error !== 'function') {
    fail('logger must be an object with an error(message, error) method.');
  }
  return value as TaskRouterLogger;
}

/**
 * Applies defaults and checks every option, throwing `ConfigurationError` on the first bad one,
 * so a misconfigured router fails when the host builds it rather than on some later request.
 */
export function resolveTaskUiOptions<Req>(options: TaskUiOptions<Req> | undefined): ResolvedTaskUiOptions<Req> {
  const given = checkOptionKeys(options, OPTION_KEYS, 'createTaskRouter');
  const offered = resolveKinds(given.kinds);
  const readOnly = given.readOnly;
  if (readOnly !== undefined && typeof readOnly !== 'boolean') fail('readOnly must be a boolean.');
  const bodyLimit = given.bodyLimit;
  let bodyLimitBytes = 4 * 1024;
  if (bodyLimit !== undefined) {
    const parsed = typeof bodyLimit === 'number' || typeof bodyLimit === 'string' ? parseByteSize(bodyLimit) : null;
    if (parsed === null) fail('bodyLimit must be a positive number of bytes or a size such as "4kb".');
    bodyLimitBytes = parsed;
  }
  return {
    title: text(given.title, 'title', DEFAULT_TEXTS.title, false),
    heading: text(given.heading, 'heading', DEFAULT_TEXTS.heading, false),
    runLabel: text(given.runLabel, 'runLabel', DEFAULT_TEXTS.runLabel, false),
    runHint: text(given.runHint, 'runHint', DEFAULT_TEXTS.runHint, true),
    emptyText: text(given.emptyText, 'emptyText', DEFAULT_TEXTS.emptyText, false),
    kinds: Object.freeze([...offered.keys()]),
    offered,
    pollIntervalMs: integer(given.pollIntervalMs, 'pollIntervalMs', 2000, 100, 3_600_000),
    idlePollIntervalMs: integer(given.idlePollIntervalMs, 'idlePollIntervalMs', 15_000, 0, 3_600_000),
    pageSize: integer(given.pageSize, 'pageSize', DEFAULT_LIST_LIMIT, 1, MAX_LIST_LIMIT),
    statusCacheMs: integer(given.statusCacheMs, 'statusCacheMs', 1000, 0, 60_000),
    authorize: fn(given.authorize, 'authorize') as TaskRouterAuthorize<Req> | null,
    readOnly: readOnly === true,
    bodyLimitBytes,
    getUser: fn(given.getUser, 'getUser') as ((req: Req) => unknown) | null,
    csrf: resolveCsrf(given.csrf),
    trustedOrigins: resolveOrigins(given.trustedOrigins),
    loginUrl: fn(given.loginUrl, 'loginUrl') as ((req: Req) => string | undefined) | null,
    logger: resolveLogger(given.logger),
    layout: fn(given.layout, 'layout') as ((page: TaskPageLayoutInput) => string) | null,
  };
}

function resolveOrigins(given: unknown): ReadonlySet<string> {
  if (given === undefined) return new Set();
  if (!Array.isArray(given)) fail('trustedOrigins must be a list of origins such as "https://admin.example.com".');
  const origins = new Set<string>();
  for (const origin of given as unknown[]) {
    const parsed = typeof origin === 'string' && URL.canParse(origin) ? new URL(origin) : null;
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.origin !== String(origin).replace(/\/$/, '')) {
      fail(`trustedOrigins: ${JSON.stringify(origin)} is not an origin such as "https://admin.example.com" (scheme, host and port only).`);
    }
    origins.add(parsed.origin);
  }
  return origins;
}
