import { escapeHtml } from './escape.js';
import { renderDocument, renderIndicator, taskUrl, type CsrfClientSetup } from './page-template.js';
import { formatMeta, formatSeconds, formatTimestamp, isActive, lookOf, toDisplayText } from './task-format.js';
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
  csrf: CsrfClientSetup | null;
  pollIntervalMs: number;
  now: number;
  layout: ((page: TaskPageLayoutInput) => string) | null;
}

/** A JSON value as the detail view prints it: strings verbatim, structures indented. */
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

/** `[field, term, value]` for every row of the detail list; the script refills them by `field`. */
function detailRows(task: TaskDetailJson): [string, string, string][] {
  return [
    ['kind', 'Kind', detailText(task.kind)],
    ['message', 'Message', detailText(task.message)],
    ['progress', 'Progress', task.progress === null ? '—' : `${Math.round(task.progress)}%`],
    ['result', 'Result', task.status === 'DONE' ? detailText(task.result) : '—'],
    ['error', 'Error', detailText(task.error)],
    ['user', 'User', detailText(task.user)],
    ['affected', 'Affected', detailText(task.affected)],
    ['created_at', 'Created', formatTimestamp(task.created_at)],
    ['started_at', 'Started', formatTimestamp(task.started_at)],
    ['updated_at', 'Updated', formatTimestamp(task.updated_at)],
    ['completed_at', 'Completed', formatTimestamp(task.completed_at)],
    ['failed_at', 'Failed', formatTimestamp(task.failed_at)],
    ['duration', 'Duration', task.duration === null ? '—' : formatSeconds(task.duration)],
    ['id', 'Id', task.id],
  ];
}

/** Renders the detail view of one task; it refreshes itself while the task is active. */
export function renderTaskDetail(model: TaskDetailModel): string {
  const { task } = model;
  const look = lookOf(task.status);
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
    '</div>',
    `<progress class="sh-progress" max="100" value="${task.progress ?? 0}" aria-label="Progress of ${label}"${task.status === 'RUNNING' && task.progress !== null ? '' : ' hidden'}>${Math.round(task.progress ?? 0)}%</progress>`,
    `<dl class="sh-fields">${rows}</dl>`,
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
    canCancel: model.canCancel,
    csrf: model.csrf,
    serverNow: model.now,
    task,
  };
  return renderDocument({ nonce: model.nonce, title: `${task.label} · ${model.listTitle}`, body, data, layout: model.layout });
}
