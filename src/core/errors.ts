/**
 * Stable, machine-readable codes carried by every {@link StablehandError}.
 * They never change between minor versions, so hosts may switch on them.
 */
export type StablehandErrorCode =
  | 'INVALID_OPTIONS'
  | 'INVALID_INPUT'
  | 'UNKNOWN_KIND'
  | 'TASK_NOT_FOUND'
  | 'TASK_CONFLICT'
  | 'TASK_FINISHED'
  | 'TASK_NOT_RETRYABLE'
  | 'MANAGER_STOPPED'
  | 'STORE_UNAVAILABLE'
  | 'QUEUE_UNAVAILABLE';

/** Base class of every error stablehand throws on purpose. */
export class StablehandError extends Error {
  /** Stable code that identifies the kind of failure. */
  readonly code: StablehandErrorCode;

  /**
   * Makes an error with a stable code.
   * @param code - the stable code
   * @param message - what went wrong and how to fix it
   * @param options - `cause`: the underlying error
   */
  constructor(code: StablehandErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Options or configuration that cannot work: a bad value, a fieldMap naming a missing column. */
export class ConfigurationError extends StablehandError {
  /** Names the option or mapping that is wrong. */
  constructor(message: string) {
    super('INVALID_OPTIONS', message);
  }
}

/** Input to a public method was rejected: a non-serialisable task input, a bad list query. */
export class InvalidInputError extends StablehandError {
  /** Names the value that was rejected. */
  constructor(message: string) {
    super('INVALID_INPUT', message);
  }
}

/** `launch()` named a task kind that was never defined. */
export class UnknownTaskKindError extends StablehandError {
  /** The kind that was asked for. */
  readonly kind: string;

  /** Lists the kinds that are defined. */
  constructor(kind: string, known: readonly string[]) {
    super(
      'UNKNOWN_KIND',
      `Unknown task kind "${kind}". Defined kinds: ${known.length ? known.join(', ') : '(none)'}.`,
    );
    this.kind = kind;
  }
}

/** No task record has the given id. */
export class TaskNotFoundError extends StablehandError {
  /** The id that was looked up. */
  readonly taskId: string;

  /** Names the id that was looked up. */
  constructor(taskId: string) {
    super('TASK_NOT_FOUND', `No task with id "${taskId}".`);
    this.taskId = taskId;
  }
}

/** The task already reached a terminal status, so it cannot be cancelled. */
export class TaskAlreadyFinishedError extends StablehandError {
  /** The task's id. */
  readonly taskId: string;
  /** The terminal status it holds. */
  readonly status: string;

  /** Names the task and its final status. */
  constructor(taskId: string, status: string) {
    super('TASK_FINISHED', `Task "${taskId}" already finished with status ${status}.`);
    this.taskId = taskId;
    this.status = status;
  }
}

/**
 * The task cannot be retried: it did not end FAILED or CANCELLED, it was retried already, or its
 * record does not hold its whole input (a retry runs with the same input or not at all).
 */
export class TaskNotRetryableError extends StablehandError {
  /** The task's id. */
  readonly taskId: string;
  /** The task that already retries it, when that is the reason. */
  readonly retriedAs: string | null;

  /** Names the task and why it cannot be retried. */
  constructor(taskId: string, reason: { status: string } | { retriedAs: string } | { input: 'cut' | 'unstored' }) {
    super('TASK_NOT_RETRYABLE', 'retriedAs' in reason
      ? `Task "${taskId}" was already retried as "${reason.retriedAs}".`
      : 'input' in reason
        ? `Task "${taskId}" cannot be retried: ${reason.input === 'cut' ? 'its input was too long for the record\'s column and was kept cut' : 'the record keeps no input'}, so a retry would not run with the same input.`
        : `Task "${taskId}" is ${reason.status}; only FAILED and CANCELLED tasks can be retried.`);
    this.taskId = taskId;
    this.retriedAs = 'retriedAs' in reason ? reason.retriedAs : null;
  }
}

/** A lock on affected objects is held by another task that is still running. */
export class TaskConflictError extends StablehandError {
  /** The objects that are locked by another task. */
  readonly objects: readonly string[];
  /** Id of the task that holds the first conflicting lock. */
  readonly heldBy: string;

  /** Names the locked objects and their holder. */
  constructor(objects: readonly string[], heldBy: string) {
    super(
      'TASK_CONFLICT',
      `Objects ${objects.map((o) => `"${o}"`).join(', ')} are locked by unfinished task "${heldBy}".`,
    );
    this.objects = objects;
    this.heldBy = heldBy;
  }
}

/** The manager is stopping or stopped, or was never started, and takes no new work. */
export class ManagerStoppedError extends StablehandError {
  /** Says why no work is taken. */
  constructor(message = 'The task manager is stopped and takes no new work.') {
    super('MANAGER_STOPPED', message);
  }
}

/** The record store could not durably write a record (database down, disk full). */
export class StoreUnavailableError extends StablehandError {
  /** Keeps the database error as its `cause`. */
  constructor(message: string, cause?: unknown) {
    super('STORE_UNAVAILABLE', message, { cause });
  }
}

/**
 * The runner could not take a task (its queue engine is down or did not answer in time). The
 * task's record is FAILED "Could not be queued", so it never runs; launching again may work.
 */
export class QueueUnavailableError extends StablehandError {
  /** Keeps the runner's error as its `cause`. */
  constructor(message: string, cause?: unknown) {
    super('QUEUE_UNAVAILABLE', message, { cause });
  }
}
