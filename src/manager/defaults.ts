/**
 * The one place the engine names concrete adapters: what a {@link TaskManager} uses when the host
 * gives no store or runner. Everything else in `manager/` knows only the ports; the layer rules
 * (`.dependency-cruiser.cjs`) allow this file, and only this file, to import adapters.
 */
import { InProcessRunner } from '../adapters/in-process/in-process-runner.js';
import { MemoryRecordStore } from '../adapters/memory/memory-record-store.js';
import type { RecordStore } from '../ports/record-store.js';
import type { TaskRunner } from '../ports/task-runner.js';

/** The default runner: this process, `concurrency` jobs at a time. */
export function defaultRunner(concurrency: number): TaskRunner {
  return new InProcessRunner({ concurrency });
}

/** The default store: this process's memory. */
export function defaultStore(): RecordStore {
  return new MemoryRecordStore();
}
