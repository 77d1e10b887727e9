import express from 'express';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { TaskManager, createTaskRouter, type JsonValue, type LaunchedTask } from '../../src/index.js';
import { recordingLogger } from '../helpers/wait.js';

interface Kinds {
  'export-orders': { since: string; limit?: number };
  'rebuild-index': undefined;
  'touch': { id: number } | undefined;
}

// The checks that matter here are the compiler's: `npm run typecheck` fails if an expected error
// below is not one any more, or if a correct call stops compiling.
describe('typed kinds', () => {
  it('types each handler\'s input by its kind, and checks kinds and inputs at launch', async () => {
    const tasks = new TaskManager<Kinds>({ logger: recordingLogger() });
    tasks.define('export-orders', {
      label: ({ since }) => `Export since ${since}`,
      run: ({ input }) => {
        expectTypeOf(input).toEqualTypeOf<{ since: string; limit?: number }>();
        return input.limit ?? 0;
      },
    });
    tasks.define('rebuild-index', { run: ({ input }) => expectTypeOf(input).toEqualTypeOf<undefined>() });
    tasks.define('touch', { run: () => null });
    // @ts-expect-error -- not a kind of this manager
    expect(() => tasks.define('unknown', { run: () => null })).not.toThrow();
    await tasks.start();
    try {
      expectTypeOf(await tasks.launch('export-orders', { since: '2026-01-01' })).toEqualTypeOf<LaunchedTask>();
      await tasks.launch('rebuild-index');
      await tasks.launch('touch');
      await tasks.launch('touch', { id: 7 }, { user: 'ann' });
      // @ts-expect-error -- this kind takes an input
      await expect(tasks.launch('export-orders')).resolves.toMatchObject({ status: 'PENDING' });
      // @ts-expect-error -- the input's keys are the kind's
      await tasks.launch('export-orders', { from: '2026-01-01' });
      // @ts-expect-error -- a kind the manager does not have
      await expect(tasks.launch('rebuild-all')).rejects.toMatchObject({ code: 'UNKNOWN_KIND' });
    } finally {
      await tasks.stop();
    }
  });

  it('keeps an untyped manager open to any kind and JSON input, and a typed one fits the router', () => {
    const untyped = new TaskManager();
    untyped.define('anything', { run: ({ input }) => expectTypeOf(input).toEqualTypeOf<JsonValue | undefined>() });
    const launchAnything = () => untyped.launch('anything', { any: ['json'] });
    expectTypeOf(launchAnything).returns.resolves.toEqualTypeOf<LaunchedTask>();
    const typed = new TaskManager<Kinds>();
    // @ts-expect-error -- inputs are JSON: a Date would not survive the record or the queue
    expect(new TaskManager<{ report: { when: Date } }>()).toBeInstanceOf(TaskManager);
    // A typed manager is still a manager the router can serve.
    express().use('/tasks', createTaskRouter(typed, { kinds: ['rebuild-index'] }));
  });
});
