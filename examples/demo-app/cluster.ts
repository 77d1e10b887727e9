/**
 * The demo's cluster mode (`npm run demo:cluster`): one web process and two workers, sharing a
 * PostgreSQL database and a BullMQ queue on Redis. DATABASE_URL and REDIS_URL default to the
 * services of this project's machines; PORT (3000) is the web process's. Ctrl-C stops all three,
 * each letting its running routines finish.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const env = {
  ...process.env,
  DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
};

function start(name: string, script: string, extra: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, script)], { env: { ...env, INSTANCE_ID: name, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line) console.log(`[${name}] ${line}`);
    });
  }
  return child;
}

const children = [
  start('web', 'server.ts'),
  start('worker-1', 'worker.ts'),
  start('worker-2', 'worker.ts'),
];
let stopping = false;
for (const child of children) {
  child.once('exit', (code) => {
    if (!stopping) {
      console.log(`a process of the cluster exited (code ${code ?? 'null'}); stopping the others`);
      stop('SIGTERM');
    }
  });
}

function stop(signal: NodeJS.Signals): void {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill(signal);
}
process.on('SIGINT', () => stop('SIGTERM'));
process.on('SIGTERM', () => stop('SIGTERM'));
await Promise.all(children.map((child) => new Promise((resolve) => {
  if (child.exitCode !== null) resolve(null);
  else child.once('exit', resolve);
})));
