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
