/** The five statuses a task moves through. DONE, FAILED and CANCELLED are final. */
export type TaskStatus = 'PENDING' | 'RUNNING' | 'DONE' | 'FAILED' | 'CANCELLED';

/** Every status, in lifecycle order. */
export const TASK_STATUSES: readonly TaskStatus[] = ['PENDING', 'RUNNING', 'DONE', 'FAILED', 'CANCELLED'];

/** The statuses of a task that has not ended: only records in these may still change status. */
export const ACTIVE_STATUSES: readonly TaskStatus[] = ['PENDING', 'RUNNING'];

/** The final statuses: a record in one of them never changes status again. */
export const TERMINAL_STATUSES: readonly TaskStatus[] = ['DONE', 'FAILED', 'CANCELLED'];

/** True for DONE, FAILED and CANCELLED: a record in one of them never changes status again. */
export function isTerminalStatus(status: TaskStatus): boolean {
  return status === 'DONE' || status === 'FAILED' || status === 'CANCELLED';
}
