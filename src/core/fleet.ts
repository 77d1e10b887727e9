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

/** Instances in the order the page lists them: most tasks first, then by id. */
export function busiestFirst(instances: FleetInstance[]): FleetInstance[] {
  return instances.sort((a, b) => b.running + b.queued - (a.running + a.queued) || a.id.localeCompare(b.id));
}
