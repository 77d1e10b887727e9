import type { TaskRecord } from '../../core/record.js';

/** Reads the records of a set of ids in one statement; ids without a record are left out. */
export type ReadMany = (ids: readonly string[]) => Promise<TaskRecord[]>;

interface Waiter {
  resolve(record: TaskRecord | null): void;
  reject(error: unknown): void;
}

/**
 * Coalesces reads (or claims) by id made in the same turn of the event loop into one statement per turn. A
 * worker taking jobs of other processes reads each one's record before it runs it; with dozens of
 * jobs arriving at once that is one query instead of dozens, each of which the database must
 * parse and plan on its own.
 */
export class ReadBatcher {
  private waiting = new Map<string, Waiter[]>();
  private scheduled = false;
  private readonly run = (): void => {
    this.scheduled = false;
    const batch = this.waiting;
    this.waiting = new Map();
    void this.read(batch);
  };

  /**
   * @param maxIds ids per statement.
   * @param shared whether callers asking for the same id in one batch all get its record (reads),
   * or only the first does and the others get null (claims: one claim wins).
   */
  constructor(private readonly readMany: ReadMany, private readonly maxIds: number, private readonly shared = true) {}

  /** The record of `id`, or null; read together with the other ids asked for in this turn. */
  get(id: string): Promise<TaskRecord | null> {
    return new Promise((resolve, reject) => {
      const waiters = this.waiting.get(id);
      if (waiters) waiters.push({ resolve, reject });
      else this.waiting.set(id, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.run);
      }
    });
  }

  private async read(batch: Map<string, Waiter[]>): Promise<void> {
    const ids = [...batch.keys()];
    for (let offset = 0; offset < ids.length; offset += this.maxIds) {
      const chunk = ids.slice(offset, offset + this.maxIds);
      try {
        const found = new Map((await this.readMany(chunk)).map((record) => [record.id, record]));
        for (const id of chunk) {
          const record = found.get(id) ?? null;
          for (const [i, waiter] of (batch.get(id) ?? []).entries()) waiter.resolve(i === 0 || this.shared ? record : null);
        }
      } catch (error) {
        for (const id of chunk) for (const waiter of batch.get(id) ?? []) waiter.reject(error);
      }
    }
  }
}
