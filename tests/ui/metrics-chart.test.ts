import { describe, expect, it } from 'vitest';
import type { KindMetrics, MetricsBucket, TaskMetrics } from '../../src/core/metrics.js';
import { renderKindChart, renderMetricsSection } from '../../src/ui/metrics-chart.js';

const FIVE_MIN = 300_000;
const HOSTILE = `<script>alert("x")</script> & 'q' "><img src=x>`;

function bucket(index: number, done = 0, failed = 0, cancelled = 0): MetricsBucket {
  return { start: new Date(Date.UTC(2024, 4, 1, 10, 5 * index)).toISOString(), done, failed, cancelled };
}

function kindOf(buckets: MetricsBucket[], overrides: Partial<KindMetrics> = {}): KindMetrics {
  const sum = (key: 'done' | 'failed' | 'cancelled') => buckets.reduce((total, b) => total + b[key], 0);
  const [done, failed, cancelled] = [sum('done'), sum('failed'), sum('cancelled')];
  const finished = done + failed + cancelled;
  return {
    kind: 'import', finished, done, failed, cancelled, throughputPerHour: finished,
    failureRate: finished === 0 ? null : failed / finished, durationP50: 1.25, durationP95: 184, buckets, ...overrides,
  };
}

function metricsOf(hour: KindMetrics[], day: KindMetrics[] = []): TaskMetrics {
  return {
    generatedAt: '2024-05-01T11:00:00.000Z',
    windows: [
      { name: 'hour', from: '2024-05-01T10:00:00.000Z', to: '2024-05-01T11:00:00.000Z', bucketMs: FIVE_MIN, kinds: hour },
      { name: 'day', from: '2024-04-30T11:00:00.000Z', to: '2024-05-01T11:00:00.000Z', bucketMs: 3_600_000, kinds: day },
    ],
  };
}

interface Tag { name: string; attrs: Record<string, string> }

/** Every tag, matched strictly: double-quoted attribute values with no `<`, `>` or `"` inside. */
const TAG = /<\/?([a-z][a-z0-9]*)((?:\s+[a-zA-Z][a-zA-Z-]*="[^"<>]*")*)\s*\/?>/g;

function tagsOf(html: string): Tag[] {
  return [...html.matchAll(TAG)].map((m) => ({
    name: m[1],
    attrs: Object.fromEntries([...m[2].matchAll(/([a-zA-Z-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]])),
  }));
}

function unescape(text: string): string {
  return text.replace(/&(lt|gt|quot|#39|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e]!);
}

interface Rect { cls: string; x: number; y: number; width: number; height: number }

function rectsOf(svg: string): Rect[] {
  return tagsOf(svg).filter((t) => t.name === 'rect').map(({ attrs }) => ({
    cls: attrs.class, x: Number(attrs.x), y: Number(attrs.y), width: Number(attrs.width), height: Number(attrs.height),
  }));
}

function baselineY(svg: string): number {
  const baseline = rectsOf(svg).find((r) => r.cls === 'sh-chart-baseline');
  expect(baseline).toBeDefined();
  return baseline!.y;
}

/** The bars' rects grouped by x (one group per bucket), bottom segment first. */
function barsOf(svg: string): Map<number, Rect[]> {
  const bars = new Map<number, Rect[]>();
  for (const rect of rectsOf(svg).filter((r) => r.cls.startsWith('sh-bar-'))) bars.set(rect.x, [...(bars.get(rect.x) ?? []), rect]);
  return bars;
}

function barHeight(rects: Rect[]): number {
  return rects.reduce((total, r) => total + r.height, 0);
}

/** Heights are differences of tops rounded to a tenth, so each may be off by up to 0.1 per rounding. */
function expectNear(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(0.2 + 1e-9);
}

function figuresOf(html: string): Record<string, string> {
  return Object.fromEntries([...html.matchAll(/<dt>([^<]*)<\/dt><dd>([^<]*)<\/dd>/g)].map((m) => [m[1], m[2]]));
}

describe('renderKindChart', () => {
  it('scales bar heights to the largest bucket, left to right in bucket order', () => {
    const svg = renderKindChart(kindOf([bucket(0, 10), bucket(1, 5), bucket(2), bucket(3, 2, 2)]), FIVE_MIN);
    const plotHeight = baselineY(svg);
    const bars = [...barsOf(svg).entries()].sort(([a], [b]) => a - b).map(([, rects]) => rects);
    expect(bars).toHaveLength(3); // the empty bucket draws nothing
    expect(barHeight(bars[0])).toBe(plotHeight);
    expect(barHeight(bars[1])).toBe(plotHeight / 2);
    expectNear(barHeight(bars[2]), (plotHeight * 4) / 10);
    for (const rects of bars) expect(rects.at(0)!.y + rects.at(0)!.height).toBeCloseTo(plotHeight, 5);
    const xs = [...barsOf(svg).keys()];
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    expect(xs[2] - xs[1]).toBeCloseTo(2 * (xs[1] - xs[0]), 1); // the skipped bucket keeps its slot
  });

  it('stacks done, failed, cancelled from the bottom without gaps, in proportion', () => {
    const svg = renderKindChart(kindOf([bucket(0, 2, 1, 1)]), FIVE_MIN);
    const [done, failed, cancelled] = barsOf(svg).values().next().value!;
    expect([done.cls, failed.cls, cancelled.cls]).toEqual(['sh-bar-done', 'sh-bar-failed', 'sh-bar-cancelled']);
    expect(done.y + done.height).toBeCloseTo(baselineY(svg), 5);
    expect(failed.y + failed.height).toBeCloseTo(done.y, 5);
    expect(cancelled.y + cancelled.height).toBeCloseTo(failed.y, 5);
    expectNear(done.height, 2 * failed.height);
    expectNear(failed.height, cancelled.height);
    expect(cancelled.y).toBe(0);
  });

  it('omits zero-height segments', () => {
    const svg = renderKindChart(kindOf([bucket(0, 3, 0, 1)]), FIVE_MIN);
    expect(rectsOf(svg).map((r) => r.cls)).not.toContain('sh-bar-failed');
    expect(rectsOf(svg).filter((r) => r.cls.startsWith('sh-bar-'))).toHaveLength(2);
  });

  it('draws a baseline and no bar for a kind whose buckets are all zero', () => {
    const svg = renderKindChart(kindOf([bucket(0), bucket(1), bucket(2)]), FIVE_MIN);
    expect(rectsOf(svg).map((r) => r.cls)).toEqual(['sh-chart-baseline']);
    expect(svg).not.toContain('<g');
    expect(renderKindChart(kindOf([]), FIVE_MIN)).toContain('sh-chart-baseline');
  });

  it('uses a fixed viewBox and coordinates with at most one decimal', () => {
    const svg = renderKindChart(kindOf([bucket(0, 7), bucket(1, 3, 1), bucket(2, 1, 0, 2)]), 7_000);
    expect(svg).toContain('viewBox="0 0 240 48"');
    for (const rect of rectsOf(svg)) {
      for (const v of [rect.x, rect.y, rect.width, rect.height]) expect(String(v)).toMatch(/^\d+(\.\d)?$/);
    }
  });

  it('is an image labelled with its counts, with a title and per-bar tooltips', () => {
    const svg = renderKindChart(kindOf([bucket(0, 39), bucket(1, 0, 3)]), FIVE_MIN);
    const root = tagsOf(svg)[0];
    expect(root.name).toBe('svg');
    expect(root.attrs.role).toBe('img');
    expect(root.attrs['aria-label']).toBe('import: 42 finished in the last hour, 3 failed, 0 cancelled');
    expect(svg).toContain(`<title>${root.attrs['aria-label']}</title>`);
    expect(svg).toContain('<title>2024-05-01 10:00–10:05 UTC: 39 done, 0 failed, 0 cancelled</title>');
    expect(svg).toContain('<title>2024-05-01 10:05–10:10 UTC: 0 done, 3 failed, 0 cancelled</title>');
  });

  it('is deterministic', () => {
    const kind = kindOf([bucket(0, 4, 1), bucket(1, 2)]);
    expect(renderKindChart(kind, FIVE_MIN)).toBe(renderKindChart(kind, FIVE_MIN));
  });
});

describe('renderMetricsSection', () => {
  it('is a labelled section with a heading per window', () => {
    const html = renderMetricsSection(metricsOf([kindOf([bucket(0, 1)])], [kindOf([bucket(0, 1)])]));
    expect(html.startsWith('<section class="sh-metrics" aria-labelledby="sh-metrics-title"><h2 id="sh-metrics-title">Metrics</h2>')).toBe(true);
    expect(html).toContain('>Last hour</h3>');
    expect(html).toContain('>Last day</h3>');
    const ids = tagsOf(html).flatMap((t) => ('id' in t.attrs ? [t.attrs.id] : []));
    expect(ids).toEqual(['sh-metrics-title', 'sh-metrics-hour', 'sh-metrics-day']);
    for (const t of tagsOf(html).filter((tag) => 'aria-labelledby' in tag.attrs)) expect(ids).toContain(t.attrs['aria-labelledby']);
  });

  it('says so when a window has no finished task', () => {
    const html = renderMetricsSection(metricsOf([], [kindOf([bucket(0, 1)])]));
    expect(html).toContain('No finished tasks in the last hour.');
    expect(html).not.toContain('No finished tasks in the last day.');
    expect(html.match(/<svg/g)).toHaveLength(1);
  });

  it('gives the figures in a definition list', () => {
    const kind = kindOf([bucket(0, 13, 1)], { throughputPerHour: 14, failureRate: 1 / 14 });
    expect(figuresOf(renderMetricsSection(metricsOf([kind])))).toEqual({
      'Finished': '14', 'Per hour': '14 / h', 'Failure rate': '7.1%', 'Median duration': '1.2 s', 'p95 duration': '3 min 4 s',
    });
  });

  it('renders missing figures as a dash', () => {
    const kind = kindOf([bucket(0, 0, 0, 2)], { failureRate: null, durationP50: null, durationP95: null });
    const figures = figuresOf(renderMetricsSection(metricsOf([kind])));
    expect([figures['Failure rate'], figures['Median duration'], figures['p95 duration']]).toEqual(['—', '—', '—']);
  });

  it.each([
    [0.25, '250 ms'], [0.0004, '0 ms'], [0.9996, '1.0 s'], [1.25, '1.2 s'], [42, '42 s'], [184, '3 min 4 s'], [3720, '1 h 2 min'],
  ])('formats a duration of %s s as %s', (seconds, text) => {
    const kind = kindOf([bucket(0, 1)], { durationP50: seconds });
    expect(figuresOf(renderMetricsSection(metricsOf([kind])))['Median duration']).toBe(text);
  });

  it('escapes a hostile kind name everywhere and keeps the markup well formed', () => {
    const kind = kindOf([bucket(0, 2, 1)], { kind: HOSTILE });
    const html = renderMetricsSection(metricsOf([kind], [kind]));
    expect(html).not.toMatch(/<script|<img|<style|style=/i);
    const tags = tagsOf(html);
    expect(tags.filter((t) => ['script', 'style', 'img'].includes(t.name))).toEqual([]);
    expect(tags.flatMap((t) => Object.keys(t.attrs)).filter((a) => /^(style|href|src|on)/i.test(a))).toEqual([]);
    // Once every strictly well-formed tag is removed, no markup character may remain.
    const text = html.replace(TAG, '');
    expect(text).not.toMatch(/[<>"]/);
    expect(text.replace(/&(lt|gt|quot|#39|amp);/g, '')).not.toContain('&');
    for (const { attrs } of tagsOf(html)) {
      for (const value of Object.values(attrs)) expect(value.replace(/&(lt|gt|quot|#39|amp);/g, '')).not.toMatch(/[&<>"']/);
    }
    const label = tagsOf(html).find((t) => t.name === 'svg')!.attrs['aria-label'];
    expect(unescape(label).startsWith(`${HOSTILE}: 3 finished`)).toBe(true);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;');
  });

  it('truncates a long kind name and keeps the full one in a title', () => {
    const name = `${'é'.repeat(70)}&<end>`;
    const html = renderMetricsSection(metricsOf([kindOf([bucket(0, 1)], { kind: name })]));
    const heading = /<h4 class="sh-metrics-kind" title="([^"]*)">([^<]*)<\/h4>/.exec(html);
    expect(heading).not.toBeNull();
    expect(unescape(heading![1])).toBe(name);
    expect(heading![2]).toBe(`${'é'.repeat(60)}…`);
    expect(html).not.toContain('<end>');
    expect(renderMetricsSection(metricsOf([kindOf([bucket(0, 1)])]))).toContain('<h4 class="sh-metrics-kind">import</h4>');
  });

  it('uses no inline style, script or external reference', () => {
    const html = renderMetricsSection(metricsOf([kindOf([bucket(0, 5, 1, 1), bucket(1, 2)])], [kindOf([bucket(0, 8, 2)])]));
    expect(html).not.toMatch(/style|<script|href|src=|url\(|@import|https?:/i);
    expect(html.replace(TAG, '')).not.toMatch(/[<>]/);
  });
});
