import type { OfferedKind } from './run-input.js';
import { escapeHtml, jsonForScript } from './escape.js';
import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_STYLES } from './page-styles.js';
import { formatFleet, formatMeta, formatWho, formatWorker, isActive, lookOfTask, outcomeText } from './task-format.js';
import type { TaskPageLayoutInput } from './router-options.js';
import type { FleetJson, StatusCountsJson, TaskSummaryJson } from './task-view.js';
import { isFirstPageOfAll, renderFilterNote, renderPager, renderSearch, renderTabs, viewQuery, type ListView } from './list-view.js';

/** What the page script needs to post: the header to send and the token to put in it. */
export interface CsrfClientSetup {
  headerName: string;
  token: string;
}

/** Everything the list page is rendered from. All strings are raw; the template escapes them. */
export interface TaskPageModel {
  nonce: string;
  /** Normalised mount path without a trailing slash; `''` at the root. */
  basePath: string;
  title: string;
  heading: string;
  runLabel: string;
  runHint: string;
  emptyText: string;
  canRun: boolean;
  /** The kinds the run bar offers; with more than one, it shows a choice. */
  kinds: readonly string[];
  canCancel: boolean;
  /** Whether rows of FAILED and CANCELLED tasks offer a retry. */
  canRetry: boolean;
  /** Whether the manager answers searches and affected-object lists (the search box shows then). */
  searchable: boolean;
  /** The filters and cursor of this page, from its URL. */
  view: ListView;
  /** Tasks per status within the filters (the tabs' counts); null when the manager cannot count. */
  counts: StatusCountsJson | null;
  prevCursor: string | null;
  nextCursor: string | null;
  /** The server-rendered metrics section, or null without metrics. */
  metricsHtml: string | null;
  csrf: CsrfClientSetup | null;
  pollIntervalMs: number;
  idlePollIntervalMs: number;
  /** The offered kinds that ask for input, in order. */
  forms: readonly OfferedKind[];
  /** See TaskRouterManager.staleAfterMs. */
  staleAfterMs: number;
  pageSize: number;
  tasks: readonly TaskSummaryJson[];
  /** Who holds the unfinished tasks; `null` when the manager cannot tell (no strip then). */
  fleet: FleetJson | null;
  /** Server clock at render time; the script uses it to correct for a skewed client clock. */
  now: number;
  /** The host's layout around the page, if any. */
  layout: ((page: TaskPageLayoutInput) => string) | null;
}

/** The URL of a task's detail view under the mount path. */
export function taskUrl(basePath: string, id: string): string {
  return `${basePath}/${encodeURIComponent(id)}/`;
}

/**
 * The indicator markup. Every state has the same three parts so the script only swaps a class:
 * rings show while running, the dot changes fill, a tick or cross is drawn by CSS.
 */
export function renderIndicator(modifier: string): string {
  return `<span class="sh-ind sh-ind--${modifier}" aria-hidden="true"><span class="sh-ring"></span><span class="sh-ring sh-ring--late"></span><span class="sh-dot"></span></span>`;
}

function hidden(condition: boolean): string {
  return condition ? ' hidden' : '';
}

/** Which buttons rows carry. */
export interface RowActions {
  cancel: boolean;
  retry: boolean;
}

/** Whether a task can be retried: it ended FAILED or CANCELLED and nobody retried it yet. */
export function isRetryable(task: Pick<TaskSummaryJson, 'status' | 'retried_as'>): boolean {
  return (task.status === 'FAILED' || task.status === 'CANCELLED') && !task.retried_as;
}

/** One row of the list. The page script builds rows with exactly this structure. */
export function renderTaskRow(task: TaskSummaryJson, basePath: string, actions: RowActions, now: number, staleAfterMs: number): string {
  const worker = formatWorker(task, now, staleAfterMs);
  const look = lookOfTask(task);
  const label = escapeHtml(task.label);
  const active = isActive(task);
  const showProgress = task.status === 'RUNNING' && task.progress !== null;
  const message = active ? (task.message ?? '') : '';
  const outcome = outcomeText(task);
  const who = formatWho(task);
  // The slot keeps its width when the button hides, so badges and times line up down the list.
  const buttons = [
    actions.cancel ? `<button type="button" class="sh-cancel" aria-label="Cancel ${label}"${hidden(!active)}>Cancel</button>` : '',
    actions.retry ? `<button type="button" class="sh-retry" aria-label="Retry ${label}"${hidden(!isRetryable(task))}>Retry</button>` : '',
  ].join('');
  const cancel = actions.cancel || actions.retry ? `<span class="sh-actions">${buttons}</span>` : '';
  return [
    `<li class="sh-task sh-task--${look.modifier}" data-id="${escapeHtml(task.id)}">`,
    '<div class="sh-row">',
    renderIndicator(look.modifier),
    `<a class="sh-name" href="${escapeHtml(taskUrl(basePath, task.id))}">${label}</a>`,
    `<span class="sh-badge sh-badge--${look.modifier}">${look.badge}</span>`,
    `<span class="sh-meta">${escapeHtml(formatMeta(task, now))}</span>`,
    cancel,
    '</div>',
    `<p class="sh-who"${hidden(who === '')}>${escapeHtml(who)}</p>`,
    `<progress class="sh-progress" max="100" value="${task.progress ?? 0}" aria-label="Progress of ${label}"${hidden(!showProgress)}>${Math.round(task.progress ?? 0)}%</progress>`,
    `<p class="sh-message"${hidden(message === '')}>${escapeHtml(message)}</p>`,
    `<p class="sh-worker"${hidden(worker === '')}>${escapeHtml(worker)}</p>`,
    `<p class="sh-result"${hidden(outcome === '')}>${escapeHtml(outcome)}</p>`,
    '</li>',
  ].join('');
}

/** The shell shared by the list page and the detail view. */
export function renderDocument(options: {
  nonce: string;
  title: string;
  body: string;
  data: unknown;
  layout: ((page: TaskPageLayoutInput) => string) | null;
}): string {
  const nonce = escapeHtml(options.nonce);
  const body = options.layout ? options.layout({ body: options.body, nonce: options.nonce, title: options.title }) : options.body;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    '<link rel="icon" href="data:,">',
    `<title>${escapeHtml(options.title)}</title>`,
    `<style nonce="${nonce}">${PAGE_STYLES}</style>`,
    '</head>',
    '<body>',
    body,
    // A data block is never executed, so it needs no nonce; jsonForScript keeps it from ending early.
    `<script type="application/json" id="sh-data">${jsonForScript(options.data)}</script>`,
    `<script nonce="${nonce}">${PAGE_SCRIPT}</script>`,
    '</body>',
    '</html>',
  ].join('\n');
}

/** The workers strip: hidden while no instance holds a task and nothing waits. */
function renderFleet(fleet: FleetJson | null, now: number): string {
  if (!fleet) return '';
  const { lines, alert } = formatFleet(fleet, now);
  return [
    `<section class="sh-fleet" id="sh-fleet" aria-label="Workers"${hidden(lines.length === 0 && alert === '')}>`,
    `<ul class="sh-fleet-list" id="sh-fleet-list">${lines.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>`,
    `<p class="sh-fleet-alert" id="sh-fleet-alert" role="alert"${hidden(alert === '')}>${escapeHtml(alert)}</p>`,
    '</section>',
  ].join('');
}

/**
 * The form of one kind's input: a labelled control per field, its type's own control, hidden
 * while another kind is chosen. Names and values are escaped; the server checks every value again.
 */
function renderForm(form: OfferedKind, hide: boolean): string {
  const controls = (form.fields ?? []).map(([name, field]) => {
    // Only letters, digits, _ and - remain: nothing left to escape.
    const id = `sh-field-${form.kind}-${name}`.replace(/[^A-Za-z0-9_-]/g, '_');
    const label = `<label for="${id}">${escapeHtml(field.label ?? name)}</label>`;
    const required = 'required' in field && field.required ? ' required' : '';
    switch (field.type) {
      case 'string':
        return `${label}<input type="text" id="${id}" name="${name}" data-type="string"${field.maxLength === undefined ? '' : ` maxlength="${field.maxLength}"`}${required}>`;
      case 'number':
        return `${label}<input type="number" id="${id}" name="${name}" data-type="number"${field.min === undefined ? '' : ` min="${field.min}"`}` +
          `${field.max === undefined ? '' : ` max="${field.max}"`}${field.integer ? ' step="1"' : ' step="any"'}${required}>`;
      case 'boolean':
        return `<input type="checkbox" id="${id}" name="${name}" data-type="boolean">${label}`;
      case 'enum':
        return `${label}<select id="${id}" name="${name}" data-type="enum"${required}>${required ? '' : '<option value=""></option>'}` +
          field.options.map((option) => `<option>${escapeHtml(option)}</option>`).join('') + '</select>';
    }
  }).join('');
  return `<fieldset class="sh-fields" data-kind="${escapeHtml(form.kind)}"${hidden(hide)}><legend class="sh-visually-hidden">Input</legend>${controls}</fieldset>`;
}

/** Renders the list page: heading, run bar, rows, empty state, and the data the script starts from. */
export function renderTaskPage(model: TaskPageModel): string {
  const actions = { cancel: model.canCancel, retry: model.canRetry };
  const rows = model.tasks.map((task) => renderTaskRow(task, model.basePath, actions, model.now, model.staleAfterMs)).join('\n');
  const { view } = model;
  const runBar = model.canRun
    ? [
        '<section class="sh-runbar" aria-label="Start a task">',
        model.kinds.length > 1
          ? '<label class="sh-kind-label" for="sh-kind">Task</label><select class="sh-kind" id="sh-kind">' +
            model.kinds.map((kind) => `<option>${escapeHtml(kind)}</option>`).join('') + '</select>'
          : '',
        model.forms.map((form) => renderForm(form, form.kind !== model.kinds[0])).join(''),
        `<button type="button" class="sh-run" id="sh-run"${model.runHint ? ' aria-describedby="sh-run-hint"' : ''}>${escapeHtml(model.runLabel)}</button>`,
        model.runHint ? `<p class="sh-hint" id="sh-run-hint">${escapeHtml(model.runHint)}</p>` : '',
        '</section>',
      ].join('')
    : '';
  const body = [
    '<main class="sh-page" id="sh-app">',
    `<header class="sh-header"><h1>${escapeHtml(model.heading)}</h1></header>`,
    runBar,
    renderFleet(model.fleet, model.now),
    model.searchable ? renderSearch(model.basePath, view) : '',
    renderTabs(model.basePath, view, model.counts),
    renderFilterNote(model.basePath, view),
    '<p class="sh-error" id="sh-error" role="alert" hidden></p>',
    '<p class="sh-notice" id="sh-notice" role="status" hidden></p>',
    `<p class="sh-empty" id="sh-empty"${hidden(model.tasks.length > 0)}>${escapeHtml(model.emptyText)}</p>`,
    `<ul class="sh-tasks" id="sh-tasks" aria-label="Tasks">${rows}</ul>`,
    renderPager(model.basePath, view, model.prevCursor, model.nextCursor),
    model.metricsHtml === null ? '' : `<details class="sh-metrics-box"><summary>Metrics</summary>${model.metricsHtml}</details>`,
    '<div class="sh-visually-hidden" id="sh-live" aria-live="polite"></div>',
    '</main>',
  ].join('\n');
  const data = {
    mode: 'list',
    base: model.basePath,
    // Polls keep the page's own filters and cursor: a filtered or older page stays live too.
    statusUrl: `${model.basePath}/status/${viewQuery({ ...view, limit: model.pageSize })}`,
    // A task started here shows at once only where it belongs: the first page of every task.
    showStarted: isFirstPageOfAll(view),
    runUrl: `${model.basePath}/run/`,
    fleetUrl: model.fleet ? `${model.basePath}/fleet/` : null,
    fleet: model.fleet,
    pollIntervalMs: model.pollIntervalMs,
    idlePollIntervalMs: model.idlePollIntervalMs,
    staleAfterMs: model.staleAfterMs,
    canCancel: model.canCancel,
    canRetry: model.canRetry,
    counts: model.counts,
    kinds: model.kinds,
    csrf: model.csrf,
    serverNow: model.now,
    tasks: model.tasks,
  };
  return renderDocument({ nonce: model.nonce, title: model.title, body, data, layout: model.layout });
}
