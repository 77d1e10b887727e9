import { createRequire } from 'node:module';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelTrackingTaskManager } from '../../src/index.js';
import { postgres } from '../helpers/data-sources.js';
import { recordingLogger, waitFor } from '../helpers/wait.js';

const URL = process.env.STABLEHAND_TEST_POSTGRES_URL;
const APPLICATION_NAME = `sh-kill-${process.pid}`;

describe.skipIf(postgres.skipReason)('stablehand\'s PostgreSQL connections killed mid-run', () => {
  let dataSource: DataSource;
  let manager: ModelTrackingTaskManager;
  const logger = recordingLogger();

  beforeAll(async () => {
    dataSource = await postgres.open([], { applicationName: APPLICATION_NAME });
    manager = new ModelTrackingTaskManager({ dataSource, logger, progressIntervalMs: 0, concurrency: 8 });
    manager.define('steady', {
      run: async ({ progress, input }) => {
        for (let step = 1; step <= 4; step++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          progress(step * 25, `step ${step}`);
        }
        return { n: (input as { n: number }).n };
      },
    });
    await manager.start();
  });

  afterAll(async () => {
    await manager.stop({ graceMs: 2_000 });
    await dataSource.destroy();
  });

  /** Terminates every server connection of this suite's DataSource, as a DBA or a failover would. */
  async function killConnections(): Promise<number> {
    const { Client } = createRequire(import.meta.url)('pg') as {
      Client: new (options: { connectionString?: string }) => {
        connect(): Promise<void>; query(sql: string, params: unknown[]): Promise<{ rowCount: number | null }>; end(): Promise<void>;
      };
    };
    const client = new Client({ connectionString: URL });
    await client.connect();
    try {
      const { rowCount } = await client.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()', [APPLICATION_NAME],
      );
      return rowCount ?? 0;
    } finally {
      await client.end();
    }
  }

  it('ends every task, loses no acknowledged launch, and keeps launching once the connections are back', async () => {
    const ids: string[] = [];
    for (let n = 0; n < 24; n++) ids.push((await manager.launch('steady', { n })).id);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await killConnections()).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await killConnections()).toBeGreaterThanOrEqual(0);
    // Launches right after the kill: each either lands (acknowledged) or is refused with a clear error.
    for (let n = 24; n < 32; n++) {
      try {
        ids.push((await manager.launch('steady', { n })).id);
      } catch (error) {
        expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE' });
      }
    }
    for (const id of ids) {
      const record = await waitFor(async () => {
        const found = await manager.getTask(id).catch(() => null);
        return found && ['DONE', 'FAILED', 'CANCELLED'].includes(found.status) ? found : null;
      }, 20_000, `task ${id} to end`);
      expect(record.status).toBe('DONE');
    }
    const { id } = await manager.launch('steady', { n: 99 });
    await waitFor(async () => (await manager.getTask(id))?.status === 'DONE', 10_000, 'a launch after the outage');
  }, 60_000);
});
