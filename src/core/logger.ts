/** Where stablehand reports problems it recovered from (a throwing hook, a failed write it retries). */
export interface Logger {
  /** A problem stablehand recovered from without losing anything (a write that succeeded on retry). */
  warn(message: string, ...details: unknown[]): void;
  /** A failure stablehand contained (a throwing hook, a failing database it keeps retrying). */
  error(message: string, ...details: unknown[]): void;
}

/** The readable message of anything thrown: an error's message (or name), a string, or its JSON. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  try {
    // Typed as a string, but undefined for a function or a symbol.
    const json = JSON.stringify(error) as string | undefined;
    return json ?? String(error);
  } catch {
    return String(error);
  }
}
