// Server-rendered metrics charts. The page runs under a strict CSP, so the markup carries no style
// attribute, no script and no external reference: bars are coloured by the page's stylesheet
// through their classes, and every figure is also given in words for readers that see no chart.
import { METRICS_WINDOWS, type KindMetrics, type MetricsBucket, type MetricsWindow, type TaskMetrics } from '../core/metrics.js';
import { escapeHtml } from './escape.js';
import { formatSeconds } from './task-format.js';

// viewBox units. Positions are computed in tenths of a unit and printed divided by ten, so every
// coordinate has at most one decimal and the output is stable across platforms.
const WIDTH = 240;
const HEIGHT = 48;
/** Bars grow up from y = 47 (in tenths); the 1-unit baseline sits below them. */
const PLOT_TENTHS = 470;
/** The share of its slot a bar covers; the rest is the gap that keeps neighbouring bars apart. */
const BAR_SHARE = 0.75;
const MAX_NAME_LENGTH = 60;

/** Stacking order, bottom first: successes form the body of a bar, problems sit on top where the eye lands. */
const STACK = ['done', 'failed', 'cancelled'] as const;

/**
 * The metrics of the status page as an HTML fragment: per window ("Last hour", "Last day"), a row
 * per kind with its figures in a `<dl>` and a stacked bar chart of its buckets.
 * Every text from the data is escaped; the output depends on `metrics` alone.
 */
export function renderMetricsSection(metrics: TaskMetrics): string {
  const windows = metrics.windows.map(renderWindow).join('');
  return `<section class="sh-metrics" aria-labelledby="sh-metrics-title"><h2 id="sh-metrics-title">Metrics</h2>${windows}</section>`;
}

/**
 * One kind's buckets as an inline SVG stacked bar chart (done, failed, cancelled from the bottom),
 * scaled to its largest bucket. `bucketMs` is the length of one bar, used in the bars' tooltips.
 * Colours come from the classes `sh-bar-done`, `sh-bar-failed`, `sh-bar-cancelled` and
 * `sh-chart-baseline`; the `aria-label` says the totals in words.
 */
export function renderKindChart(kind: KindMetrics, bucketMs: number): string {
  const label = escapeHtml(chartLabel(kind, bucketMs));
  const largest = kind.buckets.reduce((max, bucket) => Math.max(max, bucketTotal(bucket)), 0);
  const slot = WIDTH / Math.max(1, kind.buckets.length);
  // An empty chart keeps its baseline, so a quiet kind still reads as "nothing happened".
  const bars = largest === 0 ? '' : kind.buckets.map((bucket, i) => renderBar(bucket, i * slot, slot, largest, bucketMs)).join('');
  const baseline = `<rect class="sh-chart-baseline" x="0" y="${PLOT_TENTHS / 10}" width="${WIDTH}" height="1"/>`;
  return `<svg class="sh-metrics-chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${label}"><title>${label}</title>${baseline}${bars}</svg>`;
}

function renderWindow(window: MetricsWindow): string {
  const span = escapeHtml(window.name);
  // Ids must be deterministic and valid even if a window name ever grows beyond the typed union.
  const id = `sh-metrics-${window.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const body = window.kinds.length === 0
    ? `<p class="sh-metrics-empty">No finished tasks in the last ${span}.</p>`
    : `<ul class="sh-metrics-kinds">${window.kinds.map((kind) => renderKindRow(kind, window.bucketMs)).join('')}</ul>`;
  return `<section class="sh-metrics-window" aria-labelledby="${id}"><h3 id="${id}">Last ${span}</h3>${body}</section>`;
}

function renderKindRow(kind: KindMetrics, bucketMs: number): string {
  const shown = shortName(kind.kind);
  const fullName = shown === kind.kind ? '' : ` title="${escapeHtml(kind.kind)}"`;
  const figures: [string, string][] = [
    ['Finished', String(kind.finished)],
    ['Per hour', formatRate(kind.throughputPerHour)],
    ['Failure rate', formatPercent(kind.failureRate)],
    ['Median duration', formatDuration(kind.durationP50)],
    ['p95 duration', formatDuration(kind.durationP95)],
  ];
  const items = figures.map(([term, value]) => `<div><dt>${term}</dt><dd>${escapeHtml(value)}</dd></div>`).join('');
  return `<li class="sh-metrics-row"><h4 class="sh-metrics-kind"${fullName}>${escapeHtml(shown)}</h4>`
    + `<dl class="sh-metrics-figures">${items}</dl>${renderKindChart(kind, bucketMs)}</li>`;
}

/** One bar: a group with its tooltip and a rect per non-empty status, stacked in tenths so rounding never leaves gaps. */
function renderBar(bucket: MetricsBucket, left: number, slot: number, largest: number, bucketMs: number): string {
  const width = Math.max(1, Math.round(slot * BAR_SHARE * 10));
  const x = Math.round(left * 10 + (slot * 10 - width) / 2);
  let below = PLOT_TENTHS;
  let stacked = 0;
  let rects = '';
  for (const status of STACK) {
    stacked += count(bucket[status]);
    const top = Math.round(PLOT_TENTHS - (stacked * PLOT_TENTHS) / largest);
    if (top < below) {
      rects += `<rect class="sh-bar-${status}" x="${x / 10}" y="${top / 10}" width="${width / 10}" height="${(below - top) / 10}"/>`;
    }
    below = top;
  }
  if (rects === '') return '';
  const title = `${bucketRange(bucket.start, bucketMs)}: ${count(bucket.done)} done, ${count(bucket.failed)} failed, ${count(bucket.cancelled)} cancelled`;
  return `<g><title>${escapeHtml(title)}</title>${rects}</g>`;
}

function chartLabel(kind: KindMetrics, bucketMs: number): string {
  // The chart knows only its bar length; the windows' table says which span that bar length draws.
  const span = METRICS_WINDOWS.find((spec) => spec.bucketMs === bucketMs)?.name;
  const over = span === undefined ? '' : ` in the last ${span}`;
  return `${shortName(kind.kind)}: ${kind.finished} finished${over}, ${kind.failed} failed, ${kind.cancelled} cancelled`;
}

/** "2024-05-01 10:00–10:05 UTC"; the raw start when it is not a date (the server knows no reader's time zone). */
function bucketRange(start: string, bucketMs: number): string {
  const from = new Date(Date.parse(start));
  const to = new Date(from.getTime() + bucketMs);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) return start;
  const [fromIso, toIso] = [from.toISOString(), to.toISOString()];
  return `${fromIso.slice(0, 10)} ${fromIso.slice(11, 16)}–${toIso.slice(11, 16)} UTC`;
}

function bucketTotal(bucket: MetricsBucket): number {
  return count(bucket.done) + count(bucket.failed) + count(bucket.cancelled);
}

/** Counts come over JSON; a negative or non-numeric one must not turn a bar upside down. */
function count(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/** Long kind names would stretch the row; the full name stays in the heading's title. */
function shortName(name: string): string {
  const chars = Array.from(name); // by code point, so an emoji is never cut in half
  return chars.length > MAX_NAME_LENGTH ? `${chars.slice(0, MAX_NAME_LENGTH).join('')}…` : name;
}

function formatRate(perHour: number): string {
  if (!Number.isFinite(perHour)) return '—';
  return `${perHour >= 10 ? Math.round(perHour) : Math.round(perHour * 10) / 10} / h`;
}

function formatPercent(rate: number | null): string {
  return rate === null || !Number.isFinite(rate) ? '—' : `${Math.round(rate * 1000) / 10}%`;
}

/** Sub-second runs are the common case for small tasks, so they get milliseconds; longer ones read like the task list's. */
function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  const ms = Math.round(Math.max(0, seconds) * 1000);
  return ms < 1000 ? `${ms} ms` : formatSeconds(ms / 1000);
}
