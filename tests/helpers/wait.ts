// The one home of the tests' timing and logging helpers; tests/ui/helpers.ts re-exports them.
/** Polls `check` until it returns a truthy value, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 5_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** A promise with its resolve function, for handlers a test finishes by hand. */
export function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void; reject(error: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A logger that keeps what it is told, so tests can assert on recovered errors. */
export interface RecordingLogger {
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  /** Every call as one line: `warn …` or `error …`, arguments joined by spaces. */
  lines: string[];
  /** The arguments of every `error()` call. */
  errors: unknown[][];
}

/** A {@link RecordingLogger}: prints nothing, keeps everything. */
export function recordingLogger(): RecordingLogger {
  const lines: string[] = [];
  const errors: unknown[][] = [];
  return {
    lines,
    errors,
    warn: (...args: unknown[]) => lines.push(`warn ${args.map(String).join(' ')}`),
    error: (...args: unknown[]) => {
      errors.push(args);
      lines.push(`error ${args.map(String).join(' ')}`);
    },
  };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
