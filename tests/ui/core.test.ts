import { Script, runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/core/record.js';
import { csrfCookie, isSignedCsrfToken, issueCsrfToken, readCookie, verifyCsrfPair } from '../../src/ui/csrf.js';
import { escapeHtml, jsonForScript, normaliseBasePath } from '../../src/ui/escape.js';
import { etagFor, ifNoneMatchHits } from '../../src/ui/etag.js';
import { PAGE_SCRIPT } from '../../src/ui/page-script.js';
import { PAGE_STYLES } from '../../src/ui/page-styles.js';
import { parseByteSize } from '../../src/ui/router-options.js';
import {
  CLIENT_FORMAT, STATUS_LOOK, detailFields, formatAgo, formatMeta, formatSeconds, formatWho, formatWorker, lookOfTask, toDisplayText,
} from '../../src/ui/task-format.js';
import { toTaskDetail, toTaskSummary } from '../../src/ui/task-view.js';

function record(patch: Partial<TaskRecord>): TaskRecord {
  return {
    id: 't1', taskName: 'quick', label: 'Brushing parade manes', status: 'PENDING', message: null, progress: null,
    user: null, affected: null, input: null, result: null, error: null, cleanedUp: false,
    createdAt: new Date('2026-03-30T14:22:01.000Z'), startedAt: null, updatedAt: null, completedAt: null,
    failedAt: null, duration: null, owner: null, heartbeatAt: null, cancelRequestedAt: null, cancelRequestedBy: null, attempt: null, maxAttempts: null, retryAt: null, attemptErrors: null,
        retryOf: null, retriedAs: null, retriedBy: null, retriedAt: null, milestones: null, ...patch,
  };
}

describe('escaping', () => {
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
  });

  it('makes JSON safe for a script data block and keeps its value', () => {
    const value = { text: '</script><!-- \u2028 \u2029 & >', nested: ['</SCRIPT >'] };
    const json = jsonForScript(value);
    expect(json).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(json)).toEqual(value);
  });

  it('renders JSON values as text', () => {
    expect(toDisplayText('plain')).toBe('plain');
    expect(toDisplayText({ stalls: 4 })).toBe('{"stalls":4}');
    expect(toDisplayText(null)).toBe('');
  });

  it.each([
    ['', ''],
    ['/tasks', '/tasks'],
    ['/tasks/', '/tasks'],
    ['//evil.example/tasks', '/evil.example/tasks'],
    ['/a;b,c d', '/a%3Bb%2Cc%20d'],
    ['/caf\u00e9', '/caf%C3%A9'],
    ['/x\ud800', '/x%EF%BF%BD'],
  ])('normalises the base path %j to %j', (input, expected) => {
    expect(normaliseBasePath(input)).toBe(expected);
  });
});

describe('CSRF tokens', () => {
  const secret = 'k'.repeat(32);

  it('verifies a signed pair and refuses tampering', () => {
    const token = issueCsrfToken(secret);
    expect(isSignedCsrfToken(token, secret)).toBe(true);
    expect(verifyCsrfPair(token, token, secret)).toBe(true);
    expect(verifyCsrfPair(token, issueCsrfToken(secret), secret)).toBe(false);
    expect(verifyCsrfPair(token, token, 'other'.repeat(8))).toBe(false);
    const [nonce] = token.split('.');
    const tampered = `${nonce}x.${token.split('.')[1]}`;
    expect(verifyCsrfPair(tampered, tampered, secret)).toBe(false);
    expect(verifyCsrfPair(undefined, token, secret)).toBe(false);
    expect(verifyCsrfPair(token, undefined, secret)).toBe(false);
    expect(isSignedCsrfToken('no-dot', secret)).toBe(false);
  });

  it('reads cookies and writes a strict, HttpOnly, path-scoped one', () => {
    expect(readCookie('a=1; stablehand_csrf=abc.def; b=2', 'stablehand_csrf')).toBe('abc.def');
    expect(readCookie('stablehand_csrf="abc.def"', 'stablehand_csrf')).toBe('abc.def');
    expect(readCookie('other=1', 'stablehand_csrf')).toBeUndefined();
    expect(readCookie(undefined, 'x')).toBeUndefined();
    expect(csrfCookie('c', 't', '/tasks', false)).toBe('c=t; Path=/tasks; SameSite=Strict; HttpOnly');
    expect(csrfCookie('c', 't', '/', true)).toBe('c=t; Path=/; SameSite=Strict; HttpOnly; Secure');
  });
});

describe('ETag', () => {
  it('is stable per body and matched weakly', () => {
    const tag = etagFor('{"tasks":[]}');
    expect(etagFor('{"tasks":[]}')).toBe(tag);
    expect(etagFor('{"tasks":[1]}')).not.toBe(tag);
    expect(ifNoneMatchHits(tag, tag)).toBe(true);
    expect(ifNoneMatchHits(`W/${tag}`, tag)).toBe(true);
    expect(ifNoneMatchHits(`"a", ${tag}`, tag)).toBe(true);
    expect(ifNoneMatchHits('*', tag)).toBe(true);
    expect(ifNoneMatchHits('"a"', tag)).toBe(false);
    expect(ifNoneMatchHits(undefined, tag)).toBe(false);
  });
});

describe('option parsing', () => {
  it.each<[number | string, number | null]>([
    [512, 512], ['4kb', 4096], ['1.5 KB', 1536], ['2mb', 2 * 1024 * 1024], ['10', 10],
    [0, null], [-1, null], [1.5, null], ['', null], ['4 kilobytes', null], ['0kb', null],
  ])('parses the body limit %j as %j', (input, expected) => {
    expect(parseByteSize(input)).toBe(expected);
  });
});

describe('JSON shaping', () => {
  it('uses the error as the result of a failed task and dates as ISO UTC', () => {
    const failed = toTaskSummary(record({
      status: 'FAILED', error: 'The brass polish ran out', message: 'The brass polish ran out',
      startedAt: new Date('2026-03-30T14:22:02.000Z'), completedAt: new Date('2026-03-30T14:22:08.250Z'), duration: 6.2504,
    }));
    expect(failed).toEqual({
      id: 't1', label: 'Brushing parade manes', status: 'FAILED', result: 'The brass polish ran out', duration: 6.25,
      created_at: '2026-03-30T14:22:01.000Z', started_at: '2026-03-30T14:22:02.000Z',
      completed_at: '2026-03-30T14:22:08.250Z', progress: null, message: 'The brass polish ran out',
      owner: null, heartbeat_at: null, cancel_requested_at: null, user: null, affected: null, attempt: null, max_attempts: null, retry_at: null,
      retry_of: null, retried_as: null,
    });
  });

  it('reads the percentage from a number or a payload object, clamped', () => {
    expect(toTaskSummary(record({ progress: 42.5 })).progress).toBe(42.5);
    expect(toTaskSummary(record({ progress: { percent: 130, tins: 4 } })).progress).toBe(100);
    expect(toTaskSummary(record({ progress: { tins: 4 } })).progress).toBeNull();
    expect(toTaskSummary(record({ progress: 'half' })).progress).toBeNull();
  });

  it('falls back for missing labels and unreadable dates, and omits the input from details', () => {
    const detail = toTaskDetail(record({ label: null, createdAt: new Date('nope'), input: { secret: 'x' }, failedAt: null }));
    expect(detail.label).toBe('quick');
    expect(detail.created_at).toBeNull();
    expect(detail).not.toHaveProperty('input');
    expect(toTaskSummary(record({ label: null, taskName: null })).label).toBe('t1');
  });
});

describe('who and what', () => {
  it('shows who launched a task and what it works on in one short line', () => {
    expect(formatWho(toTaskSummary(record({ user: 'ann', affected: 'order:1, order:2' })))).toBe('ann \u00b7 order:1, order:2');
    expect(formatWho(toTaskSummary(record({ user: null, affected: ['a', 'b'] })))).toBe('["a","b"]');
    expect(formatWho(toTaskSummary(record({ user: null, affected: null })))).toBe('');
    const long = formatWho(toTaskSummary(record({ user: 'ann', affected: 'x'.repeat(300) })));
    expect(long).toHaveLength(140);
    expect(long.endsWith('\u2026')).toBe(true);
  });
});

describe('attempts', () => {
  const now = Date.parse('2026-03-30T14:22:13.000Z');
  const errors = [
    { attempt: 1, error: 'upstream said no', at: '2026-03-30T14:22:05.000Z' },
    { attempt: 2, error: 'upstream <b>still</b> said no', at: '2026-03-30T14:22:09.000Z' },
  ];

  it('shows "Retrying in N s" between attempts, then "Retrying…" once due', () => {
    const waiting = toTaskSummary(record({
      status: 'PENDING', startedAt: new Date('2026-03-30T14:22:01.000Z'), attempt: 2, maxAttempts: 3,
      retryAt: new Date('2026-03-30T14:22:25.000Z'), attemptErrors: errors,
    }));
    expect(waiting).toMatchObject({ attempt: 2, max_attempts: 3, retry_at: '2026-03-30T14:22:25.000Z' });
    expect(lookOfTask(waiting).badge).toBe('Retrying');
    expect(formatMeta(waiting, now)).toBe('Retrying in 12 s');
    expect(formatMeta(waiting, now + 11_500)).toBe('Retrying in 1 s');
    expect(formatMeta(waiting, now + 12_000)).toBe('Retrying…');
    expect(lookOfTask({ ...waiting, cancel_requested_at: '2026-03-30T14:22:12.000Z' }).badge).toBe('Cancelling…');
    // Given back by a stopped worker: queued for the engine, with no backoff.
    expect(formatMeta({ ...waiting, retry_at: null }, now)).toBe('queued for attempt 3 of 3');
  });

  it('names the attempt of a running task, and lists each failed attempt in the detail view', () => {
    const running = toTaskDetail(record({
      status: 'RUNNING', startedAt: new Date('2026-03-30T14:22:10.000Z'), attempt: 3, maxAttempts: 3,
      retryAt: new Date('2026-03-30T14:22:09.000Z'), attemptErrors: [...errors, { attempt: 'x' } as never, 'junk' as never],
    }));
    expect(running.retry_at).toBeNull();
    expect(formatMeta(running, now)).toBe('3 s · attempt 3 of 3');
    expect(running.attempt_errors).toEqual(errors);
    const fields = detailFields(running);
    expect(fields.attempts).toBe('3 of 3');
    expect(fields.attempt_errors).toBe(
      '1: upstream said no (2026-03-30 14:22:05 UTC)\n2: upstream <b>still</b> said no (2026-03-30 14:22:09 UTC)',
    );
  });

  it('leaves a kind that runs once as it was', () => {
    const once = toTaskDetail(record({ status: 'DONE', attempt: 1, maxAttempts: 1, duration: 2, completedAt: new Date(now - 60_000) }));
    expect(once).toMatchObject({ attempt: null, max_attempts: null, retry_at: null, attempt_errors: [] });
    expect(formatMeta(once, now)).toBe('2.0 s · 1 min ago');
    expect(detailFields(once).attempts).toBe('—');
  });
});

describe('who runs a task', () => {
  const now = Date.parse('2026-03-30T14:22:13.000Z');
  const running = toTaskSummary(record({
    status: 'RUNNING', startedAt: new Date('2026-03-30T14:22:01.000Z'), owner: 'web-2:4121:9f3a0c',
    heartbeatAt: new Date('2026-03-30T14:22:10.000Z'),
  }));

  it('names the instance running a task and how fresh its heartbeat is, then "not responding"', () => {
    expect(running).toMatchObject({ owner: 'web-2:4121:9f3a0c', heartbeat_at: '2026-03-30T14:22:10.000Z', cancel_requested_at: null });
    expect(formatWorker(running, now, 30_000)).toBe('web-2:4121:9f3a0c · heartbeat just now');
    expect(formatWorker(running, now + 20_000, 30_000)).toBe('web-2:4121:9f3a0c · heartbeat 23 s ago');
    expect(formatWorker(running, now + 31_000, 30_000)).toBe('web-2:4121:9f3a0c · not responding');
    expect(formatWorker({ ...running, status: 'DONE' }, now, 30_000)).toBe('');
    expect(formatWorker({ ...running, owner: null }, now, 30_000)).toBe('');
  });

  it('reads "Cancelling…" while a cancel waits for the owner, and shows who asked in the detail', () => {
    const asked = toTaskDetail(record({
      status: 'RUNNING', cancelRequestedAt: new Date('2026-03-30T14:22:12.000Z'), cancelRequestedBy: 'Fluttershy', owner: 'web-2',
    }));
    expect(lookOfTask(asked)).toEqual({ modifier: 'running', badge: 'Cancelling…' });
    expect(lookOfTask({ ...asked, status: 'CANCELLED' })).toEqual(STATUS_LOOK.CANCELLED);
    expect(lookOfTask(running)).toEqual(STATUS_LOOK.RUNNING);
    expect(detailFields(asked)).toMatchObject({ owner: 'web-2', cancel_requested: 'Fluttershy, 2026-03-30 14:22:12 UTC' });
    expect(detailFields(toTaskDetail(record({})))).toMatchObject({ owner: '—', cancel_requested: '—' });
  });
});

describe('display formatting', () => {
  it('formats durations and relative times', () => {
    expect(formatSeconds(0.06)).toBe('< 0.1 s');
    expect(formatSeconds(6.25)).toBe('6.2 s');
    expect(formatSeconds(42.9)).toBe('42 s');
    expect(formatSeconds(125)).toBe('2 min 5 s');
    expect(formatSeconds(3720)).toBe('1 h 2 min');
    expect(formatAgo(2000)).toBe('just now');
    expect(formatAgo(12_000)).toBe('12 s ago');
    expect(formatAgo(3 * 60_000)).toBe('3 min ago');
    expect(formatAgo(2 * 3_600_000)).toBe('2 h ago');
    expect(formatAgo(4 * 86_400_000)).toBe('4 d ago');
  });

  it('builds the meta line of each state', () => {
    const base = toTaskSummary(record({}));
    const now = Date.parse('2026-03-30T14:22:13.500Z');
    expect(formatMeta({ ...base, status: 'PENDING' }, now)).toBe('queued');
    expect(formatMeta({ ...base, status: 'RUNNING', started_at: '2026-03-30T14:22:01.000Z' }, now)).toBe('12 s');
    expect(formatMeta({ ...base, status: 'DONE', duration: 6.2, completed_at: '2026-03-30T14:22:01.000Z' }, now + 180_000))
      .toBe('6.2 s · 3 min ago');
  });
});

describe('page assets', () => {
  it('ships a script that parses and uses no template literals or markup sinks', () => {
    expect(() => new Script(PAGE_SCRIPT)).not.toThrow();
    expect(PAGE_SCRIPT).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
  });

  it('gives the browser the very formatting functions the server renders with', () => {
    expect(PAGE_SCRIPT).toContain(CLIENT_FORMAT);
    const client = runInNewContext(CLIENT_FORMAT) as {
      lookOf(status: string): unknown; formatMeta(task: unknown, now: number): string; formatSeconds(s: number): string;
    };
    for (const [status, look] of Object.entries(STATUS_LOOK)) expect(client.lookOf(status)).toEqual(look);
    expect(client.lookOf('legacy')).toEqual(STATUS_LOOK.CANCELLED);
    const now = Date.parse('2026-03-30T14:22:13.000Z');
    const task = { status: 'DONE', duration: 6.2, completed_at: '2026-03-30T14:22:01.000Z', started_at: null, created_at: null };
    expect(client.formatMeta(task, now + 180_000)).toBe(formatMeta(task as never, now + 180_000));
    for (const seconds of [0.05, 6.23, 42, 125, 3725]) expect(client.formatSeconds(seconds)).toBe(formatSeconds(seconds));
  });

  it('stops pulsing under prefers-reduced-motion and has a dark scheme', () => {
    expect(PAGE_STYLES).toMatch(/@media \(prefers-reduced-motion: reduce\) \{\s*\.sh-ind--running \.sh-ring \{ animation: none; \}/);
    expect(PAGE_STYLES).toContain('@media (prefers-color-scheme: dark)');
    expect(PAGE_STYLES).not.toContain('url(');
    expect(PAGE_STYLES).not.toContain('@import');
  });
});
