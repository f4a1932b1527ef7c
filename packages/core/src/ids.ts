/**
 * Job ids: UUID version 7 (RFC 9562) — 48 bits of Unix milliseconds, then a 12-bit counter,
 * then 62 random bits.
 *
 * Why not random (v4) ids: ids made one after another sort one after another, so a backend
 * that indexes them (PostgreSQL's primary key) puts the jobs of one batch side by side in the
 * index instead of one random page per job, which matters once the table is much larger
 * than a batch; and an id tells when its job was made. On a 20k-job table the difference is
 * within the noise of `bench/postgres/sql-variants.ts`. The ids stay unguessable: 62 random
 * bits plus the counter's random start.
 *
 * Monotonic within a process: ids made in the same millisecond count up from a random start
 * in the counter; when it runs out, the timestamp is advanced by one millisecond (and the
 * clock catches up). A clock that steps back does not make ids go back.
 *
 * @module
 */
import { randomFillSync } from "node:crypto";

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));
/** Random bytes, drawn 8 KB at a time: one system call per ~800 ids. */
const pool = new Uint8Array(8192);
let poolOffset = pool.length;
const RANDOM_BYTES = 10;

let lastMs = 0;
let counter = 0;

function randomBytes(): number {
  if (poolOffset + RANDOM_BYTES > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += RANDOM_BYTES;
  return at;
}

/** A new UUIDv7, lower-case hex with dashes. */
export function uuidv7(): string {
  const at = randomBytes();
  let ms = Date.now();
  if (ms > lastMs) {
    lastMs = ms;
    // Start low in the 12-bit range, leaving room to count up within the millisecond.
    counter = ((pool[at]! << 8) | pool[at + 1]!) & 0x7ff;
  } else {
    ms = lastMs;
    if (++counter > 0xfff) {
      lastMs = ++ms;
      counter = 0;
    }
  }
  const high = Math.floor(ms / 0x10000); // top 32 bits of the 48-bit timestamp
  const low = ms % 0x10000;
  return (
    HEX[(high >>> 24) & 0xff]! +
    HEX[(high >>> 16) & 0xff]! +
    HEX[(high >>> 8) & 0xff]! +
    HEX[high & 0xff]! +
    "-" +
    HEX[low >>> 8]! +
    HEX[low & 0xff]! +
    "-" +
    HEX[0x70 | (counter >>> 8)]! +
    HEX[counter & 0xff]! +
    "-" +
    HEX[0x80 | (pool[at + 2]! & 0x3f)]! +
    HEX[pool[at + 3]!]! +
    "-" +
    HEX[pool[at + 4]!]! +
    HEX[pool[at + 5]!]! +
    HEX[pool[at + 6]!]! +
    HEX[pool[at + 7]!]! +
    HEX[pool[at + 8]!]! +
    HEX[pool[at + 9]!]!
  );
}
