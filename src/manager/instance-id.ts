import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * A new instance id: `<hostname>:<pid>:<6 random hex digits>`. The host and process let a manager
 * starting on the same host tell at once whether an owner is gone; the random part tells this
 * process apart from an earlier one that had the same pid (a restarted container's pid 1).
 */
export function defaultInstanceId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

// The instance ids of the managers running in this process: several may share one database.
const runningHere = new Set<string>();

/** Notes that a manager of this process runs under `id` (until {@link stoppedHere}). */
export function runningHereAs(id: string): void {
  runningHere.add(id);
}

/** Notes that the manager of this process under `id` stopped. */
export function stoppedHere(id: string): void {
  runningHere.delete(id);
}

/**
 * Whether the process behind `owner` is certainly gone, as seen from the manager `self`: an
 * earlier run under the same id, or a default id of this host whose process no longer runs (or
 * is this very process, started anew, with no running manager under that id). Owners elsewhere, or named by the host, cannot be judged
 * from here: their heartbeat decides.
 */
export function ownerIsGone(owner: string, self: string): boolean {
  if (owner === self) return true;
  const match = /^(.+):(\d+):[0-9a-f]{6}$/.exec(owner);
  if (match?.[1] !== hostname()) return false;
  const pid = Number(match[2]);
  if (pid === process.pid) return !runningHere.has(owner);
  try {
    // Signal 0 only asks whether the process exists.
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
