import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createTaskRouter } from '../../src/ui/create-task-router.js';
import type { TaskManager } from '../../src/manager/task-manager.js';
import type { TaskRouterKind } from '../../src/index.js';
import { csrfPoster, hostApp, useStartedManager, waitFor } from './helpers.js';

let manager: TaskManager;

useStartedManager((started) => ({ manager } = started));

const kinds: (string | TaskRouterKind)[] = [
  { kind: 'quick', input: { source: 'page' } },
  {
    kind: 'hold',
    fields: {
      region: { type: 'enum', label: 'Region', options: ['north', 'south'], required: true },
      limit: { type: 'number', label: 'Limit', min: 1, max: 500, integer: true },
      note: { type: 'string', label: 'Note <b>', maxLength: 20 },
      dryRun: { type: 'boolean', label: 'Dry run' },
    },
  },
];

describe('kinds with a fixed input or a form', () => {
  it('indexes a run under the objects its kind\'s affected function reads from the input', async () => {
    const withObjects: TaskRouterKind[] = [{
      kind: 'hold', fields: { region: { type: 'enum', options: ['north', 'south'], required: true } },
      affected: (input) => `region:${(input as { region: string }).region}`,
    }];
    const app = hostApp(manager, { kinds: withObjects });
    const post = await csrfPoster(app);
    const res = await post('/tasks/run/').send({ kind: 'hold', input: { region: 'south' } });
    expect(res.status).toBe(201);
    expect((await manager.listTasks({ affected: 'region:south' })).tasks.map((task) => task.id)).toEqual([res.body.id]);
    expect((await manager.listTasks({ affected: 'region:north' })).tasks).toEqual([]);
    expect(() => createTaskRouter(manager, { kinds: [{ kind: 'hold', affected: 'region:x' as never }] })).toThrow(/"affected" of "hold" must be a function/);
  });

  it('launches a kind with its fixed input, which the client cannot change', async () => {
    const app = hostApp(manager, { kinds });
    const post = await csrfPoster(app);
    const res = await post('/tasks/run/').send({ kind: 'quick' });
    expect(res.status).toBe(201);
    expect((await manager.getTask(res.body.id as string))?.input).toEqual({ source: 'page' });
    const changed = await post('/tasks/run/').send({ kind: 'quick', input: { source: 'me' } });
    expect(changed.status).toBe(400);
    expect(changed.body.error).toEqual({ code: 'INVALID_BODY', message: '"quick" takes no input from the page.' });
  });

  it('checks a form\'s values on the server, field by field, and launches with them', async () => {
    const app = hostApp(manager, { kinds });
    const post = await csrfPoster(app);
    const refusals: [unknown, string][] = [
      [{}, 'Region is required.'],
      [{ region: 'east' }, 'Region must be one of north, south.'],
      [{ region: 'north', limit: 0 }, 'Limit must be at least 1.'],
      [{ region: 'north', limit: 2.5 }, 'Limit must be a whole number.'],
      [{ region: 'north', limit: '5' }, 'Limit must be a number.'],
      [{ region: 'north', note: 'x'.repeat(21) }, 'Note <b> must be at most 20 characters.'],
      [{ region: 'north', dryRun: 'yes' }, 'Dry run must be true or false.'],
      [{ region: 'north', extra: 1 }, '"hold" has no field "extra".'],
      [['north'], '"input" must be an object of the form\'s fields.'],
    ];
    for (const [input, message] of refusals) {
      const res = await post('/tasks/run/').send({ kind: 'hold', input });
      expect(res.status, JSON.stringify(input)).toBe(400);
      expect(res.body.error, JSON.stringify(input)).toEqual({ code: 'INVALID_BODY', message });
    }
    expect((await post('/tasks/run/').send({ kind: 'hold', input: {}, other: 1 })).body.error.code).toBe('INVALID_BODY');
    // Nothing was launched by any of them.
    expect((await manager.listTasks()).tasks.filter((task) => task.taskName === 'hold')).toEqual([]);
    const res = await post('/tasks/run/').send({ kind: 'hold', input: { region: 'south', limit: 40, note: 'hi' } });
    expect(res.status).toBe(201);
    await waitFor(async () => (await manager.getTask(res.body.id as string)) !== null);
    expect((await manager.getTask(res.body.id as string))?.input).toEqual({ region: 'south', limit: 40, note: 'hi', dryRun: false });
  });

  it('renders each form with its controls, escaped, shown only for the chosen kind', async () => {
    const html = (await request(hostApp(manager, { kinds })).get('/tasks/').set('Accept', 'text/html')).text;
    expect(html).toContain('<fieldset class="sh-fields" data-kind="hold" hidden>');
    expect(html).toContain('<label for="sh-field-hold-note">Note &lt;b&gt;</label><input type="text" id="sh-field-hold-note" name="note" data-type="string" maxlength="20">');
    expect(html).toContain('<select id="sh-field-hold-region" name="region" data-type="enum" required><option>north</option><option>south</option></select>');
    expect(html).toContain('<input type="number" id="sh-field-hold-limit" name="limit" data-type="number" min="1" max="500" step="1">');
    expect(html).toContain('<input type="checkbox" id="sh-field-hold-dryRun" name="dryRun" data-type="boolean">');
  });

  it('refuses kinds entries that could not be forms when the router is built', () => {
    for (const bad of [
      [{ kind: 'x', input: 1, fields: {} }], [{ kind: '' }], [{ kind: 'x', colour: 1 }],
      [{ kind: 'x', fields: { 'a b': { type: 'string' } } }], [{ kind: 'x', fields: { a: { type: 'date' } } }],
      [{ kind: 'x', fields: { a: { type: 'enum', options: [] } } }], [42],
    ]) {
      expect(() => createTaskRouter(manager, { kinds: bad as never })).toThrow(/kinds/);
    }
  });
});
