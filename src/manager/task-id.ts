import { randomFillSync } from 'node:crypto';

let lastMs = 0;
let sequence = 0;
// Random bytes are drawn in bulk: one crypto call per 512 ids instead of one per id.
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;
// The id is written as ASCII into one buffer and read out as a single string: building it from
// hex slices and template parts made half a dozen short-lived strings per task.
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const text = Buffer.from('00000000-0000-7000-0000-000000000000', 'latin1');
// The timestamp part repeats for every id made in the same millisecond.
let writtenMs = -1;

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
  if (lastMs !== writtenMs) {
    const time = lastMs.toString(16).padStart(12, '0');
    text.write(time.slice(0, 8), 0, 'latin1');
    text.write(time.slice(8, 12), 9, 'latin1');
    writtenMs = lastMs;
  }
  text[15] = HEX[(sequence >> 8) & 15];
  text[16] = HEX[(sequence >> 4) & 15];
  text[17] = HEX[sequence & 15];
  if (poolOffset + 8 > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  pool[poolOffset] = (pool[poolOffset] & 0x3f) | 0x80; // RFC 9562 variant bits
  writeHex(poolOffset, 2, 19);
  writeHex(poolOffset + 2, 6, 24);
  poolOffset += 8;
  return text.toString('latin1', 0, 36);
}

function writeHex(from: number, bytes: number, at: number): void {
  for (let i = 0; i < bytes; i++) {
    const byte = pool[from + i];
    text[at + 2 * i] = HEX[byte >> 4];
    text[at + 2 * i + 1] = HEX[byte & 15];
  }
}
