import { StablehandError } from '../core/errors.js';

/**
 * The `code` of every error body the task router sends, as `{ "error": { "code", "message" } }`.
 * Clients may switch on them; they do not change between minor versions.
 */
export type TaskRouterErrorCode =
  | 'INVALID_JSON'
  | 'INVALID_BODY'
  | 'INVALID_QUERY'
  | 'INVALID_PATH'
  | 'NOT_FOUND'
  | 'UNKNOWN_KIND'
  | 'KIND_REQUIRED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'CSRF_FAILED'
  | 'CROSS_ORIGIN'
  | 'READ_ONLY'
  | 'RUN_DISABLED'
  | 'METHOD_NOT_ALLOWED'
  | 'TASK_NOT_FOUND'
  | 'NO_FLEET'
  | 'NO_METRICS'
  | 'TASK_FINISHED'
  | 'TASK_NOT_RETRYABLE'
  | 'TASK_CONFLICT'
  | 'MANAGER_STOPPED'
  | 'STORE_UNAVAILABLE'
  | 'QUEUE_UNAVAILABLE'
  | 'INTERNAL';

/** The JSON body of every error response the task router sends. */
export interface TaskRouterErrorBody {
  error: {
    code: TaskRouterErrorCode;
    message: string;
  };
}

/**
 * An error the router answers with a specific status and a message that is safe to show a client.
 * Anything else that reaches the router's error handler is logged and answered with a bare 500.
 */
export class TaskRouterHttpError extends Error {
  /** HTTP status of the response. */
  readonly status: number;
  /** Stable code of the error body. */
  readonly code: TaskRouterErrorCode;
  /** Extra response headers, such as `Allow` on a 405. */
  readonly headers: Readonly<Record<string, string>>;

  /** Makes an error answered with `status` and a `{ error: { code, message } }` body. */
  constructor(status: number, code: TaskRouterErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'TaskRouterHttpError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }

  /** The JSON body for this error. */
  toBody(): TaskRouterErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

/**
 * Translates the manager's own errors into client answers.
 *
 * Messages are written here rather than taken from the manager, because some manager messages are
 * meant for the host's logs (an unknown kind lists every defined kind, including ones the page
 * does not offer). Returns `null` for errors that are the server's fault, which become a logged 500.
 */
export function fromManagerError(error: unknown): TaskRouterHttpError | null {
  if (!(error instanceof StablehandError)) return null;
  switch (error.code) {
    case 'INVALID_INPUT':
      return new TaskRouterHttpError(400, 'INVALID_QUERY', error.message);
    case 'UNKNOWN_KIND':
      return new TaskRouterHttpError(400, 'UNKNOWN_KIND', 'That task kind is not offered.');
    case 'TASK_NOT_FOUND':
      return new TaskRouterHttpError(404, 'TASK_NOT_FOUND', 'No task with that id.');
    case 'TASK_FINISHED':
      return new TaskRouterHttpError(409, 'TASK_FINISHED', 'The task already finished.');
    case 'TASK_NOT_RETRYABLE':
      return new TaskRouterHttpError(409, 'TASK_NOT_RETRYABLE', error.message);
    case 'TASK_CONFLICT':
      return new TaskRouterHttpError(409, 'TASK_CONFLICT', 'Another running task holds the objects this task needs.');
    case 'MANAGER_STOPPED':
      return new TaskRouterHttpError(503, 'MANAGER_STOPPED', 'The task manager is not taking new work.');
    case 'STORE_UNAVAILABLE':
      return new TaskRouterHttpError(503, 'STORE_UNAVAILABLE', 'Task records are unavailable; try again shortly.');
    case 'QUEUE_UNAVAILABLE':
      return new TaskRouterHttpError(503, 'QUEUE_UNAVAILABLE', 'The task queue is unavailable; try again shortly.');
    default:
      return null;
  }
}

/** Body-parser errors carry a `type`; the ones below are the client's fault and keep their status. */
const BODY_ERRORS: Readonly<Partial<Record<string, { status: number; code: TaskRouterErrorCode; message: string }>>> = {
  'entity.parse.failed': { status: 400, code: 'INVALID_JSON', message: 'The request body is not valid JSON.' },
  'entity.too.large': { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'The request body is too large.' },
  'entity.verify.failed': { status: 400, code: 'INVALID_BODY', message: 'The request body was rejected.' },
  'encoding.unsupported': { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Unsupported content encoding.' },
  'charset.unsupported': { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Unsupported charset.' },
  'request.aborted': { status: 400, code: 'INVALID_BODY', message: 'The request body was cut short.' },
  'request.size.invalid': { status: 400, code: 'INVALID_BODY', message: 'The request body length does not match its header.' },
  'parameters.too.many': { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'The request body is too large.' },
};

function readProp(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * Turns anything thrown inside the router into the error to answer with.
 * `internal` is true when the error is the server's fault and must be logged.
 */
export function classifyError(error: unknown): { http: TaskRouterHttpError; internal: boolean } {
  if (error instanceof TaskRouterHttpError) return { http: error, internal: false };
  const fromManager = fromManagerError(error);
  if (fromManager) return { http: fromManager, internal: false };

  const type = readProp(error, 'type');
  if (typeof type === 'string') {
    const known = BODY_ERRORS[type];
    if (known) return { http: new TaskRouterHttpError(known.status, known.code, known.message), internal: false };
  }
  // http-errors marks client faults as exposable; keep their status but not their wording.
  const status = readProp(error, 'status');
  if (readProp(error, 'expose') === true && typeof status === 'number' && status >= 400 && status < 500) {
    if (error instanceof URIError) {
      return { http: new TaskRouterHttpError(400, 'INVALID_PATH', 'The request path is malformed.'), internal: false };
    }
    return { http: new TaskRouterHttpError(status, 'INVALID_BODY', 'The request was rejected.'), internal: false };
  }
  // Express rejects a path whose percent-encoding cannot be decoded with a URIError marked 400.
  if (error instanceof URIError && readProp(error, 'status') === 400) {
    return { http: new TaskRouterHttpError(400, 'INVALID_PATH', 'The request path is malformed.'), internal: false };
  }
  return { http: new TaskRouterHttpError(500, 'INTERNAL', 'Internal error.'), internal: true };
}
