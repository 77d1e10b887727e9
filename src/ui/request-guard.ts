import { csrfCookie, isSignedCsrfToken, issueCsrfToken, readCookie, verifyCsrfPair } from './csrf.js';
import { TaskRouterHttpError } from './http-error.js';
import type { CsrfClientSetup } from './page-template.js';
import type { ResolvedTaskUiOptions, TaskRouterAction } from './router-options.js';
import type { UiRequest } from './ui-request.js';

/** The actions that change something, each guarded by origin, `authorize` and CSRF. */
export type WriteAction = Exclude<TaskRouterAction, 'view'>;

/**
 * Who may do what, for every route: `authorize` with its login redirect, the same-site and CSRF
 * checks of state-changing requests, and whether the page shows a control at all.
 */
export class RequestGuard<Req> {
  readonly #options: ResolvedTaskUiOptions<Req>;
  readonly #log: (error: unknown) => void;

  /** Guards with the router's resolved options, reporting its own faults to `log`. */
  constructor(options: ResolvedTaskUiOptions<Req>, log: (error: unknown) => void) {
    this.#options = options;
    this.#log = log;
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

  /** Refuses the request (401, 303 to the login page, or 403) unless `authorize` allows `action`. */
  async authorize(req: UiRequest<Req>, action: TaskRouterAction, taskId?: string): Promise<void> {
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
  async mayShow(req: UiRequest<Req>, action: WriteAction, taskId?: string): Promise<boolean> {
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

  /** Refuses a state-changing request that is read-only, cross-site, unauthorised or without its CSRF token. */
  async guardWrite(req: UiRequest<Req>, action: WriteAction, taskId?: string): Promise<void> {
    if (this.#options.readOnly) {
      throw new TaskRouterHttpError(403, 'READ_ONLY', 'This task page is read-only.');
    }
    if (!sameSite(req.header('origin'), req.header('sec-fetch-site'), req.header('host'), this.#options.trustedOrigins)) {
      throw new TaskRouterHttpError(403, 'CROSS_ORIGIN', 'This request comes from another site.');
    }
    await this.authorize(req, action, taskId);
    const csrf = this.#options.csrf;
    if (!csrf) return;
    const cookie = readCookie(req.header('cookie'), csrf.cookieName);
    if (!verifyCsrfPair(cookie, req.header(csrf.headerName), csrf.secret)) {
      throw new TaskRouterHttpError(403, 'CSRF_FAILED', 'Missing or invalid CSRF token; reload the page and try again.');
    }
  }

  /** Reuses the client's valid token or issues one, adding its cookie to `headers`. */
  csrfSetup(req: UiRequest<Req>, basePath: string, headers: Record<string, string>): CsrfClientSetup | null {
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
