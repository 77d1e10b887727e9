import fc from 'fast-check';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError, ModelTrackingTaskManager, type TaskRecord } from '../../src/index.js';
import { NUL_REPLACEMENT, TRUNCATION_MARK } from '../../src/adapters/typeorm/storable.js';
import { engines } from '../helpers/data-sources.js';
import { recordingLogger, waitFor } from '../helpers/wait.js';

/** Texts a host or a task might hand over: control characters, NUL, lone surrogates, long runs. */
const hostileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((code) => String.fromCharCode(code)), maxLength: 20 }),
  fc.constantFrom('\u0000', 'a\u0000b', '\uD800', 'x\uDFFFy', '\u0000'.repeat(3), 'é'.repeat(300), 'm'.repeat(1_000_000)),
  fc.integer({ min: 256, max: 20_000 }).map((length) => 'long '.repeat(length).slice(0, length)),
);

/** What a text becomes in the record: NUL and lone surrogates replaced, cut with a mark to the column's length. */
function stored(text: string, limit: number | undefined): string {
  // eslint-disable-next-line no-control-regex -- NUL is what it looks for
  const clean = text.replace(/\u0000|\p{Cs}/gu, NUL_REPLACEMENT);
  if (limit === undefined || clean.length <= limit) return clean;
  const cut = clean.slice(0, limit - 1);
  return `${/\p{Cs}$/u.test(cut) ? cut.slice(0, -1) : cut}${TRUNCATION_MARK}`;
}

for (const engine of engines) {
  describe.skipIf(engine.skipReason)(`values no database column can take as they are, on ${engine.name}`, () => {
    let dataSource: DataSource;
    let manager: ModelTrackingTaskManager;
    const logger = recordingLogger();

    beforeAll(async () => {
      dataSource = await engine.open();
      manager = new ModelTrackingTaskManager({ dataSource, progressIntervalMs: 0, logger });
      manager.define('echo', {
        run: ({ input, progress }) => {
          const { message, error, result } = input as { message: string; error: string | null; result: string };
          progress({ percent: 50, message, note: message, [`k${message.slice(0, 4)}`]: [message] });
          if (error !== null) throw new Error(error);
          return { text: result, [`key${result.slice(0, 8)}`]: [result] };
        },
      });
      await manager.start();
    });

    afterAll(async () => {
      await manager.stop({ graceMs: 1_000 });
      await dataSource.destroy();
    });

    const ended = (id: string) => waitFor(async () => {
      const record = await manager.getTask(id);
      return record && ['DONE', 'FAILED'].includes(record.status) && record.cleanedUp ? record : null;
    }, 10_000, `task ${id} to end`);

    it('ends every task with its status, keeping as much of each text as its column holds', async () => {
      const store = (manager as unknown as { store: { maxLength(key: string): number | undefined } }).store;
      await fc.assert(fc.asyncProperty(
        hostileText, hostileText, hostileText, fc.option(hostileText, { nil: null }), hostileText,
        async (label, user, message, error, result) => {
          const { id } = await manager.launch('echo', { message, error, result }, { label: label || 'x', user, affected: [message, result] });
          const record: TaskRecord = await ended(id);
          expect(record.status).toBe(error === null ? 'DONE' : 'FAILED');
          expect(record.label).toBe((stored(label || 'x', store.maxLength('label'))));
          expect(record.user).toBe((stored(user === '' ? 'Anonymous' : user, store.maxLength('user'))));
          if (error !== null) {
            const text = error === '' ? 'Error' : error;
            expect(record.error).toBe((stored(text, store.maxLength('error'))));
          } else {
            const kept = record.result as { text?: string; truncated?: boolean };
            // The JSON of the result fits its column, or it is kept as a marked preview.
            if (kept.truncated !== true) expect(kept.text).toBe(stored(result, undefined));
          }
        },
      ), { numRuns: 25 });
      // Nothing was retried for ever or lost: no write failed.
      expect(logger.errors.filter((line) => line.includes('writing task records failed'))).toEqual([]);
    }, 120_000);

    it('refuses a kind or an instance id its column cannot hold, before writing anything', async () => {
      const limit = (manager as unknown as { store: { maxLength(key: string): number | undefined } }).store.maxLength('taskName');
      if (limit === undefined) return;
      const kind = 'k'.repeat(limit + 1);
      manager.define(kind, { run: () => null });
      await expect(manager.launch(kind)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      const other = new ModelTrackingTaskManager({ dataSource, logger: recordingLogger() });
      other.define(kind, { run: () => null });
      await expect(other.start()).rejects.toThrow(ConfigurationError);
    });
  });
}
