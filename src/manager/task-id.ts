import { randomBytes } from 'node:crypto';

let lastMs = 0;
let sequence = 0;

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
  const time = lastMs.toString(16).padStart(12, '0');
  const random = randomBytes(8);
  random[0] = (random[0] & 0x3f) | 0x80; // RFC 9562 variant bits
  const tail = random.toString('hex');
  return (
    `${time.slice(0, 8)}-${time.slice(8, 12)}-7${sequence.toString(16).padStart(3, '0')}-` +
    `${tail.slice(0, 4)}-${tail.slice(4, 16)}`
  );
}
