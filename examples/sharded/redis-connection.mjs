// A Redis connection for BullMQ's Queue, Worker and QueueEvents: ioredis, BullMQ's own client.
// `maxRetriesPerRequest: null` is what BullMQ requires of connections used by Workers (a blocking
// command must not fail after a few retries while Redis is busy).
import { Redis } from 'ioredis';

/** A new ioredis connection to `host:port` for BullMQ (each call makes its own connection). */
export async function redisConnection({ host = '127.0.0.1', port }) {
  return new Redis({ host, port, maxRetriesPerRequest: null });
}
