import { InvalidInputError } from '../core/errors.js';
import { isPlausibleId } from '../core/ids.js';
import {
  resolveCountQuery, resolveListQuery, type CountQuery, type CountTasksOptions, type ListTasksOptions, type TaskPage,
} from '../core/list-query.js';
import type { StatusCounts, TaskMetrics } from '../core/metrics.js';
import type { TaskRecord } from '../core/record.js';
import { TASK_STATUSES } from '../core/status.js';
import { isWordKey, searchWords, wordOf } from '../core/task-keys.js';
import type { TaskDefinition } from '../core/types.js';
import type { RecordStore } from '../ports/record-store.js';
import { MetricsReport } from './metrics-report.js';
import type { TaskManagerConfig } from './task-manager-options.js';

/**
 * The manager's reads: single tasks, pages, counts, metrics and affected keys. It knows the
 * defined kinds, which complete what records leave out (a label) and let a search match the words
 * every task of a kind shares through the kind column.
 */
export class TaskReader {
  private readonly wordsOfKinds = new Map<string, ReadonlySet<string>>();
  private metricsReport: MetricsReport | null = null;

  constructor(
    private readonly store: () => RecordStore,
    private readonly definitions: ReadonlyMap<string, TaskDefinition>,
    private readonly config: TaskManagerConfig,
  ) {}

  /** See `TaskManager.getTask`. */
  async getTask(id: string): Promise<TaskRecord | null> {
    if (typeof id !== 'string') throw new InvalidInputError('A task id must be a string.');
    // An id no record can have (control characters, too long) is found nowhere, on every database.
    const record = isPlausibleId(id) ? await this.store().get(id) : null;
    return record && this.labelled(record);
  }

  /** See `TaskManager.listTasks`. */
  async listTasks(options: ListTasksOptions): Promise<TaskPage> {
    const query = this.withSearchKinds(resolveListQuery(options));
    this.checkSearchable(query);
    const store = this.store();
    let page = await store.list(query);
    if (query.after !== undefined && !page.prevCursor) {
      // Less than a page of newer tasks is left: that is the first page, read whole.
      const first = { ...query };
      delete first.after;
      page = await store.list(first);
      page.prevCursor = null;
    } else if (query.before !== undefined) {
      page.prevCursor = page.tasks[0]?.id ?? query.before;
    } else {
      page.prevCursor ??= null;
    }
    for (const record of page.tasks) this.labelled(record);
    return page;
  }

  /** See `TaskManager.countTasks`. */
  async countTasks(options: CountTasksOptions): Promise<StatusCounts> {
    const query = this.withSearchKinds(resolveCountQuery(options));
    this.checkSearchable(query);
    const counts = await this.store().count(query);
    const result = { ALL: 0 } as StatusCounts;
    for (const status of TASK_STATUSES) {
      result[status] = counts[status] ?? 0;
      result.ALL += result[status];
    }
    return result;
  }

  /** See `TaskManager.metrics`. */
  metrics(): Promise<TaskMetrics> {
    this.metricsReport ??= new MetricsReport(this.store(), this.config.now, this.config.metricsCacheMs);
    return this.metricsReport.get();
  }

  /** See `TaskManager.affectedKeysOf`. */
  async affectedKeysOf(id: string): Promise<string[]> {
    const store = this.store();
    if (!isPlausibleId(id) || !store.indexesKeys) return [];
    return (await store.keysOf(id)).filter((key) => !isWordKey(key));
  }

  /**
   * The words every task of `kind` has (of its name and its defined label), which searches match
   * through the kind column rather than through a key row per task.
   */
  kindWords(kind: string): ReadonlySet<string> {
    let words = this.wordsOfKinds.get(kind);
    if (!words) {
      const label = this.definitions.get(kind)?.label;
      words = new Set([...searchWords(kind), ...(typeof label === 'string' ? searchWords(label) : [])]);
      this.wordsOfKinds.set(kind, words);
    }
    return words;
  }

  /** Fills in the kinds each word of a search matches as a whole. */
  private withSearchKinds<Q extends CountQuery>(query: Q): Q {
    if (!query.search) return query;
    const kinds = [...this.definitions.keys()];
    const terms = query.search.terms.map((term) => {
      const word = wordOf(term.key);
      return word === null ? term : { key: term.key, kinds: kinds.filter((kind) => this.kindWords(kind).has(word)) };
    });
    return { ...query, search: { ...query.search, terms } };
  }

  private checkSearchable(query: CountQuery): void {
    if ((query.affected !== undefined || query.search !== undefined) && !this.store().indexesKeys) {
      throw new InvalidInputError(
        'Searching and listing by affected object need the index table: register StablehandTaskKey (it is in stablehandEntities) ' +
        'and run AddStablehandConsole1766000000000.',
      );
    }
  }

  /** A record read back without a label (a host table with no label column) gets its kind's defined label. */
  private labelled(record: TaskRecord): TaskRecord {
    if (record.label === null && record.taskName !== null) {
      const label = this.definitions.get(record.taskName)?.label;
      if (typeof label === 'string') record.label = label;
    }
    return record;
  }
}
