import { escapeHtml, normaliseBasePath } from './escape.js';
import type { TaskRouterManager } from '../ports/task-manager-port.js';
import { taskUrl } from './page-template.js';
import { formatMeta, lookOfTask } from './task-format.js';
import { toTaskSummary, type TaskSummaryJson } from './task-view.js';

/**
 * The tasks that touched one object as an HTML fragment a host puts in its own page (an order's
 * page, say): a list of links to each task's detail view with its status and time, and a link to
 * every task that touched the object. No script and no style attribute, so it follows the task
 * page's CSP; its classes are the page's (`sh-…`), for the host to style or not.
 */
export function renderAffectedFragment(basePath: string, key: string, tasks: readonly TaskSummaryJson[], now: number): string {
  const items = tasks.map((task) => {
    const look = lookOfTask(task);
    return `<li class="sh-embed-task sh-task--${look.modifier}"><a href="${escapeHtml(taskUrl(basePath, task.id))}">${escapeHtml(task.label)}</a> ` +
      `<span class="sh-badge sh-badge--${look.modifier}">${look.badge}</span> <span class="sh-meta">${escapeHtml(formatMeta(task, now))}</span></li>`;
  }).join('');
  const list = tasks.length > 0 ? `<ul class="sh-embed-tasks">${items}</ul>` : '<p class="sh-embed-empty">No task has touched it yet.</p>';
  const all = `<a class="sh-embed-all" href="${escapeHtml(`${basePath}/?affected=${encodeURIComponent(key)}`)}">Every task that touched ${escapeHtml(key)}</a>`;
  return `<section class="sh-embed" aria-label="Tasks for ${escapeHtml(key)}">${list}<p>${all}</p></section>`;
}

/** Options of {@link renderAffectedTasks}. */
export interface AffectedTasksOptions {
  /**
   * Where the task router is mounted (`app.use('/tasks', createTaskRouter(...))`): the fragment's
   * links lead to its detail views.
   * @defaultValue `'/tasks'`
   */
  basePath?: string;
  /**
   * How many of the newest tasks to list, from 1 to 500.
   * @defaultValue 5
   */
  limit?: number;
}

/**
 * The tasks that touched one object (`order:42`) as the HTML fragment of `GET fragment/`, for a
 * host to put in its own page without a request to itself: no script, no style attribute, every
 * value escaped. Rejects with `InvalidInputError` for a malformed key or limit.
 *
 * @example
 * ```ts
 * app.get('/orders/:id', async (req, res) => {
 *   const tasksHtml = await renderAffectedTasks(manager, `order:${Number(req.params.id)}`);
 *   res.send(orderPage(order, tasksHtml));
 * });
 * ```
 */
export async function renderAffectedTasks(
  manager: Pick<TaskRouterManager, 'listTasks'>, affected: string, options: AffectedTasksOptions = {},
): Promise<string> {
  const page = await manager.listTasks({ affected, limit: options.limit ?? 5 });
  return renderAffectedFragment(normaliseBasePath(options.basePath ?? '/tasks'), affected, page.tasks.map(toTaskSummary), Date.now());
}
