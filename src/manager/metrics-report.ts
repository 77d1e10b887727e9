import {
  METRICS_WINDOWS, type KindMetrics, type MetricsRows, type MetricsWindow, type MetricsWindowSpec, type TaskMetrics,
} from '../core/metrics.js';
import type { RecordStore } from '../ports/record-store.js';

/**
 * `metrics()` behind a short cache: the figures of a minute ago are as good for a chart, and the
 * cache keeps a page polled by many operators at one pair of aggregate queries per window and
 * interval. Concurrent callers of an expired cache share one computation.
 */
export class MetricsReport {
  private cached: { at: number; metrics: Promise<TaskMetrics> } | null = null;

  constructor(
    private readonly store: RecordStore,
    private readonly now: () => Date,
    private readonly maxAgeMs: number,
  ) {}

  /** The figures, computed at most once per `maxAgeMs`. */
  get(): Promise<TaskMetrics> {
    const now = this.now();
    if (this.cached && now.getTime() - this.cached.at < this.maxAgeMs) return this.cached.metrics;
    const metrics = computeMetrics(this.store, now);
    this.cached = { at: now.getTime(), metrics };
    // A failed computation is not kept: the next caller tries again.
    metrics.catch(() => {
      if (this.cached?.metrics === metrics) this.cached = null;
    });
    return metrics;
  }
}

/** Reads the aggregates of every window from the store and shapes them per kind. */
export async function computeMetrics(store: RecordStore, now: Date): Promise<TaskMetrics> {
  const windows = await Promise.all(METRICS_WINDOWS.map(async (spec) => {
    const from = windowStart(spec, now);
    const to = new Date(from.getTime() + spec.spanMs);
    return shapeWindow(spec, from, to, now, await store.metrics({ from, to, bucketMs: spec.bucketMs }));
  }));
  return { generatedAt: now.toISOString(), windows };
}

/** Where a window starts: its bars aligned to their length, the last one holding now. */
function windowStart(spec: MetricsWindowSpec, now: Date): Date {
  const barStart = Math.floor(now.getTime() / spec.bucketMs) * spec.bucketMs;
  return new Date(barStart + spec.bucketMs - spec.spanMs);
}

function shapeWindow(spec: MetricsWindowSpec, from: Date, to: Date, now: Date, rows: MetricsRows): MetricsWindow {
  const bars = spec.spanMs / spec.bucketMs;
  const kinds = new Map<string, KindMetrics>();
  const kindOf = (kind: string): KindMetrics => {
    let entry = kinds.get(kind);
    if (!entry) {
      entry = {
        kind, finished: 0, done: 0, failed: 0, cancelled: 0, throughputPerHour: 0, failureRate: null,
        durationP50: null, durationP95: null,
        buckets: Array.from({ length: bars }, (_, bar) => ({
          start: new Date(from.getTime() + bar * spec.bucketMs).toISOString(), done: 0, failed: 0, cancelled: 0,
        })),
      };
      kinds.set(kind, entry);
    }
    return entry;
  };
  for (const row of rows.counts) {
    const entry = kindOf(row.kind);
    const bucket = entry.buckets[Math.min(bars - 1, Math.max(0, row.bucket))];
    const field = row.status === 'DONE' ? 'done' : row.status === 'FAILED' ? 'failed' : row.status === 'CANCELLED' ? 'cancelled' : null;
    if (!field) continue;
    bucket[field] += row.count;
    entry[field] += row.count;
    entry.finished += row.count;
  }
  for (const row of rows.durations) {
    const entry = kinds.get(row.kind);
    if (!entry) continue;
    entry.durationP50 = row.p50;
    entry.durationP95 = row.p95;
  }
  // Throughput over the time the window has covered so far: its last bar is still under way.
  const coveredHours = Math.max(1, now.getTime() - from.getTime()) / 3_600_000;
  for (const entry of kinds.values()) {
    entry.throughputPerHour = Math.round((entry.finished / coveredHours) * 10) / 10;
    entry.failureRate = entry.finished === 0 ? null : entry.failed / entry.finished;
  }
  return {
    name: spec.name, from: from.toISOString(), to: to.toISOString(), bucketMs: spec.bucketMs,
    kinds: [...kinds.values()].sort((a, b) => b.finished - a.finished || (a.kind < b.kind ? -1 : 1)),
  };
}
