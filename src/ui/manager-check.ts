import { LIFECYCLE_EVENTS, type LifecycleEventName } from '../core/types.js';

/**
 * The lifecycle events that change what `GET status/` answers. Not `cleanup`: it only marks a
 * record cleaned up, which the status JSON does not show, and it always follows a terminal event
 * in the same tick. Each event listened to makes the manager build a payload per task.
 */
export const STATUS_CHANGING_EVENTS: readonly LifecycleEventName[] = LIFECYCLE_EVENTS.filter((event) => event !== 'cleanup');

const REQUIRED_METHODS = ['launch', 'cancel', 'getTask', 'listTasks'] as const;

/** Names the first missing member, or returns null when `value` looks like a usable manager. */
export function findMissingManagerMember(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'the manager itself';
  const record = value as Record<string, unknown>;
  for (const name of REQUIRED_METHODS) {
    if (typeof record[name] !== 'function') return `${name}()`;
  }
  if (!Array.isArray(record.kinds)) return 'kinds';
  return null;
}
