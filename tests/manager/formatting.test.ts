import { describe, expect, it } from 'vitest';
import { defaultFormatAffected, defaultFormatPayload, defaultFormatUser, toJsonValue } from '../../src/index.js';
import { newTaskId } from '../../src/manager/task-id.js';

describe('default formatters', () => {
  it('labels users by name-like field, id or string form, and anonymous users as Anonymous', () => {
    expect(defaultFormatUser(undefined)).toBe('Anonymous');
    expect(defaultFormatUser(null)).toBe('Anonymous');
    expect(defaultFormatUser('') ).toBe('Anonymous');
    expect(defaultFormatUser('ann')).toBe('ann');
    expect(defaultFormatUser({ username: 'bob', email: 'b@x' })).toBe('bob');
    expect(defaultFormatUser({ email: 'c@example.com' })).toBe('c@example.com');
    expect(defaultFormatUser({ id: 42 })).toBe('42');
    expect(defaultFormatUser(7)).toBe('7');
  });

  it('joins affected objects, whatever shape they come in', () => {
    expect(defaultFormatAffected(undefined)).toBeNull();
    expect(defaultFormatAffected([])).toBeNull();
    expect(defaultFormatAffected('order:1')).toBe('order:1');
    expect(defaultFormatAffected([1, 'b', { id: 3 }, { name: 'Dobbin' }])).toBe('1, b, 3, Dobbin');
    expect(defaultFormatAffected(new Set(['x', 'y']))).toBe('x, y');
  });

  it('makes payloads JSON-safe without throwing', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(defaultFormatPayload(cyclic)).toEqual({ a: 1, self: '[Circular]' });
    expect(toJsonValue({
      when: new Date('2026-01-02T03:04:05.000Z'), big: 10n, nan: Number.NaN, err: new Error('nope'),
      map: new Map([['k', 1]]), set: new Set([1, 2]), fn: () => 1, undef: undefined, nested: [undefined, () => 1],
    })).toEqual({ when: '2026-01-02T03:04:05.000Z', big: '10', nan: null, err: 'nope', map: { k: 1 }, set: [1, 2], nested: [null, null] });
    expect(toJsonValue({ toJSON: () => ({ custom: true }) })).toEqual({ custom: true });
  });
});

describe('task ids', () => {
  it('are UUID version 7 strings that sort by creation, even within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => newTaskId(1_700_000_000_000));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    const later = newTaskId(1_700_000_000_000 + 60_000);
    expect(later > ids[ids.length - 1]).toBe(true);
    expect(Number.parseInt(later.replaceAll('-', '').slice(0, 12), 16)).toBe(1_700_000_060_000);
  });
});
