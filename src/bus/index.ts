import { MemoryBus, MemoryKv } from './memory.js';
import { ResilientKv } from './resilient-kv.js';
import type { Bus, Kv } from './types.js';

export * from './types.js';
export { ResilientKv } from './resilient-kv.js';

export interface BusOptions {
  redisUrl?: string | undefined;
  redisPrefix: string;
  onError?: (err: Error) => void;
}

/**
 * The bus and KV for this process: Redis when REDIS_URL is set, in-process otherwise. The Redis client and
 * BullMQ are imported only then (together about 0.3 s of start-up a one-shot CLI command would pay for nothing).
 */
export async function createBus(opts: BusOptions): Promise<{ bus: Bus; kv: Kv }> {
  if (opts.redisUrl) {
    const { RedisBus, RedisKv } = await import('./redis.js');
    const ro = {
      url: opts.redisUrl,
      prefix: opts.redisPrefix,
      ...(opts.onError ? { onError: opts.onError } : {}),
    };
    // The KV falls back to in-process counters while Redis is down, so login and rate limits keep working.
    const kv = new ResilientKv(new RedisKv(ro), {
      onStateChange: (state, err) =>
        opts.onError?.(
          new Error(
            state === 'degraded'
              ? `Redis KV unavailable (${err?.message ?? 'error'}); using local counters until it is back`
              : 'Redis KV is back',
          ),
        ),
    });
    return { bus: new RedisBus(ro), kv };
  }
  return { bus: new MemoryBus(), kv: new MemoryKv() };
}
