/** One app instance holding unfinished tasks, as the records show it. */
export interface FleetInstance {
  /** Its `instanceId`. */
  id: string;
  /** Its latest heartbeat on any of its tasks. */
  heartbeatAt: Date | null;
  /** Tasks it runs. */
  running: number;
  /** Tasks waiting in its in-process queue. */
  queued: number;
}

/** The instances holding unfinished tasks, and the tasks nobody holds yet. */
export interface FleetSnapshot {
  /** Busiest first. */
  instances: FleetInstance[];
  /** PENDING tasks no instance holds: waiting in a distributed queue for a worker. */
  waiting: number;
}

/** {@link FleetSnapshot} with what the runner and the manager add. */
export interface FleetReport extends FleetSnapshot {
  /** Workers the runner's engine reports alive, or `null` when it cannot tell (in-process runner). */
  workers: number | null;
  /** Silence after which an instance counts as not responding (the manager's `staleAfterMs`). */
  staleAfterMs: number;
}

/**
 * Silence after which an instance's tasks are taken back, and the page reads it "not responding",
 * unless the manager's `staleAfterMs` says otherwise.
 */
export const DEFAULT_STALE_AFTER_MS = 30_000;

/** Builds a {@link FleetSnapshot} from unfinished records, one or counted many at a time: every store's fleet(). */
export class FleetTally {
  private readonly instances = new Map<string, FleetInstance>();
  private waiting = 0;

  /** Counts `count` unfinished records of `owner` in `status`, last alive at `lastSign`. */
  add(owner: string | null, status: 'PENDING' | 'RUNNING', count: number, lastSign: Date | null): void {
    if (owner === null) {
      if (status === 'PENDING') this.waiting += count;
      return;
    }
    let instance = this.instances.get(owner);
    if (!instance) this.instances.set(owner, (instance = { id: owner, heartbeatAt: null, running: 0, queued: 0 }));
    if (status === 'RUNNING') instance.running += count;
    else instance.queued += count;
    if (lastSign && (!instance.heartbeatAt || lastSign > instance.heartbeatAt)) instance.heartbeatAt = lastSign;
  }

  /** The snapshot, instances busiest first, then by id. */
  snapshot(): FleetSnapshot {
    const instances = [...this.instances.values()].sort((a, b) => b.running + b.queued - (a.running + a.queued) || a.id.localeCompare(b.id));
    return { instances, waiting: this.waiting };
  }
}
