import { join } from 'node:path';
import type { DataSource, ObjectLiteral } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StablehandTaskRecord, type StablehandTaskRow } from '../../src/index.js';
import { engines, tempDir, type Engine } from '../helpers/data-sources.js';
import { startInstance, type Instance } from '../helpers/instances.js';
import { suiteNamespace } from '../helpers/namespaces.js';
import { waitFor } from '../helpers/wait.js';

// Heartbeats every 100 ms, silence for 800 ms means gone: the real defaults are 5 s and 30 s.
const FAST = JSON.stringify({ heartbeatIntervalMs: 100, staleAfterMs: 800 });

/** The environment that points a child instance at the suite's database. */
function childEnv(engine: Engine, file: string): Record<string, string> {
  if (engine.name === 'sqlite') return { SH_DB: 'sqlite', SH_DB_FILE: file, SH_OPTIONS: FAST };
  const url = new URL(process.env[engine.name === 'postgres' ? 'STABLEHAND_TEST_POSTGRES_URL' : 'STABLEHAND_TEST_MYSQL_URL'] ?? '');
  if (engine.name === 'mysql') url.pathname = `/${suiteNamespace()}`;
  return { SH_DB: engine.name, SH_DB_URL: url.href, SH_DB_SCHEMA: suiteNamespace(), SH_OPTIONS: FAST };
}

for (const engine of engines) {
  describe.skipIf(engine.skipReason)(`several app instances on one ${engine.name} database`, () => {
    let dataSource: DataSource;
    let env: Record<string, string>;
    const instances: Instance[] = [];
    beforeAll(async () => {
      const file = join(tempDir(), 'shared.db');
      dataSource = await engine.open([], { file });
      env = childEnv(engine, file);
    });
    afterEach(async () => {
      for (const instance of instances.splice(0)) {
        instance.signal('SIGCONT');
        await instance.stop();
      }
    });
    afterAll(async () => {
      await dataSource.destroy();
    });

    async function start(): Promise<Instance> {
      const instance = await startInstance(env);
      instances.push(instance);
      return instance;
    }

    // Read as the host would, through TypeORM and the bundled entity.
    // (Typed loosely: TypeORM's find options cannot expand the row's recursive JSON type.)
    const read = async (id: string): Promise<Partial<StablehandTaskRow>> =>
      ((await dataSource.getRepository<ObjectLiteral>(StablehandTaskRecord).findOneBy({ id })) ?? {});

    it('restarting one instance never touches the tasks another runs, and a cancel reaches them', async () => {
      const a = await start();
      const [kept, cancelled] = await a.launch(2);
      const owner = (await read(kept)).owner;
      expect(owner).toMatch(new RegExp(`:${a.pid}:[0-9a-f]{6}$`));
      const b = await start();
      await b.stop();
      const again = await start();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      for (const id of [kept, cancelled]) expect(await read(id)).toMatchObject({ status: 'RUNNING', owner, progress: 10 });

      again.send({ cmd: 'cancel', id: cancelled });
      const answer = await again.next((e) => e.event === 'cancelled' && e.id === cancelled);
      expect(answer.result).toEqual({ id: cancelled, status: 'CANCELLING' });
      // The asker only records the request (its owner may have acknowledged it already, with a
      // heartbeat every 100 ms here); the owner ends it, aborting its handler for the cancel.
      expect(await read(cancelled)).toMatchObject({ status: expect.stringMatching(/^(RUNNING|CANCELLED)$/), cancelRequestedBy: `pid ${again.pid}`, owner });
      const aborted = await a.next((e) => e.event === 'aborted' && e.id === cancelled, 5_000, 'the owner to abort the cancelled handler');
      expect(aborted.reason).toBe('The task was cancelled');
      await waitFor(async () => (await read(cancelled)).status === 'CANCELLED', 5_000, 'CANCELLED to be recorded');

      a.send({ cmd: 'release', id: kept });
      await waitFor(async () => (await read(kept)).status === 'DONE', 5_000, 'the kept task to finish');
      expect(await read(kept)).toMatchObject({ result: { releasedBy: a.pid }, owner });
    });

    it('a restarted app fails its own unfinished tasks at once', async () => {
      const a = await start();
      const ids = await a.launch(2);
      a.signal('SIGKILL');
      await a.gone();
      await start();
      for (const id of ids) {
        expect(await read(id)).toMatchObject({ status: 'FAILED', error: 'Abandoned — app restarted', cleanedUp: true });
      }
    });

    it('takes back the tasks of a killed instance within the stale window', async () => {
      const a = await start();
      const watcher = await start();
      const [id] = await a.launch(1);
      a.signal('SIGKILL');
      await a.gone();
      const killedAt = Date.now();
      const record = await waitFor(async () => {
        const found = await read(id);
        return found.status === 'FAILED' ? found : null;
      }, 10_000, 'the task to be taken back');
      expect(Date.now() - killedAt).toBeLessThan(5_000);
      expect(record.error).toMatch(new RegExp(`^Worker .+:${a.pid}:[0-9a-f]{6} stopped responding \\(no heartbeat for \\d+ s\\)$`));
      await waitFor(() => watcher.logged(`task ${id} of`), 5_000, 'the watcher to log what it took back');
    });

    it('runs a killed instance\'s task again on a survivor when its kind has an attempt left', async () => {
      const a = await start();
      const survivor = await start();
      const [id] = await a.launch(1, 'hold-twice');
      // Its start is written (a start not yet written when a process dies is the next test's case).
      await waitFor(async () => (await read(id)).status === 'RUNNING', 5_000, 'the start to be written');
      a.signal('SIGKILL');
      await a.gone();
      await survivor.next((e) => e.event === 'started' && e.id === id, 10_000, 'the survivor to run the task again');
      const running = await waitFor(async () => {
        const found = await read(id);
        return found.status === 'RUNNING' ? found : null;
      }, 5_000, 'the second start to be written');
      expect(running).toMatchObject({ status: 'RUNNING', attempt: 2, maxAttempts: 2, owner: expect.stringMatching(new RegExp(`:${survivor.pid}:`)) });
      expect(running.attemptErrors).toEqual([
        { attempt: 1, error: expect.stringMatching(new RegExp(`^Worker .+:${a.pid}:[0-9a-f]{6} stopped responding`)), at: expect.any(String) },
      ]);
      survivor.send({ cmd: 'release', id });
      await waitFor(async () => (await read(id)).status === 'DONE', 5_000, 'the second attempt to finish');
      expect(await read(id)).toMatchObject({ result: { releasedBy: survivor.pid }, attempt: 2 });
    });

    it('a restarted app runs its own interrupted task again at once when its kind has an attempt left', async () => {
      const a = await start();
      const [id] = await a.launch(1, 'hold-twice');
      // Its start is written (a start not yet written when a process dies is the next test's case).
      await waitFor(async () => (await read(id)).status === 'RUNNING', 5_000, 'the start to be written');
      a.signal('SIGKILL');
      await a.gone();
      const restarted = await start();
      await restarted.next((e) => e.event === 'started' && e.id === id, 10_000, 'the restarted app to run the task again');
      await waitFor(async () => (await read(id)).status === 'RUNNING', 5_000, 'the second start to be written');
      expect(await read(id)).toMatchObject({ status: 'RUNNING', attempt: 2, attemptErrors: [expect.objectContaining({ attempt: 1, error: 'Abandoned — app restarted' })] });
      restarted.send({ cmd: 'release', id });
      await waitFor(async () => (await read(id)).status === 'DONE', 5_000, 'the second attempt to finish');
    });

    it('fences an owner that went silent: its task is taken back, and it lets go when it wakes', async () => {
      const a = await start();
      await start();
      const [id] = await a.launch(1);
      // An owner stopped inside a transaction keeps its row locks, so nobody can take its task
      // until it resumes (and then it is alive again): stop it anew until it stops between two.
      for (let attempt = 1; ; attempt++) {
        a.signal('SIGSTOP');
        const taken = await waitFor(async () => (await read(id)).status === 'FAILED', 4_000, 'the task to be taken back')
          .then(() => true, () => false);
        if (taken) break;
        if (attempt === 3) throw new Error('the silent owner\'s task was never taken back');
        a.signal('SIGCONT');
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      a.signal('SIGCONT');
      const aborted = await a.next((e) => e.event === 'aborted' && e.id === id, 5_000, 'the woken owner to abort its handler');
      expect(aborted.reason).toBe('The task was taken over by another process');
      expect(a.logged(`task ${id} is no longer held by this process`)).toBe(true);
      a.send({ cmd: 'release', id });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await read(id)).toMatchObject({ status: 'FAILED', result: null });
    });
  });
}
