import type { RecordStore } from '../ports/record-store.js';
import { ownerIsGone } from './instance-id.js';
import { stoppedReason, type Orphans } from './orphans.js';
import type { TaskExecutor } from './task-executor.js';
import type { TaskManagerConfig } from './task-manager-options.js';

/**
 * Keeps a manager's tasks its own across processes, and takes back the tasks of processes that
 * died: the heartbeat (one buffered statement per interval for every task this manager holds,
 * which also brings news of tasks it lost and of cancels asked elsewhere) and the sweep (the
 * unfinished tasks of owners that stopped beating, failed or cancelled by whichever process sees
 * them first). Only used with a store that tracks owners.
 */
export class Liveness {
  private beatTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;

  constructor(
    private readonly config: TaskManagerConfig,
    private readonly store: RecordStore,
    private readonly executor: TaskExecutor,
    private readonly orphans: Orphans,
    private readonly onCancelRequested: (id: string) => void,
  ) {}

  /** Starts beating and sweeping. */
  start(): void {
    this.beatTimer = setInterval(() => void this.beat(), this.config.heartbeatIntervalMs);
    this.beatTimer.unref();
    // Silent owners are looked for a few times per stale window, so one is taken back soon after.
    this.sweepTimer = setInterval(() => void this.sweep(), Math.max(this.config.heartbeatIntervalMs, this.config.staleAfterMs / 4));
    this.sweepTimer.unref();
  }

  /** Stops beating and sweeping; resolves once a sweep under way has ended. */
  async stop(): Promise<void> {
    if (this.beatTimer) clearInterval(this.beatTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.sweeping;
  }

  /** One heartbeat; acts on what it learned. Skipped while this manager holds nothing. */
  async beat(): Promise<void> {
    const ids = this.executor.heldIds();
    if (ids.length === 0) return;
    try {
      const report = await this.store.heartbeat(this.config.instanceId, this.config.now(), ids);
      for (const id of report.lost) this.executor.lose(id);
      for (const id of report.cancelRequested) this.onCancelRequested(id);
    } catch (error) {
      this.config.logger.error('[stablehand] a heartbeat failed; the next one will try again', error);
    }
  }

  /**
   * At start (`atStart`): takes back at once the tasks of owners certainly gone (an earlier run of
   * this app). Then, and every few seconds: the tasks of owners silent for `staleAfterMs`.
   */
  sweep(atStart = false): Promise<void> {
    this.sweeping ??= this.runSweep(atStart).catch((error: unknown) => {
      this.config.logger.error('[stablehand] looking for tasks of stopped processes failed; the next sweep will try again', error);
    }).finally(() => {
      this.sweeping = null;
    });
    return this.sweeping;
  }

  private async runSweep(atStart: boolean): Promise<void> {
    const now = this.config.now();
    const self = this.config.instanceId;
    const silentSince = new Date(now.getTime() - this.config.staleAfterMs);
    // At start nothing is this manager's yet, so records under its own id are an earlier run's.
    const records = atStart ? await this.store.listOwnedByOthers('') : await this.store.listOwnedByOthers(self, silentSince);
    for (const record of records) {
      if (record.owner === null || this.executor.active.has(record.id)) continue;
      const lastSign = record.heartbeatAt ?? record.createdAt;
      const silent = lastSign === null || lastSign < silentSince;
      if (atStart && this.config.reconcileOnStart && ownerIsGone(record.owner, self)) {
        await this.orphans.takeBack(record, this.config.abandonedMessage);
      } else if (silent) {
        await this.orphans.takeBack(record, stoppedReason(record.owner, now.getTime() - (lastSign ?? now).getTime()));
      }
    }
  }
}
