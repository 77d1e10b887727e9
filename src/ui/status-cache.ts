/**
 * A short-lived cache of `GET status/` answers, so that many pollers of an idle page cost one
 * store read per `ttlMs` instead of one each.
 *
 * Entries are dropped on every lifecycle event of the manager, so a change made in this process
 * shows on the next poll. The time limit bounds what events cannot cover: writes by other
 * processes sharing the database, and the moment between an event and its buffered write
 * becoming durable, when a read can still see the old row.
 */
export class StatusCache<T> {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, { version: number; at: number; value: Promise<T> }>();
  #version = 0;

  /** Keeps answers up to `ttlMs` (0 disables the cache) and at most `maxEntries` distinct queries. */
  constructor(ttlMs: number, maxEntries = 64) {
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  /** Forgets every entry; called on each lifecycle event. */
  invalidate(): void {
    this.#version++;
    this.#entries.clear();
  }

  /**
   * The cached value for `key`, or the result of `compute`. Concurrent callers of one key share a
   * single computation; a failed one is not kept.
   */
  get(key: string, compute: () => Promise<T>): Promise<T> {
    if (this.#ttlMs === 0) return compute();
    const now = Date.now();
    const entry = this.#entries.get(key);
    if (entry?.version === this.#version && now - entry.at < this.#ttlMs) return entry.value;
    // Keys come from query strings, so the map is bounded against a client cycling cursors.
    if (this.#entries.size >= this.#maxEntries) this.#entries.clear();
    const version = this.#version;
    const value = compute();
    this.#entries.set(key, { version, at: now, value });
    value.catch(() => {
      if (this.#entries.get(key)?.value === value) this.#entries.delete(key);
    });
    return value;
  }
}
