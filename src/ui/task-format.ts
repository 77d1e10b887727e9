import type { TaskStatus } from '../manager/types.js';
import type { TaskSummaryJson } from './task-view.js';

/**
 * How each status looks: the CSS modifier of its indicator and badge, and the badge text.
 * The page script carries the same table; the two are checked against each other in the tests.
 */
export const STATUS_LOOK: Readonly<Record<TaskStatus, { modifier: string; badge: string }>> = {
  PENDING: { modifier: 'pending', badge: 'Pending' },
  RUNNING: { modifier: 'running', badge: 'Running' },
  DONE: { modifier: 'done', badge: 'Done' },
  FAILED: { modifier: 'failed', badge: 'Failed' },
  CANCELLED: { modifier: 'cancelled', badge: 'Cancelled' },
};

/** The look of a status; a value outside the five (a host's legacy rows) gets the quiet cancelled look. */
export function lookOf(status: string): { modifier: string; badge: string } {
  return STATUS_LOOK[status as TaskStatus] ?? STATUS_LOOK.CANCELLED;
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

function parseTime(iso: string | null): number | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

/** The timing text of a row: "queued", live elapsed time, or duration and how long ago it ended. */
export function formatMeta(task: TaskSummaryJson, now: number): string {
  if (task.status === 'PENDING') return 'queued';
  if (task.status === 'RUNNING') {
    const since = parseTime(task.started_at) ?? parseTime(task.created_at);
    return since === null ? 'running' : formatElapsed((now - since) / 1000);
  }
  const parts: string[] = [];
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
