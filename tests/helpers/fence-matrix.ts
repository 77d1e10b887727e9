import { expect } from 'vitest';
import type { RecordPatch, RecordStore, TaskRecord } from '../../src/index.js';
import { changeMayLand } from '../../src/core/write-fence.js';

/** One record and the change made to it, fenced by `owner`, with its cleanup mark or not. */
export interface FenceCase {
  before: TaskRecord;
  patch: () => RecordPatch;
  owner: string | undefined;
  cleanup: boolean;
}

/**
 * Every state a fenced change can meet (held here, held elsewhere, unheld; PENDING, RUNNING,
 * ended) crossed with every kind of change (an owned progress report, a claim, an unfenced cancel
 * request, an owned end with its cleanup mark), `copies` times: 32 cases a copy, in four shapes.
 */
export function fenceMatrix(record: (fields: Partial<TaskRecord>) => TaskRecord, at: (offsetMs: number) => Date, copies: number): FenceCase[] {
  const states: Partial<TaskRecord>[] = [
    { owner: 'w1', heartbeatAt: at(10) }, { owner: 'w2', heartbeatAt: at(10) }, {},
    { status: 'RUNNING', owner: 'w1', heartbeatAt: at(10) }, { status: 'RUNNING', owner: 'w2', heartbeatAt: at(10) }, { status: 'RUNNING' },
    { status: 'DONE', owner: 'w1' }, { status: 'FAILED' },
  ];
  const changes: Omit<FenceCase, 'before'>[] = [
    { patch: () => ({ progress: 40, message: 'Half way', updatedAt: at(2000) }), owner: 'w1', cleanup: false },
    { patch: () => ({ owner: 'w1', heartbeatAt: at(3000), status: 'RUNNING', startedAt: at(3000), updatedAt: at(3000) }), owner: 'w1', cleanup: false },
    { patch: () => ({ cancelRequestedAt: at(4000), cancelRequestedBy: 'bob' }), owner: undefined, cleanup: false },
    {
      patch: () => ({ status: 'DONE', result: { rows: [1, 2], note: 'ünïcödé' }, completedAt: at(5000), updatedAt: at(5000), duration: 1.25 }),
      owner: 'w1', cleanup: true,
    },
  ];
  const cases: FenceCase[] = [];
  for (let copy = 0; copy < copies; copy++) {
    for (const state of states) for (const change of changes) cases.push({ before: record(state), ...change });
  }
  return cases;
}

/** Makes every change of `cases` (with its cleanup mark at `cleanedAt`) in one flush. */
export async function applyFenceMatrix(store: RecordStore, cases: readonly FenceCase[], cleanedAt: Date): Promise<void> {
  for (const { before, patch, owner, cleanup } of cases) {
    store.update(before.id, patch(), owner);
    if (cleanup) store.markCleanedUp(before.id, cleanedAt, false);
  }
  await store.flush();
}

/** Checks that each change landed exactly where its fence held, and nowhere else. */
export async function expectFenceOutcomes(store: RecordStore, cases: readonly FenceCase[], cleanedAt: Date): Promise<void> {
  for (const { before, patch, owner, cleanup } of cases) {
    const change = patch();
    const expected = changeMayLand(before, change, owner) ? { ...before, ...change } : { ...before };
    if (cleanup) Object.assign(expected, { cleanedUp: true, updatedAt: cleanedAt });
    expect(await store.get(before.id)).toEqual(expected);
  }
}
