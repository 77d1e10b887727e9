import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROUTINE_LABELS } from '../../examples/demo-app/routines.js';
import { tempDir } from '../helpers/data-sources.js';
import { waitFor } from '../helpers/wait.js';

interface Demo {
  child: ChildProcess;
  origin: string;
  output: () => string;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  return port;
}

/** Starts the demo app as `npm start` does (after the build), on its own port and database file. */
async function startDemo(env: Record<string, string>): Promise<Demo> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo-app/server.ts'], {
    env: { ...process.env, PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(() => output.includes('stablehand demo:') || child.exitCode !== null, 20_000, 'the demo to listen');
  if (child.exitCode !== null) throw new Error(`the demo exited: ${output}`);
  return { child, origin: `http://127.0.0.1:${port}`, output: () => output };
}

async function startRoutine(origin: string): Promise<{ id: string; label: string }> {
  const page = await fetch(`${origin}/tasks/`);
  const token = /stablehand_csrf=([^;]+)/.exec(page.headers.get('set-cookie') ?? '')![1];
  const response = await fetch(`${origin}/tasks/run/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: `stablehand_csrf=${token}`, 'x-csrf-token': token },
    body: JSON.stringify({ kind: 'stable-routine', input: { pony: 'Clover' } }),
  });
  expect(response.status).toBe(201);
  return response.json() as Promise<{ id: string; label: string }>;
}

async function task(origin: string, id: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${origin}/tasks/${id}/`, { headers: { accept: 'application/json' } });
  return response.json() as Promise<Record<string, unknown>>;
}

describe('the demo app', () => {
  const running: ChildProcess[] = [];
  afterEach(() => {
    for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('serves the masthead and runs routines that succeed and fail with stable-themed messages', async () => {
    const db = join(tempDir(), 'demo.db');
    const demo = await startDemo({ STABLEHAND_DB: db, DURATION_RANGE: '0.2,0.4', FAILURE_RATE: '0' });
    running.push(demo.child);
    const home = await (await fetch(`${demo.origin}/`)).text();
    expect(home).toContain('href="/tasks/">Stable Routines</a>');
    expect(home).toContain('aria-current="page">Home</a>');
    const tasksPage = await fetch(`${demo.origin}/tasks/`);
    const nonce = /'nonce-([^']+)'/.exec(tasksPage.headers.get('content-security-policy') ?? '')![1];
    const html = await tasksPage.text();
    expect(html).toContain('href="/tasks/" aria-current="page">Stable Routines</a>');
    expect(html).toContain(`<style nonce="${nonce}">`);
    expect(html.indexOf('demo-masthead')).toBeLessThan(html.indexOf('<h1>Stable Routines</h1>'));
    const { id, label } = await startRoutine(demo.origin);
    expect(ROUTINE_LABELS.map((routine) => `${routine} for Clover`)).toContain(label);
    const done = await waitFor(async () => ((await task(demo.origin, id)).status === 'DONE' ? task(demo.origin, id) : null), 10_000);
    expect(done).toMatchObject({ status: 'DONE', progress: 100, affected_keys: ['pony:Clover'] });
    // The pony's history lists it: the console's view by business object.
    const history = await (await fetch(`${demo.origin}/tasks/status/?affected=pony:Clover`)).json() as { tasks: { id: string }[] };
    expect(history.tasks.map((t) => t.id)).toEqual([id]);
    demo.child.kill('SIGTERM');
    const [code] = await once(demo.child, 'exit');
    expect(code).toBe(0);

    const failing = await startDemo({ STABLEHAND_DB: db, DURATION_RANGE: '0.2,0.3', FAILURE_RATE: '1' });
    running.push(failing.child);
    const doomed = await startRoutine(failing.origin);
    const failed = await waitFor(async () => ((await task(failing.origin, doomed.id)).status === 'FAILED' ? task(failing.origin, doomed.id) : null), 10_000);
    expect(String(failed.result ?? failed.error)).toMatch(/pony|ladder|polish|paddock/i);
    await waitFor(() => failing.output().includes(`routine "${doomed.label}" (${doomed.id}) failed`), 5_000, 'the onLifecycle log line');
  }, 60_000);

  it('shows a routine killed mid-run as abandoned after a restart, never stuck running', async () => {
    const db = join(tempDir(), 'demo.db');
    const first = await startDemo({ STABLEHAND_DB: db, DURATION_RANGE: '30,30', FAILURE_RATE: '0' });
    running.push(first.child);
    const { id } = await startRoutine(first.origin);
    await waitFor(async () => (await task(first.origin, id)).status === 'RUNNING', 10_000, 'the routine to run');
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');

    const second = await startDemo({ STABLEHAND_DB: db, FAILURE_RATE: '0' });
    running.push(second.child);
    expect(await task(second.origin, id)).toMatchObject({ status: 'FAILED', message: 'Abandoned — app restarted' });
    const status = await (await fetch(`${second.origin}/tasks/status/?status=RUNNING,PENDING`)).json() as { tasks: unknown[] };
    expect(status.tasks).toEqual([]);
  }, 60_000);
});
