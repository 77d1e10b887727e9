import type { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfigurationError, ModelTrackingTaskManager, type JsonValue, type LifecycleEventName, type LifecyclePayload,
} from '../../src/index.js';
import { sqlite } from '../helpers/data-sources.js';
import { ImportJob, importJobFieldMap, importJobStatusValues } from '../helpers/import-job-entity.js';
import { recordingLogger, waitFor } from '../helpers/wait.js';

interface User { email: string; team: string }

/** Configured with class fields and overridden formatters and hook, as a host subclass would. */
class ImportTaskManager extends ModelTrackingTaskManager {
  override entity = ImportJob;
  override fieldMap = importJobFieldMap;
  override statusValues = importJobStatusValues;
  readonly sideEffects: string[] = [];

  protected override formatUser(user: unknown): JsonValue {
    const u = user as User | undefined;
    return u ? `${u.email} (${u.team})` : 'system';
  }

  protected override formatAffected(affected: unknown): JsonValue {
    return (affected as number[] | undefined)?.map((n) => `#${n}`).join(' ') ?? null;
  }

  protected override formatPayload(value: unknown, key: 'input' | 'result' | 'progress'): JsonValue {
    if (key === 'input' && value && typeof value === 'object') return { ...value, token: '[redacted]' };
    return super.formatPayload(value, key);
  }

  protected override onLifecycle(event: LifecycleEventName, taskName: string, payload: LifecyclePayload): void {
    void super.onLifecycle(event, taskName, payload);
    if (event === 'fail') this.sideEffects.push(`ops notified: ${taskName} failed: ${payload.error}`);
    if (event === 'complete') throw new Error('notifier is down');
  }
}

describe('ModelTrackingTaskManager with a host entity', () => {
  let dataSource: DataSource;
  let manager: ModelTrackingTaskManager | undefined;
  afterEach(async () => {
    await manager?.stop({ graceMs: 100 });
    manager = undefined;
    // Unset when a test failed before opening it.
    await (dataSource as DataSource | undefined)?.destroy();
  });

  const rows = () => dataSource.query('SELECT * FROM import_job ORDER BY uuid');

  it('writes every event into the host columns, in its status words, through overridden formatters', async () => {
    dataSource = await sqlite.open([ImportJob]);
    const logger = recordingLogger();
    const tracked = new ImportTaskManager({ dataSource, logger, progressIntervalMs: 0 });
    manager = tracked;
    manager.define('import', {
      label: 'Import',
      run: ({ progress }) => {
        progress({ percent: 25, message: 'parsing', sheet: 'Orders' });
        return Promise.resolve({ imported: 12 });
      },
    });
    manager.define('explode', { label: 'Explode', run: () => { throw new Error('bad CSV header'); } });
    await manager.start();
    const ok = await manager.launch('import', { file: 'orders.csv', token: 's3cret' }, { user: { email: 'ann@example.com', team: 'ops' }, affected: [4, 5] });
    const bad = await manager.launch('explode');
    await waitFor(async () => (await rows()).every((r: { state: string }) => ['success', 'failed'].includes(r.state)));

    const [first, second] = (await rows()).sort((a: { uuid: string }, b: { uuid: string }) => (a.uuid === ok.id ? -1 : b.uuid === ok.id ? 1 : 0));
    expect(first).toMatchObject({
      uuid: ok.id, job_kind: 'import', state: 'success', note: 'parsing', started_by: 'ann@example.com (ops)', touched: '#4 #5',
      outcome: '{"imported":12}', payload: '{"file":"orders.csv","token":"[redacted]"}',
    });
    expect(JSON.parse(first.progress_info)).toEqual({ percent: 25, message: 'parsing', sheet: 'Orders' });
    expect(first.finished).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    expect(second).toMatchObject({ uuid: bad.id, job_kind: 'explode', state: 'failed', note: 'bad CSV header', started_by: 'system', outcome: null });

    // The host reads its own entity back through TypeORM as if TypeORM had written it.
    const job = await dataSource.getRepository(ImportJob).findOneByOrFail({ uuid: ok.id });
    expect(job.created).toBeInstanceOf(Date);
    expect(job.finished!.getTime()).toBeGreaterThanOrEqual(job.created.getTime());
    expect(job.payload).toEqual({ file: 'orders.csv', token: '[redacted]' });

    // And stablehand reads it back in its own terms; with no label column, the kind's defined label.
    expect(await manager.getTask(ok.id)).toMatchObject({
      id: ok.id, taskName: 'import', status: 'DONE', label: 'Import', result: '{"imported":12}', progress: { percent: 25, message: 'parsing', sheet: 'Orders' },
    });
    expect((await manager.listTasks({ status: 'FAILED' })).tasks.map((t) => t.id)).toEqual([bad.id]);

    expect(tracked instanceof ImportTaskManager && tracked.sideEffects).toEqual([`ops notified: explode failed: bad CSV header`]);
    expect(logger.lines.some((l) => l.includes('onLifecycle("complete") threw') && l.includes('notifier is down'))).toBe(true);
  });

  it('lets constructor options win over class fields', async () => {
    dataSource = await sqlite.open([ImportJob]);
    manager = new ImportTaskManager({ dataSource, statusValues: { DONE: 'finished-ok' } });
    manager.define('ok', { label: 'Ok', run: () => null });
    await manager.start();
    const { id } = await manager.launch('ok');
    await waitFor(async () => (await rows())[0]?.state === 'finished-ok');
    expect((await manager.getTask(id))?.status).toBe('DONE');
  });

  it.each([
    [{ fieldMap: { status: 'nope' } }, /fieldMap\.status names "nope", which is not a column of entity ImportJob \(its columns: uuid, kind, state/],
    [{ fieldMap: { colour: 'state' } }, /fieldMap has an unknown key "colour"/],
    [{ fieldMap: { id: 'kind' } }, /fieldMap\.id maps to "kind" of entity ImportJob, which must be its only primary column/],
    [{ fieldMap: { status: null } }, /fieldMap\.status must name a column of entity ImportJob/],
    [{ fieldMap: { createdAt: 'payload' } }, /fieldMap\.createdAt maps to "payload" of entity ImportJob, a json column; it needs a date/],
    [{ statusValues: { DONE: 'x', FAILED: 'x' } }, /statusValues gives "x" to both DONE and FAILED/],
    [{ statusValues: { FINISHED: 'x' } }, /statusValues has an unknown status "FINISHED"/],
    [{ fieldMap: { owner: 'created' } }, /fieldMap\.owner maps to "created" of entity ImportJob, a date column; it needs a text column/],
    [{ fieldMap: { label: 'created' } }, /fieldMap\.label maps to "created" of entity ImportJob, a date column; it needs a text column/],
    [{ fieldMap: { result: 'finished' } }, /fieldMap\.result maps to "finished" of entity ImportJob, a date column; it needs a JSON or text column/],
    [{ fieldMap: { progress: 'created' } }, /fieldMap\.progress maps to "created" of entity ImportJob, a date column; it needs a number, JSON or text column/],
    [{ fieldMap: { owner: 'startedBy', heartbeatAt: 'finished' } }, /Entity ImportJob stores owner and heartbeatAt but not all of owner, heartbeatAt and cancelRequestedAt/],
  ])('checks the fieldMap against the entity at start(): %j', async (options, message) => {
    dataSource = await sqlite.open([ImportJob]);
    const fieldMap = { ...importJobFieldMap, ...(options as { fieldMap?: object }).fieldMap };
    manager = new ModelTrackingTaskManager({
      dataSource, entity: ImportJob, fieldMap, statusValues: (options as { statusValues?: object }).statusValues as never,
    });
    const error = await manager.start().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe('INVALID_OPTIONS');
    expect((error as Error).message).toMatch(message);
    manager = undefined;
  });

  it('refuses an entity that is not registered and a DataSource that is not initialized', async () => {
    dataSource = await sqlite.open();
    const unregistered = new ModelTrackingTaskManager({ dataSource, entity: ImportJob });
    await expect(unregistered.start()).rejects.toThrow(/Entity ImportJob is not registered in the DataSource/);
    const { DataSource: DataSourceClass } = await import('typeorm');
    const idle = new DataSourceClass({ type: 'better-sqlite3', database: ':memory:' });
    await expect(new ModelTrackingTaskManager({ dataSource: idle }).start()).rejects.toThrow(/not initialized/);
    await expect(new ModelTrackingTaskManager().start()).rejects.toThrow(/needs a dataSource/);
  });
});
