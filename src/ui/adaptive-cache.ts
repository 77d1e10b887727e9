/**
 * A cache whose entries live longer the longer they took to compute. The tabs' counts are an
 * aggregate over many records: one that costs 50 ms is reused for the minimum time, one that
 * costs 400 ms (a common word counted over a million records) for 20 times that, so recounting
 * takes at most about a twentieth of the server's time however large the table grows. A change
 * (`invalidate()`) makes entries due as soon as that share allows: a cheap count follows the
 * rows it heads at once, a costly one within its budget.
 */
export class AdaptiveCache<T> {
  readonly #entries = new Map<string, { at: number; costMs: number; stale: boolean; value: Promise<T> }>();

  /**
   * Keeps an answer at least `minTtlMs` while nothing changes, and `costFactor` times what it
   * took to compute in any case; at most `maxEntries` distinct keys.
   */
  constructor(
    private readonly minTtlMs: number,
    private readonly costFactor = 20,
    private readonly maxEntries = 64,
  ) {}

  /** Marks every answer changed: each is recomputed once its cost allows. */
  invalidate(): void {
    for (const entry of this.#entries.values()) entry.stale = true;
  }

  /** The cached value for `key`, or the result of `compute`, shared by concurrent callers; a failure is not kept. */
  get(key: string, compute: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const entry = this.#entries.get(key);
    if (entry) {
      const budget = entry.costMs * this.costFactor;
      if (now - entry.at < (entry.stale ? budget : Math.max(this.minTtlMs, budget))) return entry.value;
    }
    if (this.#entries.size >= this.maxEntries) this.#entries.clear();
    const value = compute();
    // Until it settles, callers share the computation under way.
    const fresh = { at: now, costMs: Number.POSITIVE_INFINITY, stale: false, value };
    this.#entries.set(key, fresh);
    value.then(
      () => { fresh.costMs = Date.now() - now; },
      () => { if (this.#entries.get(key) === fresh) this.#entries.delete(key); },
    );
    return value;
  }
}
