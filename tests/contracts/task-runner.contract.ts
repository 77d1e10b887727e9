import { afterEach, describe, expect, it } from 'vitest';
import type { JobExecutor, JobOutcome, TaskJob, TaskRunner } from '../../src/index.js';
import { deferred, waitFor } from '../helpers/wait.js';

/** A runner under test. */
export interface RunnerFixture {
  name: string;
  /** A new runner that runs at most `concurrency` jobs at once. */
  create(concurrency: number): TaskRunner;
  /** Whether `stop()` hands back the queued jobs it dropped (a distributed runner leaves them queued for others). */
  dropsQueuedOnStop: boolean;
}

function job(n: number): TaskJob {
  return { id: `job-${String(n).padStart(4, '0')}`, taskName: 'kind', input: { n, tags: ['a', 'ü'], nested: { ok: true } } };
}

/** An executor whose jobs each wait until the test releases them. */
function gatedExecutor() {
  const gates = new Map<string, { resolve(): void }>();
  const seen: TaskJob[] = [];
  let running = 0;
  let peak = 0;
  const execute: JobExecutor = async (given) => {
    seen.push(given);
    running++;
    peak = Math.max(peak, running);
    const gate = deferred();
    gates.set(given.id, gate);
    await gate.promise;
    running--;
  };
  return {
    execute, seen, gates,
    get running() { return running; },
    get peak() { return peak; },
    release(id: string) { gates.get(id)?.resolve(); },
    releaseAll() { for (const gate of gates.values()) gate.resolve(); },
  };
}

/**
 * What every {@link TaskRunner} must do. The manager gives each job's life to the runner only
 * between `enqueue` and the moment it calls `execute`; everything else is the manager's.
 */
export function taskRunnerContract(fixture: RunnerFixture): void {
  describe(`TaskRunner contract: ${fixture.name}`, () => {
    const runners: TaskRunner[] = [];
    const executors: ReturnType<typeof gatedExecutor>[] = [];
    afterEach(async () => {
      for (const executor of executors.splice(0)) executor.releaseAll();
      for (const runner of runners.splice(0)) await runner.stop();
    });
    function setup(concurrency: number) {
      const runner = fixture.create(concurrency);
      const executor = gatedExecutor();
      runners.push(runner);
      executors.push(executor);
      return { runner, executor };
    }

    it('runs every job once, with its JSON fields, at most `concurrency` at a time', async () => {
      const { runner, executor } = setup(3);
      await runner.start(executor.execute);
      for (let n = 0; n < 20; n++) await runner.enqueue(job(n));
      await waitFor(() => executor.running === 3, 5_000, 'three jobs to run');
      while (executor.seen.length < 20) {
        const open = executor.seen.find((given) => executor.gates.has(given.id));
        if (open) {
          executor.release(open.id);
          executor.gates.delete(open.id);
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      executor.releaseAll();
      expect(executor.peak).toBe(3);
      expect(executor.seen.map((given) => given.id).sort()).toEqual(Array.from({ length: 20 }, (_, n) => job(n).id));
      expect(executor.seen.find((given) => given.id === job(7).id)).toEqual(job(7));
    });

    it('keeps jobs enqueued before start() until it starts', async () => {
      const { runner, executor } = setup(2);
      await runner.enqueue(job(1));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(executor.seen).toEqual([]);
      await runner.start(executor.execute);
      await waitFor(() => executor.seen.length === 1, 5_000, 'the early job to run');
    });

    it('frees a slot only when the job it ran settles', async () => {
      const { runner, executor } = setup(1);
      await runner.start(executor.execute);
      await runner.enqueue(job(1));
      await runner.enqueue(job(2));
      await waitFor(() => executor.seen.length === 1, 5_000, 'the first job');
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(executor.seen).toHaveLength(1);
      executor.release(job(1).id);
      await waitFor(() => executor.seen.length === 2, 5_000, 'the second job');
    });

    it('removes a job that has not started, which then never runs; a started or unknown one is not removed', async () => {
      const { runner, executor } = setup(1);
      await runner.start(executor.execute);
      await runner.enqueue(job(1));
      await waitFor(() => executor.seen.length === 1, 5_000, 'the first job');
      await runner.enqueue(job(2));
      await runner.enqueue(job(3));
      expect(await runner.remove(job(2).id)).toBe(true);
      expect(await runner.remove(job(2).id)).toBe(false);
      expect(await runner.remove(job(1).id)).toBe(false);
      expect(await runner.remove('no-such-job')).toBe(false);
      executor.release(job(1).id);
      await waitFor(() => executor.seen.length === 2, 5_000, 'the third job');
      executor.release(job(3).id);
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(executor.seen.map((given) => given.id)).toEqual([job(1).id, job(3).id]);
    });

    it('runs a job again after the delay its run asked for; a job waiting to run again can be removed', async () => {
      const runner = fixture.create(2);
      runners.push(runner);
      const runs: { id: string; at: number }[] = [];
      // job 1 asks to run again after 400 ms once; job 2 asks after 60 s, and is removed meanwhile.
      const plans = new Map<string, (JobOutcome | undefined)[]>([[job(1).id, [{ retryInMs: 400 }]], [job(2).id, [{ retryInMs: 60_000 }]]]);
      await runner.start((given) => {
        runs.push({ id: given.id, at: Date.now() });
        return Promise.resolve(plans.get(given.id)?.shift());
      });
      await runner.enqueue(job(1));
      await runner.enqueue(job(2));
      await waitFor(() => runs.filter((run) => run.id === job(1).id).length === 2, 10_000, 'job 1 to run again');
      const [first, second] = runs.filter((run) => run.id === job(1).id);
      // A delay is kept, give or take a timer's slack: never run again at once.
      expect(second.at - first.at).toBeGreaterThanOrEqual(350);
      expect(await runner.remove(job(2).id)).toBe(true);
      await runner.enqueue(job(3));
      await waitFor(() => runs.some((run) => run.id === job(3).id), 5_000, 'a later job');
      expect(runs.filter((run) => run.id === job(2).id)).toHaveLength(1);
      // A job waiting to run again is a queued job: a runner that drops those on stop says so.
      plans.set(job(4).id, [{ retryInMs: 60_000 }]);
      await runner.enqueue(job(4));
      await waitFor(() => runs.some((run) => run.id === job(4).id), 5_000, 'job 4');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await runner.stop()).toEqual(fixture.dropsQueuedOnStop ? [job(4).id] : []);
    });

    it('starts nothing after stop(), and says which queued jobs it dropped', async () => {
      const { runner, executor } = setup(1);
      await runner.start(executor.execute);
      for (let n = 1; n <= 4; n++) await runner.enqueue(job(n));
      await waitFor(() => executor.seen.length === 1, 5_000, 'the first job');
      const dropped = await runner.stop();
      executor.releaseAll();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(executor.seen.map((given) => given.id)).toEqual([job(1).id]);
      expect(dropped).toEqual(fixture.dropsQueuedOnStop ? [job(2).id, job(3).id, job(4).id] : []);
    });
  });
}
