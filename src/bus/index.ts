import { MemoryBus, MemoryKv } from './memory.js';
import { RedisBus, RedisKv } from './redis.js';
import type { Bus, Kv } from './types.js';

export * from './types.js';

export interface BusOptions {
  redisUrl?: string | undefined;
  redisPrefix: string;
  onError?: (err: Error) => void;
}

/** The bus and KV for this process: Redis when REDIS_URL is set, in-process otherwise. */
export function createBus(opts: BusOptions): { bus: Bus; kv: Kv } {
  if (opts.redisUrl) {
    const ro = {
      url: opts.redisUrl,
      prefix: opts.redisPrefix,
      ...(opts.onError ? { onError: opts.onError } : {}),
    };
    return { bus: new RedisBus(ro), kv: new RedisKv(ro) };
  }
  return { bus: new MemoryBus(), kv: new MemoryKv() };
}
