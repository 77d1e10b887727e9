/** Polls `check` until it returns a truthy value, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 5_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
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
export function recordingLogger(): { warn(...args: unknown[]): void; error(...args: unknown[]): void; lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    warn: (...args: unknown[]) => lines.push(`warn ${args.map(String).join(' ')}`),
    error: (...args: unknown[]) => lines.push(`error ${args.map(String).join(' ')}`),
  };
}
