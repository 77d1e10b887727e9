import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

const DATABASE_URL = process.env.STABLEHAND_TEST_POSTGRES_URL;
const REDIS_URL = process.env.STABLEHAND_TEST_REDIS_URL;
const skipReason = DATABASE_URL && REDIS_URL ? null
  : 'STABLEHAND_TEST_POSTGRES_URL and STABLEHAND_TEST_REDIS_URL are needed, so the demo cluster test is skipped';
if (skipReason) console.warn(`[stablehand tests] ${skipReason}`);

describe.skipIf(skipReason)('the demo in cluster mode: one web process, two workers, PostgreSQL and Redis', () => {
  let cluster: ChildProcess | null = null;
  let output = '';
  afterAll(async () => {
    if (cluster?.exitCode !== null) return;
    cluster.kill('SIGINT');
    await waitFor(() => cluster?.exitCode !== null, 20_000, 'the cluster to stop').catch(() => cluster?.kill('SIGKILL'));
  });

  it('launches routines on the web process and runs them on the workers, then stops every process on Ctrl-C', async () => {
    const port = await freePort();
    // As `npm run demo:cluster` runs it (after the build), with short routines that never fail.
    cluster = spawn(process.execPath, ['--import', 'tsx', 'examples/demo-app/cluster.ts'], {
      env: { ...process.env, PORT: String(port), DATABASE_URL, REDIS_URL, DURATION_RANGE: '0.2,0.4', FAILURE_RATE: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const child = cluster;
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => output.includes('[web] stablehand demo:') && (output.match(/taking routines/g) ?? []).length === 2, 60_000, 'the cluster to start');
    expect(output).toContain('routines run by workers on Redis');
    const origin = `http://127.0.0.1:${port}`;
    const page = await fetch(`${origin}/tasks/`);
    expect(await page.text()).toContain('<h1>Stable Routines</h1>');
    const token = /stablehand_csrf=([^;]+)/.exec(page.headers.get('set-cookie') ?? '')?.[1] ?? '';
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${origin}/tasks/run/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: `stablehand_csrf=${token}`, 'x-csrf-token': token },
        body: JSON.stringify({ kind: 'stable-routine', input: { pony: 'Clover' } }),
      });
      expect(response.status).toBe(201);
      ids.push(((await response.json()) as { id: string }).id);
    }
    const owners = new Set<string>();
    for (const id of ids) {
      const task = await waitFor(async () => {
        const found = (await (await fetch(`${origin}/tasks/${id}/`, { headers: { accept: 'application/json' } })).json()) as { status: string; owner: string };
        return found.status === 'DONE' ? found : null;
      }, 30_000, `routine ${id} to finish`);
      owners.add(task.owner);
    }
    // Only the workers run routines; the web process launches them.
    expect([...owners].every((owner) => owner === 'worker-1' || owner === 'worker-2')).toBe(true);
    child.kill('SIGINT');
    await waitFor(() => child.exitCode !== null, 30_000, 'the cluster to stop');
    expect(output).toMatch(/\[worker-1\].*stopped|got SIGTERM/);
  }, 120_000);
});
