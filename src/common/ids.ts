import { randomFillSync } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Random bytes drawn from the system CSPRNG 4 KiB at a time (one call per ~400 ids, not per id). */
const pool = Buffer.allocUnsafe(4096);
let poolOffset = pool.length;

function randomBytes10(): Buffer {
  if (poolOffset + 10 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = pool.subarray(poolOffset, poolOffset + 10);
  poolOffset += 10;
  return bytes;
}

/**
 * A prefixed, time-ordered id (`key_01JD…`): 10 characters of millisecond time and 16 of
 * randomness in Crockford base32, so ids sort by creation time and cursors can use them.
 */
export function newId(prefix: string, now: number = Date.now(), random: Buffer = randomBytes10()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let rand = '';
  // 10 random bytes = 80 bits = 16 base32 characters.
  let bits = 0;
  let acc = 0;
  for (const byte of random) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      rand += CROCKFORD[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return `${prefix}_${time}${rand}`;
}
