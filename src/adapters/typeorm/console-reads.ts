import type { CountQuery, ListQuery, TaskPage } from '../../core/list-query.js';
import { stringOf } from '../../core/json.js';
import { nearestRank, type MetricsQuery, type MetricsRows } from '../../core/metrics.js';
import type { TaskStatus } from '../../core/status.js';
import type { ConsoleSql } from './console-sql.js';
import type { RecordSql } from './record-sql.js';
import type { SqlExecutor } from './sql-executor.js';

/**
 * The TypeORM store's reads for the page and the console: pages (merged from the pages a filter
 * reads), counts (summed from their disjoint parts), index keys and the aggregates of metrics.
 */
export class ConsoleReads {
  constructor(
    private readonly executor: SqlExecutor,
    private readonly sql: RecordSql,
    private readonly console: ConsoleSql,
  ) {}

  /** See `RecordStore.list`. */
  async list(query: ListQuery): Promise<TaskPage> {
    const cursor = { before: query.before, after: query.after };
    const filtered = this.console.pages(query, cursor, query.limit + 1);
    const statements = filtered.length > 0 ? filtered : [this.sql.selectPage(query.status, cursor, query.limit + 1)];
    const pages = await Promise.all(statements.map(({ sql, params }) => this.executor.read(sql, params)));
    const newer = query.after !== undefined;
    let tasks = this.sql.decodeAll(pages.flat());
    if (pages.length > 1) {
      // Each page is in id order: merged, with a record found by several kept once.
      const seen = new Set<string>();
      tasks = tasks.filter((task) => !seen.has(task.id) && seen.add(task.id));
      tasks.sort((a, b) => (a.id < b.id) === newer ? -1 : 1);
    }
    const more = tasks.length > query.limit;
    if (more) tasks.length = query.limit;
    if (!newer) return { tasks, nextCursor: more ? tasks[tasks.length - 1].id : null };
    tasks.reverse();
    return { tasks, nextCursor: tasks.at(-1)?.id ?? null, prevCursor: more ? tasks[0].id : null };
  }

  /** See `RecordStore.count`. */
  async count(query: CountQuery): Promise<Partial<Record<TaskStatus, number>>> {
    const counts: Partial<Record<TaskStatus, number>> = {};
    for (const { sql, params } of this.console.count(query)) {
      for (const row of await this.executor.read(sql, params)) {
        const status = this.sql.mapping.fromDbStatus.get(String(row.status));
        if (status) counts[status] = (counts[status] ?? 0) + Number(row.n);
      }
    }
    return counts;
  }

  /** See `RecordStore.keysOf`; the store checks the index table exists. */
  async keysOf(id: string): Promise<string[]> {
    const { sql, params } = this.console.keysOf(id);
    return (await this.executor.read(sql, params)).map((row) => stringOf(row.k));
  }

  /** See `RecordStore.metrics`. */
  async metrics(query: MetricsQuery): Promise<MetricsRows> {
    const rows: MetricsRows = { counts: [], durations: [] };
    const counts = this.console.metricsCounts(query);
    const durations = this.console.metricsDurations(query);
    const [countRows, durationRows] = await Promise.all([
      counts ? this.executor.read(counts.sql, counts.params) : [],
      durations ? this.executor.read(durations.sql, durations.params) : [],
    ]);
    for (const row of countRows) {
      const status = this.sql.mapping.fromDbStatus.get(String(row.status));
      if (status) rows.counts.push({ kind: stringOf(row.kind ?? ''), status, bucket: Number(row.bucket), count: Number(row.n) });
    }
    // The window function returns each kind's rows at the two ranks; the rank says which is which.
    const byKind = new Map<string, { kind: string; p50: number; p95: number }>();
    for (const row of durationRows) {
      const kind = stringOf(row.kind ?? '');
      const n = Number(row.n);
      const r = Number(row.r);
      const entry = byKind.get(kind) ?? { kind, p50: 0, p95: 0 };
      if (r === nearestRank(n, 50)) entry.p50 = Number(row.duration);
      if (r === nearestRank(n, 95)) entry.p95 = Number(row.duration);
      byKind.set(kind, entry);
    }
    rows.durations = [...byKind.values()];
    return rows;
  }
}
