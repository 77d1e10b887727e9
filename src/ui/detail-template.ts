import { escapeHtml } from './escape.js';
import { renderDocument, renderIndicator, taskUrl, type CsrfClientSetup } from './page-template.js';
import { DETAIL_TERMS, detailFields, formatMeta, formatTimestamp, isActive, lookOfTask, timelineOf, type TimelineEntry } from './task-format.js';
import { isRetryable } from './page-template.js';
import type { TaskPageLayoutInput } from './router-options.js';
import type { TaskDetailJson } from './task-view.js';

/** Everything the detail view is rendered from. All strings are raw; the template escapes them. */
export interface TaskDetailModel {
  nonce: string;
  basePath: string;
  /** The list page's title, used as the back link's text. */
  listTitle: string;
  task: TaskDetailJson;
  canCancel: boolean;
  /** Whether a FAILED or CANCELLED task offers a retry. */
  canRetry: boolean;
  /** Whether affected objects link to their history (the manager answers affected-object lists). */
  searchable: boolean;
  csrf: CsrfClientSetup | null;
  pollIntervalMs: number;
  /** See TaskRouterManager.staleAfterMs. */
  staleAfterMs: number;
  now: number;
  layout: ((page: TaskPageLayoutInput) => string) | null;
}

/** `[field, term, text]` for every row of the detail list; the script refills them by `field`. */
function detailRows(task: TaskDetailJson): [string, string, string][] {
  const texts = detailFields(task);
  return DETAIL_TERMS.map(([field, term]) => [field, term, texts[field] ?? '—']);
}

/** One timeline entry; the page script builds entries with exactly this structure. */
function renderTimelineEntry(entry: TimelineEntry, basePath: string): string {
  const link = entry.task === null ? '' : ` <a href="${escapeHtml(taskUrl(basePath, entry.task))}">${escapeHtml(entry.task)}</a>`;
  return `<li><time datetime="${escapeHtml(entry.at)}">${escapeHtml(formatTimestamp(entry.at))}</time> <span>${escapeHtml(entry.text)}</span>${link}</li>`;
}

/** The affected objects as links to the list of every task that touched each. */
function renderAffectedLinks(keys: readonly string[], basePath: string): string {
  if (keys.length === 0) return '';
  const links = keys.map((key) => `<li><a href="${escapeHtml(`${basePath}/?affected=${encodeURIComponent(key)}`)}">${escapeHtml(key)}</a></li>`);
  return `<section class="sh-section" aria-labelledby="sh-affected-title"><h2 id="sh-affected-title">History of what it touched</h2><ul class="sh-affected">${links.join('')}</ul></section>`;
}

/** Renders the detail view of one task; it refreshes itself while the task is active. */
export function renderTaskDetail(model: TaskDetailModel): string {
  const { task } = model;
  const look = lookOfTask(task);
  const label = escapeHtml(task.label);
  const active = isActive(task);
  // Results and errors may be indented JSON or stack-like text, so they get a monospace block.
  const isBlock = (field: string): boolean => field === 'result' || field === 'error';
  const rows = detailRows(task)
    .map(([field, term, value]) => {
      const inner = escapeHtml(value);
      const dd = isBlock(field) ? `<pre class="sh-pre" data-field="${field}">${inner}</pre>` : `<span data-field="${field}">${inner}</span>`;
      return `<dt>${term}</dt><dd>${dd}</dd>`;
    })
    .join('\n');
  const cancel = model.canCancel
    ? `<button type="button" class="sh-cancel" aria-label="Cancel ${label}"${active ? '' : ' hidden'}>Cancel</button>`
    : '';
  const retry = model.canRetry
    ? `<button type="button" class="sh-retry" aria-label="Retry ${label}"${isRetryable(task) ? '' : ' hidden'}>Retry</button>`
    : '';
  const timeline = timelineOf(task).map((entry) => renderTimelineEntry(entry, model.basePath)).join('');
  const body = [
    '<main class="sh-page sh-page--detail" id="sh-app">',
    `<p class="sh-back"><a href="${escapeHtml(`${model.basePath}/`)}">← ${escapeHtml(model.listTitle)}</a></p>`,
    `<article class="sh-task sh-task--${look.modifier}" data-id="${escapeHtml(task.id)}">`,
    `<header class="sh-header"><h1 class="sh-detail-title">${label}</h1></header>`,
    '<div class="sh-row">',
    renderIndicator(look.modifier),
    `<span class="sh-badge sh-badge--${look.modifier}">${look.badge}</span>`,
    `<span class="sh-meta">${escapeHtml(formatMeta(task, model.now))}</span>`,
    cancel,
    retry,
    '</div>',
    `<progress class="sh-progress" max="100" value="${task.progress ?? 0}" aria-label="Progress of ${label}"${task.status === 'RUNNING' && task.progress !== null ? '' : ' hidden'}>${Math.round(task.progress ?? 0)}%</progress>`,
    `<dl class="sh-fields">${rows}</dl>`,
    `<section class="sh-section" aria-labelledby="sh-timeline-title"><h2 id="sh-timeline-title">Timeline</h2><ol class="sh-timeline" id="sh-timeline">${timeline}</ol></section>`,
    model.searchable ? renderAffectedLinks(task.affected_keys, model.basePath) : '',
    '</article>',
    '<p class="sh-error" id="sh-error" role="alert" hidden></p>',
    '<p class="sh-notice" id="sh-notice" role="status" hidden></p>',
    '<div class="sh-visually-hidden" id="sh-live" aria-live="polite"></div>',
    '</main>',
  ].join('\n');
  const data = {
    mode: 'detail',
    base: model.basePath,
    taskUrl: taskUrl(model.basePath, task.id),
    pollIntervalMs: model.pollIntervalMs,
    staleAfterMs: model.staleAfterMs,
    canCancel: model.canCancel,
    canRetry: model.canRetry,
    csrf: model.csrf,
    serverNow: model.now,
    task,
  };
  return renderDocument({ nonce: model.nonce, title: `${task.label} · ${model.listTitle}`, body, data, layout: model.layout });
}
