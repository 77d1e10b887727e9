/**
 * Fills a SQLite file that already has the bundled tables (`stablehandMigrations` ran) with
 * finished task records and their index keys, straight through better-sqlite3: prepared
 * statements, big transactions, rows in id order. A million records take seconds, where writing
 * them through `launch()` would take many minutes.
 *
 * The records look like a month of a busy app: a few kinds with their own durations and failure
 * rates, created over the last 30 days at an even rate (about 33,000 a day, 1,400 an hour for a
 * million), mostly DONE, some FAILED or CANCELLED; each with one to three affected objects
 * (`order:<n>` spread so that one order has a handful of tasks, `customer:<n>` a few dozen), a
 * quarter launched by a named user and a fifth with a label of their own. Index keys are what
 * `launch()` would write: the affected keys, then the words of the label and user that the kind
 * does not already answer for (see `indexKeysOf`). Dates are encoded as TypeORM writes the
 * bundled entity's datetime columns on better-sqlite3 (checked against the driver by the caller).
 * Generation is deterministic (a seeded generator), so runs compare.
 */
import Database from 'better-sqlite3';
import { indexKeysOf, searchWords } from '../src/core/task-keys.js';
import { newTaskId } from '../src/manager/task-id.js';

/** A kind of the generated records; the benchmark defines the same kinds on its manager. */
export interface BenchKind {
  name: string;
  /** The kind's static label (its words are matched through the kind column, not stored). */
  label: string;
  /** Share of the records. */
  share: number;
  /** Median run time in seconds (log-normal around it). */
  medianS: number;
  failRate: number;
}

export const BENCH_KINDS: readonly BenchKind[] = [
  { name: 'import-orders', label: 'Importing orders', share: 0.35, medianS: 4, failRate: 0.04 },
  { name: 'send-invoice', label: 'Sending invoice', share: 0.4, medianS: 0.3, failRate: 0.02 },
  { name: 'sync-inventory', label: 'Syncing inventory', share: 0.1, medianS: 12, failRate: 0.06 },
  { name: 'resize-images', label: 'Resizing images', share: 0.13, medianS: 1.5, failRate: 0.01 },
  { name: 'nightly-report', label: 'Building report', share: 0.02, medianS: 45, failRate: 0.08 },
];

/** How many distinct orders the affected keys of `records` records spread over: about 4 tasks an order. */
export function ordersFor(records: number): number {
  return Math.max(100, Math.round(records / 5));
}
const CUSTOMERS = 20_000;
const WAREHOUSES = 12;
const SKUS = 50_000;
const PRODUCTS = 100_000;
const CANCEL_RATE = 0.015;
const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const SOURCES = ['Shopify', 'Amazon', 'eBay', 'wholesale', 'point-of-sale'];
const USERS = ['alice', 'bruno', 'chen', 'dana', 'emeka', 'farah'];
const OWNERS = ['web-1:4121:9f3a1c', 'web-2:4388:02be7d', 'worker-1:977:c4d2e8'];
const ERRORS = ['Connection reset by peer', 'Timed out after 30000 ms', 'Upstream answered 503', 'Invalid row 17: missing SKU'];

export interface SeedOptions {
  /** The SQLite file, with the bundled tables already created. */
  file: string;
  records: number;
  /** Newest creation time, in ms since the epoch (running tasks are launched after it). */
  endMs: number;
  /** How far back the records go. */
  spanMs: number;
  /** Encodes a date as the library stores it in a datetime column. */
  encodeDate: (ms: number) => string;
  seed?: number;
  /** Records per transaction. */
  batch?: number;
}

export interface SeedResult {
  records: number;
  keys: number;
  seconds: number;
}

/** mulberry32: a small, fast, seeded generator; good enough for test data. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RECORD_COLUMNS = [
  'id', 'task_name', 'label', 'status', 'message', 'user_label', 'affected', 'input', 'result', 'error', 'cleaned_up',
  'created_at', 'started_at', 'updated_at', 'completed_at', 'failed_at', 'duration', 'owner',
] as const;
type RecordRow = [
  string, string, string, string, string | null, string, string, string | null, string | null, string | null, number,
  string, string, string, string, string | null, number, string,
];

/** Writes the records and their keys; returns counts and the time it took. */
export function seedRecords(options: SeedOptions): SeedResult {
  const started = performance.now();
  const random = generator(options.seed ?? 42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const int = (max: number): number => 1 + Math.floor(random() * max);
  const gaussian = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const kindWords = new Map(BENCH_KINDS.map((kind) => [kind.name, new Set([...searchWords(kind.name), ...searchWords(kind.label)])]));
  const cumulative: number[] = [];
  let total = 0;
  for (const kind of BENCH_KINDS) cumulative.push(total += kind.share);

  const db = new Database(options.file);
  // Generation only: nothing here needs to survive a crash.
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -500000');
  db.pragma('temp_store = MEMORY');
  const insertRecord = db.prepare(
    `INSERT INTO stablehand_task (${RECORD_COLUMNS.join(', ')}) VALUES (${RECORD_COLUMNS.map(() => '?').join(', ')})`,
  );
  // Key rows arrive in task order, but the index table's primary key is (key, task id): inserted
  // as they come, each lands on a random page. They are staged instead, then copied over sorted
  // (appending to the primary key), and its task id index, dropped meanwhile, is rebuilt with
  // the very statement the migration created it with. Twice as fast as inserting in place.
  const { sql: taskIndexSql } = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'IDX_stablehand_task_key_task'")
    .get() as { sql: string };
  db.exec('DROP INDEX "IDX_stablehand_task_key_task"');
  db.exec('CREATE TEMP TABLE staged_key (index_key TEXT NOT NULL, task_id TEXT NOT NULL)');
  const insertKey = db.prepare('INSERT INTO staged_key (index_key, task_id) VALUES (?, ?)');

  const n = options.records;
  const orders = ordersFor(n);
  const from = options.endMs - options.spanMs;
  const step = options.spanMs / n;
  let keys = 0;
  const affected: string[] = [];

  const writeOne = (i: number): void => {
    // Evenly spread and strictly increasing: record i falls in [i, i + 1) steps.
    const createdMs = Math.floor(from + (i + random()) * step);
    const roll = random();
    const kind = BENCH_KINDS[cumulative.findIndex((edge) => roll < edge)] ?? BENCH_KINDS[0];
    const fate = random();
    const status = fate < kind.failRate ? 'FAILED' : fate < kind.failRate + CANCEL_RATE ? 'CANCELLED' : 'DONE';
    const startedMs = createdMs + 2 + Math.floor(random() * 250);
    let seconds = kind.medianS * Math.exp(0.6 * gaussian());
    if (status !== 'DONE') seconds *= random();
    const completedMs = startedMs + Math.max(1, Math.round(seconds * 1000));

    affected.length = 0;
    let label = kind.label;
    let input: string | null = null;
    let result: string;
    switch (kind.name) {
      case 'import-orders': {
        const source = pick(SOURCES);
        affected.push(`order:${int(orders)}`, `customer:${int(CUSTOMERS)}`);
        if (random() < 0.3) affected.push(`warehouse:${int(WAREHOUSES)}`);
        if (random() < 0.5) label = `Import of ${pick(MONTHS)} orders from ${source}`;
        input = `{"source":"${source}"}`;
        result = `"Imported ${int(400)} orders."`;
        break;
      }
      case 'send-invoice': {
        const invoice = 100_000 + i;
        affected.push(`order:${int(orders)}`, `customer:${int(CUSTOMERS)}`);
        if (random() < 0.5) affected.push(`invoice:${invoice}`);
        if (random() < 0.2) label = `Invoice ${invoice} to customer ${int(CUSTOMERS)}`;
        input = `{"invoice":${invoice}}`;
        result = '"Sent."';
        break;
      }
      case 'sync-inventory':
        affected.push(`warehouse:${int(WAREHOUSES)}`);
        if (random() < 0.5) affected.push(`sku:${int(SKUS)}`);
        result = `"${int(5000)} stock levels updated."`;
        break;
      case 'resize-images':
        affected.push(`product:${int(PRODUCTS)}`);
        result = `"${int(12)} images."`;
        break;
      default: {
        const day = new Date(createdMs).toISOString().slice(0, 10);
        affected.push(`report:${day}`);
        if (random() < 0.5) label = `Report for ${pick(MONTHS)} ${day.slice(0, 4)}`;
        result = '"Report ready."';
      }
    }
    const user = random() < 0.25 ? pick(USERS) : null;
    const id = newTaskId(createdMs);
    const createdAt = options.encodeDate(createdMs);
    const completedAt = options.encodeDate(completedMs);
    const error = status === 'FAILED' ? pick(ERRORS) : null;
    const row: RecordRow = [
      id, kind.name, label, status,
      status === 'FAILED' ? error : status === 'CANCELLED' ? 'Cancelled' : null,
      user ?? 'Anonymous', affected.join(', '), input, status === 'DONE' ? result : null, error, 1,
      createdAt, options.encodeDate(startedMs), completedAt, completedAt, status === 'FAILED' ? completedAt : null,
      (completedMs - startedMs) / 1000, pick(OWNERS),
    ];
    insertRecord.run(row);
    // Only a label of its own or a user adds words; a kind's own words are not stored.
    const taskKeys = label === kind.label && user === null ? affected : indexKeysOf(affected, [label, user], kindWords.get(kind.name));
    for (const key of taskKeys) insertKey.run(key, id);
    keys += taskKeys.length;
  };

  const batch = options.batch ?? 50_000;
  const writeBatch = db.transaction((start: number, end: number) => {
    for (let i = start; i < end; i++) writeOne(i);
  });
  try {
    for (let start = 0; start < n; start += batch) writeBatch(start, Math.min(n, start + batch));
    db.transaction(() => {
      db.exec('INSERT INTO stablehand_task_key (index_key, task_id) SELECT index_key, task_id FROM staged_key ORDER BY index_key, task_id');
      db.exec('DROP TABLE staged_key');
      db.exec(taskIndexSql);
    })();
  } finally {
    db.close();
  }
  return { records: n, keys, seconds: (performance.now() - started) / 1000 };
}
