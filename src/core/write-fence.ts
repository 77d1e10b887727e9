import type { RecordPatch, TaskRecord } from './record.js';

/**
 * Whether a guarded change may land on a record as it stands: the rule every store applies (the
 * TypeORM store writes it as SQL in record-sql.ts). Without `owner`, any unfinished record takes
 * it. With one, an owned change lands only on a record that owner holds, and a claim (a patch
 * that sets `owner`) only on a PENDING record nobody else holds.
 */
export function changeMayLand(record: Pick<TaskRecord, 'status' | 'owner'>, patch: RecordPatch, owner: string | undefined): boolean {
  if (record.status !== 'PENDING' && record.status !== 'RUNNING') return false;
  if (owner === undefined) return true;
  if ('owner' in patch && patch.owner !== null) return record.status === 'PENDING' && (record.owner === null || record.owner === owner);
  return record.owner === owner;
}
