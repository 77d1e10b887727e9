import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AdaptiveCache } from '../../src/ui/adaptive-cache.js';

describe('AdaptiveCache', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-12-01T10:00:00.000Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A computation that takes `ms` of the (fake) clock and counts its calls. */
  function costing(ms: number) {
    let calls = 0;
    const compute = async (): Promise<number> => {
      calls++;
      const value = calls;
      await vi.advanceTimersByTimeAsync(ms);
      return value;
    };
    return { compute, calls: () => calls };
  }

  it('keeps a cheap answer the minimum time, and a costly one 20 times what it cost', async () => {
    const cache = new AdaptiveCache<number>(2_000);
    const cheap = costing(10);
    expect(await cache.get('cheap', cheap.compute)).toBe(1);
    vi.setSystemTime(Date.now() + 1_900);
    expect(await cache.get('cheap', cheap.compute)).toBe(1);
    vi.setSystemTime(Date.now() + 200);
    expect(await cache.get('cheap', cheap.compute)).toBe(2);

    const costly = costing(400);
    const start = Date.now();
    expect(await cache.get('costly', costly.compute)).toBe(1);
    vi.setSystemTime(start + 7_900);
    expect(await cache.get('costly', costly.compute)).toBe(1);
    vi.setSystemTime(start + 8_100);
    expect(await cache.get('costly', costly.compute)).toBe(2);
  });

  it('after a change, recomputes a cheap answer at once and a costly one once its budget allows', async () => {
    const cache = new AdaptiveCache<number>(2_000);
    const cheap = costing(1);
    const costly = costing(100);
    const start = Date.now();
    expect(await cache.get('cheap', cheap.compute)).toBe(1);
    expect(await cache.get('costly', costly.compute)).toBe(1);
    vi.setSystemTime(start + 500);
    // Unchanged: both are kept their minimum time.
    expect(await cache.get('cheap', cheap.compute)).toBe(1);
    expect(await cache.get('costly', costly.compute)).toBe(1);
    cache.invalidate();
    expect(await cache.get('cheap', cheap.compute)).toBe(2);
    // 100 ms of work may run once per 2 s: it was computed 500 ms ago.
    expect(await cache.get('costly', costly.compute)).toBe(1);
    vi.setSystemTime(start + 2_200);
    expect(await cache.get('costly', costly.compute)).toBe(2);
  });

  it('shares one computation among concurrent callers and forgets a failure', async () => {
    const cache = new AdaptiveCache<number>(2_000);
    let calls = 0;
    let fail = true;
    const compute = async (): Promise<number> => {
      calls++;
      await vi.advanceTimersByTimeAsync(5);
      if (fail) throw new Error('store away');
      return calls;
    };
    const [a, b] = await Promise.allSettled([cache.get('k', compute), cache.get('k', compute)]);
    expect([a.status, b.status, calls]).toEqual(['rejected', 'rejected', 1]);
    fail = false;
    expect(await cache.get('k', compute)).toBe(2);
  });
});
