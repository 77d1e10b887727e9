import type { DataSource } from 'typeorm';

/** One SQL statement with its positional parameters. */
export interface SqlStatement {
  sql: string;
  params: unknown[];
  /** A read: the plan gets its rows back instead of a count of changed rows. */
  read?: boolean;
}

/** Rows returned by a read. */
export type SqlRows = Record<string, unknown>[];

/**
 * A transaction's work as a generator: it yields statements and gets back each one's changed-row
 * count (or rows, for reads). The same plan then runs synchronously on better-sqlite3 and with
 * awaits on a pooled connection, so the logic is written once.
 */
export type SqlPlan<T> = Generator<SqlStatement, T, number | SqlRows>;

/** Runs plans in transactions, and single reads. */
export interface SqlExecutor {
  transaction<T>(plan: () => SqlPlan<T>): Promise<T>;
  read(sql: string, params: unknown[]): Promise<SqlRows>;
  /** Releases what the executor opened itself. */
  close?(): Promise<void>;
}

/** The better-sqlite3 `Database` handle, as far as stablehand uses it. */
interface NativeDatabase {
  readonly inTransaction: boolean;
  pragma(source: string, options?: { simple: boolean }): unknown;
  prepare(sql: string): NativeStatement;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): ((...args: A) => R) & { immediate(...args: A): R };
}

interface NativeStatement {
  run(params: unknown[]): { changes: number };
  all(params: unknown[]): SqlRows;
}

const STATEMENT_CACHE_SIZE = 100;
const HOST_TRANSACTION_POLL_MS = 2;
const HOST_TRANSACTION_WARN_MS = 2_000;
// How long one attempt waits, synchronously, for a lock another process holds on the file; then
// the event loop gets the turn back and the attempt is made again later, until the connection's
// own busy timeout has passed.
const BUSY_ATTEMPT_MS = 20;
const BUSY_RETRY_MAX_MS = 100;

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || (typeof code === 'string' && code.startsWith('SQLITE_BUSY_'));
}

/**
 * Runs plans on better-sqlite3's single shared connection, each from BEGIN to COMMIT inside one
 * synchronous step, and only while the host has no transaction open on it. A library transaction
 * therefore can never join, nest in, or be rolled back by a host transaction, nor the reverse.
 * Statements are prepared once and cached here, apart from TypeORM's cache for the host's queries.
 */
export class BetterSqliteExecutor implements SqlExecutor {
  private readonly statements = new Map<string, NativeStatement>();
  private readonly runPlan: ((plan: () => SqlPlan<unknown>) => unknown) & { immediate(plan: () => SqlPlan<unknown>): unknown };
  // The host's busy timeout on the shared connection, restored after each attempt.
  private readonly hostBusyTimeout: number;
  // How long, in all, a write or read waits for a lock: the host's timeout, or 5 s without one.
  private readonly busyTimeoutMs: number;

  constructor(
    private readonly db: NativeDatabase,
    private readonly logger?: { warn(message: string): void },
  ) {
    const configured = Number(db.pragma('busy_timeout', { simple: true }));
    this.hostBusyTimeout = Number.isFinite(configured) && configured >= 0 ? configured : 0;
    this.busyTimeoutMs = this.hostBusyTimeout > 0 ? this.hostBusyTimeout : 5_000;
    this.runPlan = db.transaction((plan: () => SqlPlan<unknown>) => {
      const steps = plan();
      let step = steps.next(0);
      while (!step.done) step = steps.next(this.execute(step.value));
      return step.value;
    });
  }

  async transaction<T>(plan: () => SqlPlan<T>): Promise<T> {
    const since = Date.now();
    let warned = false;
    for (let attempt = 0; ; attempt++) {
      while (this.db.inTransaction) {
        await new Promise((resolve) => setTimeout(resolve, HOST_TRANSACTION_POLL_MS));
        if (!warned && Date.now() - since > HOST_TRANSACTION_WARN_MS) {
          warned = true;
          this.logger?.warn(
            `[stablehand] task records have waited ${HOST_TRANSACTION_WARN_MS} ms for a transaction the app holds open on the ` +
            'shared SQLite connection; awaiting launch() inside that transaction would wait for ever.',
          );
        }
      }
      try {
        // IMMEDIATE takes the write lock up front, so another process cannot make it fail half-way.
        return this.briefly(() => this.runPlan.immediate(plan) as T);
      } catch (error) {
        if (!isBusy(error) || Date.now() - since >= this.busyTimeoutMs) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(BUSY_RETRY_MAX_MS, 5 * 2 ** attempt)));
      }
    }
  }

  async read(sql: string, params: unknown[]): Promise<SqlRows> {
    const since = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return this.briefly(() => this.statement(sql).all(params));
      } catch (error) {
        if (!isBusy(error) || Date.now() - since >= this.busyTimeoutMs) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(BUSY_RETRY_MAX_MS, 5 * 2 ** attempt)));
      }
    }
  }

  /**
   * Runs `work` with the connection's busy timeout cut to {@link BUSY_ATTEMPT_MS}: better-sqlite3
   * waits for another process's lock synchronously, which would freeze the whole app (HTTP
   * included) for as long. The host's own timeout is restored at once; no host query can run on
   * the connection meanwhile, since this is synchronous.
   */
  private briefly<R>(work: () => R): R {
    this.db.pragma(`busy_timeout = ${BUSY_ATTEMPT_MS}`);
    try {
      return work();
    } finally {
      this.db.pragma(`busy_timeout = ${this.hostBusyTimeout}`);
    }
  }

  private execute(statement: SqlStatement): number | SqlRows {
    const prepared = this.statement(statement.sql);
    // An array binds as positional parameters, without spreading a thousand arguments.
    return statement.read ? prepared.all(statement.params) : prepared.run(statement.params).changes;
  }

  private statement(sql: string): NativeStatement {
    let prepared = this.statements.get(sql);
    if (prepared) {
      // Re-inserting keeps the most recently used statements at the end of the map's order.
      this.statements.delete(sql);
    } else {
      prepared = this.db.prepare(sql);
      if (this.statements.size >= STATEMENT_CACHE_SIZE) {
        const oldest = this.statements.keys().next();
        if (!oldest.done) this.statements.delete(oldest.value);
      }
    }
    this.statements.set(sql, prepared);
    return prepared;
  }
}

/**
 * Runs plans on a connection of its own from the DataSource's pool (PostgreSQL, MySQL/MariaDB),
 * never inside a transaction the host has open.
 */
export class QueryRunnerExecutor implements SqlExecutor {
  constructor(private readonly dataSource: DataSource) {}

  async transaction<T>(plan: () => SqlPlan<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner('master');
    try {
      await runner.connect();
      await runner.startTransaction();
      try {
        const steps = plan();
        let step = steps.next(0);
        while (!step.done) {
          const { sql, params, read } = step.value;
          const result = await runner.query(sql, params, true);
          // Typed as a number, but kept through Number() in case a driver reports it otherwise.
          const affected: unknown = result.affected ?? 0;
          step = steps.next(read ? (result.records as SqlRows) : Number(affected));
        }
        await runner.commitTransaction();
        return step.value;
      } catch (error) {
        if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
        throw error;
      }
    } finally {
      await runner.release().catch(() => undefined);
    }
  }

  async read(sql: string, params: unknown[]): Promise<SqlRows> {
    return this.dataSource.query(sql, params);
  }
}

/** The node-sqlite3 module and `Database`, as far as stablehand uses them. */
export interface Sqlite3Module {
  Database: new (filename: string, callback: (error: Error | null) => void) => Sqlite3Database;
}

interface Sqlite3Database {
  run(sql: string, params: unknown[], callback: (this: { changes: number }, error: Error | null) => void): void;
  all(sql: string, params: unknown[], callback: (error: Error | null, rows: SqlRows) => void): void;
  configure(option: 'busyTimeout', value: number): void;
  close(callback: (error: Error | null) => void): void;
}

/**
 * Runs plans on a node-sqlite3 connection of its own to the host's database file (TypeORM 0.3's
 * `sqlite` driver). That driver shares one connection whose queries are asynchronous, so a library
 * transaction there could interleave with a host transaction; a second connection cannot, and
 * SQLite's own file locking orders the two. Plans run one at a time on it.
 */
export class DedicatedSqliteExecutor implements SqlExecutor {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly db: Sqlite3Database) {}

  /** Opens the connection, waiting up to `busyTimeoutMs` whenever the host holds the write lock. */
  static open(sqlite: Sqlite3Module, filename: string, busyTimeoutMs = 5_000): Promise<DedicatedSqliteExecutor> {
    return new Promise((resolve, reject) => {
      const db = new sqlite.Database(filename, (error) => {
        if (error) {
          reject(error);
          return;
        }
        db.configure('busyTimeout', busyTimeoutMs);
        resolve(new DedicatedSqliteExecutor(db));
      });
    });
  }

  transaction<T>(plan: () => SqlPlan<T>): Promise<T> {
    const run = this.queue.then(() => this.runPlan(plan));
    this.queue = run.catch(() => undefined);
    return run;
  }

  read(sql: string, params: unknown[]): Promise<SqlRows> {
    return new Promise((resolve, reject) => this.db.all(sql, params, (error, rows) => (error ? reject(error) : resolve(rows))));
  }

  close(): Promise<void> {
    return this.queue.then(() => new Promise<void>((resolve, reject) => this.db.close((error) => (error ? reject(error) : resolve()))));
  }

  private async runPlan<T>(plan: () => SqlPlan<T>): Promise<T> {
    await this.run('BEGIN IMMEDIATE', []);
    try {
      const steps = plan();
      let step = steps.next(0);
      while (!step.done) {
        const { sql, params, read } = step.value;
        step = steps.next(read ? await this.read(sql, params) : await this.run(sql, params));
      }
      await this.run('COMMIT', []);
      return step.value;
    } catch (error) {
      await this.run('ROLLBACK', []).catch(() => undefined);
      throw error;
    }
  }

  private run(sql: string, params: unknown[]): Promise<number> {
    return new Promise((resolve, reject) => {
      this.db.run(sql, params, function onRun(error) {
        if (error) reject(error);
        else resolve(this.changes);
      });
    });
  }
}
