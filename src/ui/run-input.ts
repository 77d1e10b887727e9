import type { JsonValue } from '../core/types.js';
import { TaskRouterHttpError } from './http-error.js';

/** One field of a kind's input form on the page, checked again on the server. */
export type TaskRouterField =
  | { type: 'string'; label?: string; required?: boolean; maxLength?: number }
  | { type: 'number'; label?: string; required?: boolean; min?: number; max?: number; integer?: boolean }
  | { type: 'boolean'; label?: string }
  | { type: 'enum'; label?: string; required?: boolean; options: readonly string[] };

/**
 * A kind the page may start, with what its runs get as input: a fixed `input` (the client cannot
 * change it), or `fields` the page asks for and the server checks; neither means no input.
 */
export interface TaskRouterKind {
  /** The kind, as given to `define()`. */
  kind: string;
  /** The input of every run started from the page. */
  input?: JsonValue;
  /** A small form: the input is an object of these fields, each checked before the launch. */
  fields?: Readonly<Record<string, TaskRouterField>>;
  /**
   * The objects a run started from the page works on, from its checked input (an order id field
   * → `order:42`): passed to `launch()` as `affected`, so the run is found in that object's history.
   */
  affected?: (input: JsonValue | undefined) => unknown;
}

/** A kind of the page as the router uses it. */
export interface OfferedKind {
  kind: string;
  input: JsonValue | undefined;
  fields: readonly (readonly [string, TaskRouterField])[] | null;
  affected: ((input: JsonValue | undefined) => unknown) | null;
}

const FIELD_TYPES: ReadonlySet<string> = new Set(['string', 'number', 'boolean', 'enum']);
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Checks one entry of the `kinds` option; `fail` throws the router's configuration error. */
export function resolveOfferedKind(value: unknown, fail: (message: string) => never): OfferedKind {
  if (typeof value === 'string' && value !== '') return { kind: value, input: undefined, fields: null, affected: null };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('kinds must contain kind names or { kind, input?, fields?, affected? } objects.');
  const { kind, input, fields, affected } = value as Partial<TaskRouterKind>;
  const extra = Object.keys(value).find((key) => !['kind', 'input', 'fields', 'affected'].includes(key));
  if (extra !== undefined) fail(`kinds: unknown key "${extra}"; the keys are kind, input, fields and affected.`);
  if (typeof kind !== 'string' || kind === '') fail('kinds: each entry needs a non-empty "kind".');
  if (input !== undefined && fields !== undefined) fail(`kinds: "${kind}" has both a fixed input and fields; give one.`);
  if (affected !== undefined && typeof affected !== 'function') fail(`kinds: "affected" of "${kind}" must be a function of the input.`);
  const affectedOf = affected ?? null;
  if (fields === undefined) return { kind, input, fields: null, affected: affectedOf };
  const givenFields: unknown = fields;
  if (givenFields === null || typeof givenFields !== 'object' || Array.isArray(givenFields)) fail(`kinds: the fields of "${kind}" must be an object of fields.`);
  const resolved: (readonly [string, TaskRouterField])[] = [];
  for (const [name, field] of Object.entries(fields)) {
    if (!FIELD_NAME.test(name)) fail(`kinds: field name "${name}" of "${kind}" must be a plain identifier.`);
    const type: unknown = (field as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !FIELD_TYPES.has(type)) fail(`kinds: field "${name}" of "${kind}" needs a type: string, number, boolean or enum.`);
    if (type === 'enum') {
      const options: unknown = (field as { options?: unknown }).options;
      if (!Array.isArray(options) || options.length === 0 || !options.every((option) => typeof option === 'string')) {
        fail(`kinds: enum field "${name}" of "${kind}" needs options, a non-empty list of texts.`);
      }
    }
    resolved.push([name, field]);
  }
  return { kind, input: undefined, fields: resolved, affected: affectedOf };
}

/**
 * The input a run of `offered` gets from the body's `input`: its fixed input, or the form's
 * values checked field by field (a 400 `INVALID_BODY` names the first wrong one).
 */
export function runInput(offered: OfferedKind, given: unknown): JsonValue | undefined {
  if (!offered.fields) {
    if (given !== undefined) throw invalid(`"${offered.kind}" takes no input from the page.`);
    return offered.input;
  }
  const values = given === undefined ? {} : given;
  if (values === null || typeof values !== 'object' || Array.isArray(values)) throw invalid('"input" must be an object of the form\'s fields.');
  const known = new Set(offered.fields.map(([name]) => name));
  const stray = Object.keys(values).find((name) => !known.has(name));
  if (stray !== undefined) throw invalid(`"${offered.kind}" has no field "${stray}".`);
  const input: Record<string, JsonValue> = {};
  for (const [name, field] of offered.fields) {
    const value: unknown = (values as Record<string, unknown>)[name];
    const label = field.label ?? name;
    if (value === undefined || value === '' || value === null) {
      if ('required' in field && field.required) throw invalid(`${label} is required.`);
      if (field.type === 'boolean') input[name] = false;
      continue;
    }
    input[name] = checkField(field, value, label);
  }
  return input;
}

function checkField(field: TaskRouterField, value: unknown, label: string): JsonValue {
  switch (field.type) {
    case 'string':
      if (typeof value !== 'string') throw invalid(`${label} must be a text.`);
      if (field.maxLength !== undefined && value.length > field.maxLength) throw invalid(`${label} must be at most ${field.maxLength} characters.`);
      return value;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`${label} must be a number.`);
      if (field.integer && !Number.isInteger(value)) throw invalid(`${label} must be a whole number.`);
      if (field.min !== undefined && value < field.min) throw invalid(`${label} must be at least ${field.min}.`);
      if (field.max !== undefined && value > field.max) throw invalid(`${label} must be at most ${field.max}.`);
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw invalid(`${label} must be true or false.`);
      return value;
    case 'enum':
      if (typeof value !== 'string' || !field.options.includes(value)) throw invalid(`${label} must be one of ${field.options.join(', ')}.`);
      return value;
  }
}

function invalid(message: string): TaskRouterHttpError {
  return new TaskRouterHttpError(400, 'INVALID_BODY', message);
}
