import type { ActiveTask } from './active-task.js';
import { InvalidInputError } from '../core/errors.js';
import { assertJson } from '../core/json.js';
import type { JsonValue, ProgressPayload, TaskContext } from '../core/types.js';

/**
 * Coalesces a task's progress reports: the first one is written at once, later ones at most once
 * per interval, always with the latest value, and {@link ProgressReporter.flush} writes whatever
 * is still waiting before the terminal status.
 */
export class ProgressReporter {
  constructor(
    private readonly intervalMs: number,
    private readonly write: (task: ActiveTask) => void,
  ) {}

  /** The context handed to a task's handler. */
  context(task: ActiveTask, input: JsonValue | undefined): TaskContext {
    return new HandlerContext(task, input, this);
  }

  /** Writes a waiting report now. */
  flush(task: ActiveTask): void {
    if (task.progressTimer) {
      clearTimeout(task.progressTimer);
      task.progressTimer = null;
    }
    if (task.pendingProgress) this.write(task);
  }

  /** Takes one progress report from a handler. */
  report(task: ActiveTask, value: number | ProgressPayload, message: string | undefined): void {
    if (message !== undefined && typeof message !== 'string') throw new InvalidInputError('A progress message must be a string.');
    let percent: number | null;
    let payload: ProgressPayload | undefined;
    // Typed as a number or a payload, but a JavaScript handler may pass anything (null, say).
    const given: unknown = value;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new InvalidInputError(`progress must be a finite number from 0 to 100; got ${value}.`);
      percent = clampPercent(value);
    } else if (given !== null && typeof given === 'object' && !Array.isArray(given)) {
      assertJson(value, 'progress');
      if (value.percent !== undefined && (typeof value.percent !== 'number' || !Number.isFinite(value.percent))) {
        throw new InvalidInputError('progress.percent must be a finite number from 0 to 100.');
      }
      if (value.message !== undefined && typeof value.message !== 'string') throw new InvalidInputError('progress.message must be a string.');
      payload = value;
      percent = value.percent === undefined ? null : clampPercent(value.percent);
      message ??= value.message;
    } else {
      throw new InvalidInputError('progress takes a number from 0 to 100 or an object with a percent.');
    }
    if (task.status !== 'RUNNING') return;
    const previous = task.pendingProgress;
    // A report without a percent or message keeps the ones before it instead of blanking them.
    percent ??= previous ? previous.percent : task.lastPercent;
    task.lastPercent = percent;
    task.pendingProgress = { percent, payload, message: message ?? previous?.message };
    if (task.progressTimer) return;
    const now = performance.now();
    const wait = task.lastProgressWrite + this.intervalMs - now;
    if (wait <= 0) {
      task.lastProgressWrite = now;
      this.write(task);
    } else {
      this.writeLater(task, wait);
    }
  }

  // Apart from report(), which would otherwise pay for this closure's context on every call.
  private writeLater(task: ActiveTask, wait: number): void {
    task.progressTimer = setTimeout(() => {
      task.progressTimer = null;
      task.lastProgressWrite = performance.now();
      this.write(task);
    }, wait);
  }
}

/** A class rather than an object literal: its methods and getter are shared, not made per task. */
class HandlerContext implements TaskContext {
  constructor(
    private readonly task: ActiveTask,
    readonly input: JsonValue | undefined,
    private readonly reporter: ProgressReporter,
  ) {
    this.progress = this.progress.bind(this);
  }

  get id(): string {
    return this.task.id;
  }

  get taskName(): string {
    return this.task.taskName;
  }

  get label(): string {
    return this.task.label;
  }

  get signal(): AbortSignal {
    return this.task.signal;
  }

  progress(value: number | ProgressPayload, message?: string): void {
    this.reporter.report(this.task, value, message);
  }
}

function clampPercent(value: number): number {
  return Math.min(100, Math.max(0, value));
}
