// The functions of this file run on the server, which renders the first page, and in the browser,
// which patches it as tasks change: CLIENT_FORMAT hands their own source to the page script. So each
// uses only its arguments, the others of CLIENT_FORMAT_FUNCTIONS and the language: no imports, no
// module-level values.
import { TASK_STATUSES, type TaskStatus } from '../core/status.js';
import type { FleetJson, TaskDetailJson, TaskSummaryJson } from './task-view.js';

/** How a status looks: the CSS modifier of its indicator and badge, and the badge text. */
export interface StatusLook {
  modifier: string;
  badge: string;
}

/** The look of a status; a value outside the five (a host's legacy rows) gets the quiet cancelled look. */
export function lookOf(status: string): StatusLook {
  switch (status) {
    case 'PENDING': return { modifier: 'pending', badge: 'Pending' };
    case 'RUNNING': return { modifier: 'running', badge: 'Running' };
    case 'DONE': return { modifier: 'done', badge: 'Done' };
    case 'FAILED': return { modifier: 'failed', badge: 'Failed' };
    default: return { modifier: 'cancelled', badge: 'Cancelled' };
  }
}

/**
 * Which app instance runs a task and how fresh its heartbeat is: "web-1 · heartbeat 3 s ago", or
 * "web-1 · not responding" once it is older than `staleAfterMs` (the other instances are about
 * to take the task back). Empty for a task that is not running or has no owner.
 */
export function formatWorker(task: TaskSummaryJson, now: number, staleAfterMs: number): string {
  if (task.status !== 'RUNNING' || !task.owner) return '';
  const beat = parseTime(task.heartbeat_at);
  if (beat === null) return task.owner;
  return `${task.owner} · ${now - beat > staleAfterMs ? 'not responding' : `heartbeat ${formatAgo(now - beat)}`}`;
}

/**
 * The workers strip: a line per instance holding tasks ("web-1 · 3 running, 2 queued · heartbeat
 * 2 s ago", or "not responding" past the stale window), and an alert when tasks wait for a worker
 * and the queue engine knows none alive.
 */
export function formatFleet(fleet: FleetJson, now: number): { lines: string[]; alert: string } {
  const lines = fleet.instances.map((instance) => {
    const counts = [`${instance.running} running`];
    if (instance.queued > 0) counts.push(`${instance.queued} queued`);
    const beat = parseTime(instance.heartbeat_at);
    const fresh = beat === null ? '' : now - beat > fleet.stale_after_ms ? ' · not responding' : ` · heartbeat ${formatAgo(now - beat)}`;
    return `${instance.id} · ${counts.join(', ')}${fresh}`;
  });
  const waiting = fleet.waiting === 1 ? '1 task is' : `${fleet.waiting} tasks are`;
  const alert = fleet.waiting > 0 && fleet.workers === 0 ? `${waiting} waiting and no worker is running.` : '';
  return { lines, alert };
}

/**
 * The look of a task: its status's, but "Cancelling…" while a cancel waits for its owner, and
 * "Retrying" while it waits for its next attempt.
 */
export function lookOfTask(task: { status: string; cancel_requested_at?: string | null; retry_at?: string | null }): StatusLook {
  const look = lookOf(task.status);
  const active = task.status === 'PENDING' || task.status === 'RUNNING';
  if (active && task.cancel_requested_at) return { modifier: look.modifier, badge: 'Cancelling…' };
  return task.status === 'PENDING' && task.retry_at ? { modifier: look.modifier, badge: 'Retrying' } : look;
}

/** Whether a task has not ended yet (PENDING or RUNNING). */
export function isActive(task: { status: string }): boolean {
  return task.status === 'PENDING' || task.status === 'RUNNING';
}

/** A duration in seconds as the page shows it: "< 0.1 s", "6.2 s", "42 s", "2 min 5 s", "1 h 2 min". */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, seconds);
  if (s < 0.1) return '< 0.1 s';
  if (s < 10) return `${(Math.floor(s * 10) / 10).toFixed(1)} s`;
  if (s < 60) return `${Math.floor(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.floor(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** Whole seconds elapsed, ticking: "12 s", "2 min 5 s". */
export function formatElapsed(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return s < 60 ? `${s} s` : formatSeconds(s);
}

/** How long ago something happened: "just now", "12 s ago", "3 min ago", "2 h ago", "4 d ago". */
export function formatAgo(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** Milliseconds since the epoch of an ISO timestamp, or null. */
export function parseTime(iso: string | null): number | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * The timing text of a row: "queued" (or "Retrying in 12 s" between attempts), live elapsed time
 * (with "attempt 2 of 3" for a kind with several), or duration and how long ago it ended.
 */
export function formatMeta(task: TaskSummaryJson, now: number): string {
  const attempt = task.max_attempts && task.attempt ? `attempt ${task.attempt} of ${task.max_attempts}` : '';
  if (task.status === 'PENDING') {
    const due = parseTime(task.retry_at);
    if (due === null) return task.max_attempts && task.attempt ? `queued for attempt ${task.attempt + 1} of ${task.max_attempts}` : 'queued';
    return due > now ? `Retrying in ${formatElapsed(Math.ceil((due - now) / 1000))}` : 'Retrying…';
  }
  if (task.status === 'RUNNING') {
    const since = parseTime(task.started_at) ?? parseTime(task.created_at);
    const elapsed = since === null ? 'running' : formatElapsed((now - since) / 1000);
    return attempt ? `${elapsed} · ${attempt}` : elapsed;
  }
  const parts: string[] = [];
  if (attempt && (task.attempt ?? 0) > 1) parts.push(attempt);
  if (task.duration !== null) parts.push(formatSeconds(task.duration));
  const ended = parseTime(task.completed_at);
  if (ended !== null) parts.push(formatAgo(now - ended));
  return parts.join(' · ');
}

/** A UTC timestamp for the detail view: "2026-03-30 14:22:01 UTC". */
export function formatTimestamp(iso: string | null): string {
  if (!iso) return '—';
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** A stored value as display text: strings as they are, anything else as its JSON. */
export function toDisplayText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  // Any other value, stringified as it comes (a custom store might hand over anything).
  const other: unknown = value;
  try {
    // Typed as a string, but undefined for a function or a symbol.
    const json = JSON.stringify(other) as string | undefined;
    return json ?? String(other);
  } catch {
    // A cyclic or BigInt-bearing value cannot come from a JSON column, but a custom store might hand one over.
    return String(other);
  }
}

/** A JSON value as the detail view prints it: strings verbatim, structures indented, nothing as a dash. */
export function detailText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'string') return value;
  try {
    // Typed as a string, but undefined for a function or a symbol.
    const json = JSON.stringify(value, null, 2) as string | undefined;
    return json ?? toDisplayText(value);
  } catch {
    return toDisplayText(value);
  }
}

/** The text of every field of the detail view, by field name (see DETAIL_TERMS for their order and terms). */
export function detailFields(task: TaskDetailJson): Record<string, string> {
  const cancelAsked = task.cancel_requested_at
    ? `${detailText(task.cancel_requested_by)}, ${formatTimestamp(task.cancel_requested_at)}` : '—';
  return {
    kind: detailText(task.kind), message: detailText(task.message),
    progress: task.progress === null ? '—' : `${Math.round(task.progress)}%`,
    result: task.status === 'DONE' ? detailText(task.result) : '—', error: detailText(task.error),
    user: detailText(task.user), affected: detailText(task.affected), owner: detailText(task.owner),
    cancel_requested: cancelAsked,
    attempts: task.max_attempts === null ? '—' : `${task.attempt ?? 0} of ${task.max_attempts}`,
    attempt_errors: task.attempt_errors.length === 0 ? '—'
      : task.attempt_errors.map((entry) => `${entry.attempt}: ${entry.error}${entry.at ? ` (${formatTimestamp(entry.at)})` : ''}`).join('\n'),
    created_at: formatTimestamp(task.created_at), started_at: formatTimestamp(task.started_at),
    updated_at: formatTimestamp(task.updated_at), completed_at: formatTimestamp(task.completed_at),
    failed_at: formatTimestamp(task.failed_at),
    duration: task.duration === null ? '—' : formatSeconds(task.duration), id: task.id,
  };
}

/** The row's line of who launched a task and what it works on: "ann · order:1, order:2", kept short. */
export function formatWho(task: TaskSummaryJson): string {
  const text = [toDisplayText(task.user), toDisplayText(task.affected)].filter((part) => part !== '').join(' \u00b7 ');
  return text.length > 140 ? `${text.slice(0, 139)}\u2026` : text;
}

/** What a finished row shows: its result, else its message; nothing while it runs. */
export function outcomeText(task: TaskSummaryJson): string {
  if (isActive(task)) return '';
  return toDisplayText(task.result) || (task.message ?? '');
}

/** One moment of a task's life in the detail view's timeline; `task` names another task it links to. */
export interface TimelineEntry {
  at: string;
  text: string;
  task: string | null;
}

/**
 * The task's life, oldest first: created (and by whom), the retry it is of, each failed attempt,
 * the start, progress milestones, a cancel request, the end, the cleanup and a retry made of it.
 */
export function timelineOf(task: TaskDetailJson): TimelineEntry[] {
  const by = (value: unknown): string => {
    const text = toDisplayText(value);
    return text === '' ? '' : ` by ${text}`;
  };
  const entries: TimelineEntry[] = [];
  const add = (at: string | null, text: string, other: string | null = null): void => {
    if (at) entries.push({ at, text, task: other });
  };
  add(task.created_at, `Created${by(task.user)}`);
  if (task.retry_of) add(task.created_at, 'Launched as a retry of another task', task.retry_of);
  for (const failure of task.attempt_errors) add(failure.at, `Attempt ${failure.attempt} failed: ${failure.error}`);
  const attempt = task.attempt !== null && task.attempt > 1 ? `Attempt ${task.attempt} started` : 'Started';
  add(task.started_at, `${attempt}${task.owner ? ` on ${task.owner}` : ''}`);
  for (const milestone of task.milestones) {
    const suffix = task.max_attempts === null ? '' : ` (attempt ${milestone.attempt})`;
    add(milestone.at, `Reached ${Math.round(milestone.percent)}%${milestone.message ? ` \u2014 ${milestone.message}` : ''}${suffix}`);
  }
  add(task.cancel_requested_at, `Cancel requested${by(task.cancel_requested_by)}`);
  if (!isActive(task)) {
    const end = task.status === 'DONE' ? 'Done' : task.status === 'FAILED' ? `Failed${task.error ? `: ${task.error}` : ''}` : 'Cancelled';
    add(task.completed_at ?? task.failed_at, end);
  }
  if (task.cleaned_up) add(task.updated_at, 'Cleaned up');
  add(task.retried_at, `Retried${by(task.retried_by)}${task.retried_as ? ' as' : ''}`, task.retried_as);
  // Stable: entries of one moment keep the order above.
  return entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/** The fields of the detail view, in order, with the term each is shown under. */
export const DETAIL_TERMS: readonly (readonly [string, string])[] = [
  ['kind', 'Kind'], ['message', 'Message'], ['progress', 'Progress'], ['result', 'Result'], ['error', 'Error'],
  ['user', 'User'], ['affected', 'Affected'], ['owner', 'Worker'], ['cancel_requested', 'Cancel asked'],
  ['attempts', 'Attempts'], ['attempt_errors', 'Failed attempts'],
  ['created_at', 'Created'], ['started_at', 'Started'], ['updated_at', 'Updated'], ['completed_at', 'Completed'],
  ['failed_at', 'Failed'], ['duration', 'Duration'], ['id', 'Id'],
];

/** The look of every status, by status. */
export const STATUS_LOOK: Readonly<Record<TaskStatus, StatusLook>> = Object.fromEntries(
  TASK_STATUSES.map((status) => [status, lookOf(status)]),
) as Record<TaskStatus, StatusLook>;

/** The functions the page script shares with the server, under the names it calls them by. */
const CLIENT_FORMAT_FUNCTIONS = {
  lookOf, lookOfTask, isActive, formatSeconds, formatElapsed, formatAgo, parseTime, formatMeta, formatWorker, formatTimestamp, toDisplayText, outcomeText,
  detailText, detailFields, formatFleet, formatWho, timelineOf,
};

/**
 * A script expression that evaluates to an object of the functions above, built from their own
 * source. They are declared inside a function of their own, so a host's minifier may rename them
 * (their calls to each other are renamed alike) without clashing with the page script's names.
 */
export const CLIENT_FORMAT: string = `(function () {\n${Object.values(CLIENT_FORMAT_FUNCTIONS).map(String).join('\n')}\n` +
  `return { ${Object.entries(CLIENT_FORMAT_FUNCTIONS).map(([name, fn]) => `${name}: ${fn.name}`).join(', ')} };\n})()`;
