import type * as BullMQ from 'bullmq';
import type * as IORedis from 'ioredis';

/*
 * BullMQ and ioredis serve the scaled mode only (REDIS_URL). They are loaded on first use, so
 * an embedded Herald never loads them: together they cost about 14 MB of resident memory.
 * `import type` above keeps their types; `require` loads the code when called.
 */

export function bullmq(): typeof BullMQ {
  return require('bullmq') as typeof BullMQ;
}

export function ioredis(): typeof IORedis {
  return require('ioredis') as typeof IORedis;
}
