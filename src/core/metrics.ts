import type { TaskStatus } from './status.js';

/** A span the metrics cover, ending now. */
export interface MetricsWindowSpec {
  /** Its name in the JSON and on the page. */
  name: 'hour' | 'day';
  /** Its length in milliseconds. */
  spanMs: number;
  /** The length of one bar of its charts, in milliseconds; divides `spanMs`. */
  bucketMs: number;
}

/** The windows of `metrics()`: the last hour in 5-minute bars, the last day in hourly bars. */
export const METRICS_WINDOWS: readonly MetricsWindowSpec[] = [
  { name: 'hour', spanMs: 3_600_000, bucketMs: 300_000 },
  { name: 'day', spanMs: 86_400_000, bucketMs: 3_600_000 },
];

/**
 * The finished tasks of one kind created in one bar of a chart. Tasks are dated by their creation,
 * which every record has and the bundled table indexes; for the short tasks metrics are about, it
 * is within seconds of their end.
 */
export interface MetricsBucket {
  /** When the bar starts, as an ISO 8601 text. */
  start: string;
  done: number;
  failed: number;
  cancelled: number;
}

/** One kind's figures over one window. */
export interface KindMetrics {
  kind: string;
  /** Tasks created in the window that have ended, in any terminal status. */
  finished: number;
  done: number;
  failed: number;
  cancelled: number;
  /** Finished tasks per hour over the window. */
  throughputPerHour: number;
  /** FAILED among finished tasks, from 0 to 1; `null` when none finished. */
  failureRate: number | null;
  /** The median run time of its DONE tasks, in seconds (nearest rank); `null` without one. */
  durationP50: number | null;
  /** The 95th percentile run time of its DONE tasks, in seconds (nearest rank); `null` without one. */
  durationP95: number | null;
  /** Oldest first; one per `bucketMs` of the window. */
  buckets: MetricsBucket[];
}

/** The figures of one window, per kind (kinds with no task in the window are left out). */
export interface MetricsWindow {
  name: MetricsWindowSpec['name'];
  /** Where the window starts, as an ISO 8601 text (aligned to `bucketMs`). */
  from: string;
  /** Where it ends (now). */
  to: string;
  bucketMs: number;
  kinds: KindMetrics[];
}

/** What `metrics()` and `GET metrics/` answer. */
export interface TaskMetrics {
  /** When the figures were computed; they may be served from a short cache. */
  generatedAt: string;
  windows: MetricsWindow[];
}

/** Per-status task counts: what the page's tabs show. */
export type StatusCounts = Record<TaskStatus | 'ALL', number>;

/** What a record store is asked for one window of `metrics()`. */
export interface MetricsQuery {
  /** Records created from here (inclusive)... */
  from: Date;
  /** ...up to here (exclusive). */
  to: Date;
  /** Bar length: a record's bar is `floor((createdAt - from) / bucketMs)`. */
  bucketMs: number;
}

/** A store's aggregates for one window: the manager shapes them into a {@link MetricsWindow}. */
export interface MetricsRows {
  /** Finished records per kind, terminal status and bar. */
  counts: { kind: string; status: TaskStatus; bucket: number; count: number }[];
  /** Run-time percentiles (nearest rank, seconds) of the DONE records of each kind with a duration. */
  durations: { kind: string; p50: number; p95: number }[];
}

/**
 * The 1-based rank of the `percent` percentile among `count` sorted values (nearest rank:
 * `ceil(count * percent / 100)`), in integer arithmetic so that SQL computes the same rank.
 */
export function nearestRank(count: number, percent: number): number {
  return Math.max(1, Math.floor((count * percent + 99) / 100));
}
