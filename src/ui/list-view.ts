import type { ListTasksOptions } from '../core/list-query.js';
import type { TaskStatus } from '../core/status.js';
import { escapeHtml } from './escape.js';
import type { StatusCountsJson } from './task-view.js';

/**
 * What the list page shows, as its URL carries it (so a filtered view can be bookmarked and
 * shared): a status tab, a search, an affected object, and a cursor.
 */
export interface ListView {
  /** The tab; absent for All (or for several statuses asked through the URL). */
  status?: TaskStatus;
  /** Every status asked, when the URL names several. */
  statuses?: readonly TaskStatus[];
  q?: string;
  affected?: string;
  before?: string;
  after?: string;
  /** A page size asked in the URL, other than the router's `pageSize`. */
  limit?: number;
}

/** The tabs, in order, with their labels. */
export const STATUS_TABS: readonly { status: TaskStatus | 'ALL'; label: string }[] = [
  { status: 'ALL', label: 'All' },
  { status: 'RUNNING', label: 'Running' },
  { status: 'PENDING', label: 'Pending' },
  { status: 'FAILED', label: 'Failed' },
  { status: 'DONE', label: 'Done' },
  { status: 'CANCELLED', label: 'Cancelled' },
];

/** The view of a checked page query; `pageSize` is the router's, which the URL need not repeat. */
export function listViewOf(query: ListTasksOptions, pageSize: number): ListView {
  const view: ListView = {};
  const given = query.status;
  const statuses: readonly TaskStatus[] = given === undefined ? [] : typeof given === 'string' ? [given] : given;
  if (statuses.length === 1) view.status = statuses[0];
  if (statuses.length > 1) view.statuses = statuses;
  if (query.search !== undefined) view.q = query.search;
  if (query.affected !== undefined) view.affected = query.affected;
  if (query.before !== undefined) view.before = query.before;
  if (query.after !== undefined) view.after = query.after;
  if (query.limit !== undefined && query.limit !== pageSize) view.limit = query.limit;
  return view;
}

/** Whether the view is the plain first page of every task (where a started task shows up at once). */
export function isFirstPageOfAll(view: ListView): boolean {
  return Object.keys(view).every((key) => key === 'limit');
}

/** The query string of a view (with a leading `?`, or empty), in a fixed parameter order. */
export function viewQuery(view: ListView): string {
  const params = new URLSearchParams();
  const statuses = view.statuses ?? (view.status ? [view.status] : []);
  if (statuses.length > 0) params.set('status', statuses.join(','));
  if (view.q !== undefined) params.set('q', view.q);
  if (view.affected !== undefined) params.set('affected', view.affected);
  if (view.before !== undefined) params.set('before', view.before);
  if (view.after !== undefined) params.set('after', view.after);
  if (view.limit !== undefined) params.set('limit', String(view.limit));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The same filters on their first page: what tabs and the search keep. */
function firstPage(view: ListView): ListView {
  const next = { ...view };
  delete next.before;
  delete next.after;
  return next;
}

/** The tab bar: a link per status with its count (when known), the current one marked. */
export function renderTabs(basePath: string, view: ListView, counts: StatusCountsJson | null): string {
  const links = STATUS_TABS.map(({ status, label }) => {
    const target = firstPage(view);
    delete target.statuses;
    if (status === 'ALL') delete target.status;
    else target.status = status;
    const current = status === 'ALL' ? view.status === undefined && view.statuses === undefined : view.status === status;
    const count = counts ? `<span class="sh-count" data-count="${status}">${counts[status]}</span>` : '';
    return `<li><a class="sh-tab" href="${escapeHtml(`${basePath}/${viewQuery(target)}`)}"${current ? ' aria-current="page"' : ''}>${label}${count}</a></li>`;
  });
  return `<nav class="sh-tabs" aria-label="Filter by status"><ul>${links.join('')}</ul></nav>`;
}

/** The search box: a plain GET form, so it works without the script and lands in the URL. */
export function renderSearch(basePath: string, view: ListView): string {
  const kept = [
    view.status ? `<input type="hidden" name="status" value="${view.status}">` : '',
    view.affected !== undefined ? `<input type="hidden" name="affected" value="${escapeHtml(view.affected)}">` : '',
  ].join('');
  return `<form class="sh-search" role="search" method="get" action="${escapeHtml(`${basePath}/`)}">${kept}` +
    '<label class="sh-visually-hidden" for="sh-q">Search tasks</label>' +
    `<input type="search" id="sh-q" name="q" maxlength="200" value="${escapeHtml(view.q ?? '')}" placeholder="Task id, kind, words, user or order:42">` +
    '<button type="submit" class="sh-search-go">Search</button></form>';
}

/** What the list is narrowed to, with a way back to everything. */
export function renderFilterNote(basePath: string, view: ListView): string {
  const parts: string[] = [];
  if (view.affected !== undefined) parts.push(`touched <strong>${escapeHtml(view.affected)}</strong>`);
  if (view.q !== undefined) parts.push(`match “${escapeHtml(view.q)}”`);
  if (parts.length === 0) return '';
  return `<p class="sh-filter" id="sh-filter">Tasks that ${parts.join(' and ')} · <a href="${escapeHtml(`${basePath}/`)}">Show all tasks</a></p>`;
}

/** Newer and older links, from the page's cursors; nothing when there is one page. */
export function renderPager(basePath: string, view: ListView, prevCursor: string | null, nextCursor: string | null): string {
  if (prevCursor === null && nextCursor === null) return '';
  const link = (cursor: string | null, key: 'after' | 'before', text: string, rel: string) => {
    if (cursor === null) return `<span class="sh-page-link" aria-disabled="true">${text}</span>`;
    const target = { ...firstPage(view), [key]: cursor };
    return `<a class="sh-page-link" rel="${rel}" href="${escapeHtml(`${basePath}/${viewQuery(target)}`)}">${text}</a>`;
  };
  return `<nav class="sh-pager" aria-label="Pages">${link(prevCursor, 'after', '← Newer', 'prev')}${link(nextCursor, 'before', 'Older →', 'next')}</nav>`;
}
