import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/instance.ts', import.meta.url));

/** What an instance reported. */
export interface InstanceEvent {
  event: string;
  id?: string;
  [key: string]: unknown;
}

/** A child process running tests/fixtures/instance.ts: one app instance on a shared database. */
export class Instance {
  readonly events: InstanceEvent[] = [];
  private readonly child: ChildProcess;
  private exited = false;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
      env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.child.once('exit', () => {
      this.exited = true;
    });
    const stdout = this.child.stdout;
    if (stdout) {
      createInterface({ input: stdout }).on('line', (line) => {
        try {
          this.events.push(JSON.parse(line) as InstanceEvent);
        } catch {
          this.events.push({ event: 'output', line });
        }
      });
    }
  }

  /** The child's process id. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Sends one command. */
  send(command: Record<string, unknown>): void {
    this.child.stdin?.write(`${JSON.stringify(command)}\n`);
  }

  /** The first event matching `match`, once it arrives. */
  next(match: (event: InstanceEvent) => boolean, timeoutMs = 15_000, what = 'an event'): Promise<InstanceEvent> {
    return waitFor(() => this.events.find(match), timeoutMs, what);
  }

  /**
   * Launches `n` held tasks and resolves with their ids once each has started; `kind` 'hold' runs
   * once, 'hold-twice' has two attempts.
   */
  async launch(n: number, kind: 'hold' | 'hold-twice' = 'hold'): Promise<string[]> {
    const before = this.events.filter((e) => e.event === 'launched').length;
    this.send({ cmd: 'launch', n, kind });
    const launched = await waitFor(() => {
      const all = this.events.filter((e) => e.event === 'launched');
      return all.length >= before + n ? all.slice(before).map((e) => e.id ?? '') : null;
    }, 15_000, `${n} launches`);
    for (const id of launched) await this.next((e) => e.event === 'started' && e.id === id, 15_000, `task ${id} to start`);
    return launched;
  }

  /** Whether a log line containing `text` was reported. */
  logged(text: string): boolean {
    return this.events.some((e) => e.event === 'log' && String(e.message).includes(text));
  }

  /** Sends a signal (SIGKILL, SIGSTOP, SIGCONT...). */
  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Stops the instance gracefully, or kills it when it does not answer. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.send({ cmd: 'stop' });
    try {
      await waitFor(() => this.exited, 10_000, 'the instance to exit');
    } catch {
      this.child.kill('SIGKILL');
    }
  }

  /** Waits for the process to have exited (after a SIGKILL). */
  async gone(): Promise<void> {
    await waitFor(() => this.exited, 10_000, 'the instance to exit');
  }
}

/** Starts an instance and waits until its manager has started. */
export async function startInstance(env: Record<string, string>): Promise<Instance> {
  const instance = new Instance(env);
  await instance.next((e) => e.event === 'ready', 30_000, 'the instance to start');
  return instance;
}
