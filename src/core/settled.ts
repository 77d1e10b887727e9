/**
 * One promise that is already resolved, shared by the engine and the in-process runner. A job
 * that finished synchronously, or an enqueue that had nothing to wait for, hands it back; a
 * caller that sees this very object skips the await, and with it a microtask per task on the
 * write path (about a tenth of its time, measured with bench/compare-builds.ts). Any other runner
 * simply returns its own promises. Not part of the public API.
 */
export const SETTLED: Promise<undefined> = Promise.resolve(undefined);
