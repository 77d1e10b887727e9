/**
 * A cache whose entries live longer the longer they took to compute. The tabs' counts are an
 * aggregate over many records: one that costs 50 ms is reused for the minimum time, one that
 * costs 400 ms (a common word counted over a million records) for 20 times that, so recounting
 * takes at most about a twentieth of the server's time however large the table grows.
 */
export class AdaptiveCache<T> {
  readonly #entries = new Map<string, { at: number; ttlMs: number; value: Promise<T> }>();

  /**
   * Keeps an answer at least `minTtlMs`, and `costFactor` times what it took to compute when
   * that is longer; at most `maxEntries` distinct keys.
   */
  constructor(
    private readonly minTtlMs: number,
    private readonly costFactor = 20,
    private readonly maxEntries = 64,
  ) {}

  /** The cached value for `key`, or the result of `compute`, shared by concurrent callers; a failure is not kept. */
  get(key: string, compute: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const entry = this.#entries.get(key);
    if (entry && now - entry.at < entry.ttlMs) return entry.value;
    if (this.#entries.size >= this.maxEntries) this.#entries.clear();
    const value = compute();
    // Until it settles, callers share the computation under way.
    const fresh = { at: now, ttlMs: Number.POSITIVE_INFINITY, value };
    this.#entries.set(key, fresh);
    value.then(
      () => { fresh.ttlMs = Math.max(this.minTtlMs, (Date.now() - now) * this.costFactor); },
      () => { if (this.#entries.get(key) === fresh) this.#entries.delete(key); },
    );
    return value;
  }
}
