import { randomFillSync } from 'node:crypto';

let lastMs = 0;
let sequence = 0;
// Random bytes are drawn in bulk: one crypto call per 512 ids instead of one per id.
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;
// The timestamp part repeats for every id made in the same millisecond.
let prefixMs = -1;
let prefix = '';

/**
 * A new task id in the UUID version 7 layout: a millisecond timestamp, then a per-process
 * sequence, then random bits. Ids sort by creation time as plain strings, which lets list
 * queries page by primary key alone; the sequence keeps ids made in the same millisecond in
 * order, and borrows the next millisecond when 4,096 are made in one.
 */
export function newTaskId(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    sequence = 0;
  } else if (++sequence > 0xfff) {
    lastMs += 1;
    sequence = 0;
  }
  if (lastMs !== prefixMs) {
    const time = lastMs.toString(16).padStart(12, '0');
    prefix = `${time.slice(0, 8)}-${time.slice(8, 12)}-7`;
    prefixMs = lastMs;
  }
  if (poolOffset + 8 > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  pool[poolOffset] = (pool[poolOffset] & 0x3f) | 0x80; // RFC 9562 variant bits
  const tail = pool.toString('hex', poolOffset, poolOffset + 8);
  poolOffset += 8;
  return `${prefix}${sequence.toString(16).padStart(3, '0')}-${tail.slice(0, 4)}-${tail.slice(4, 16)}`;
}
