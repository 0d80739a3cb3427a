import { MemoryKv } from './memory.js';
import type { Kv } from './types.js';

export interface ResilientKvOptions {
  /** How long a Redis command may take before the local fallback answers instead (ms, default 500). */
  timeoutMs?: number;
  /** After a failure, how long to answer locally before trying Redis again (ms, default 2000). */
  retryMs?: number;
  /** Called once when Redis starts failing and once when it is back. */
  onStateChange?: (state: 'degraded' | 'recovered', err?: Error) => void;
}

/**
 * A KV that keeps the API serving while Redis is down: when a Redis command fails or hangs, the answer
 * comes from an in-process MemoryKv (rate limits and login limits then count per process, revocations are
 * remembered locally) and Redis is retried every `retryMs`. Logs once per outage, not once per request.
 */
export class ResilientKv implements Kv {
  readonly kind: Kv['kind'];
  private readonly local = new MemoryKv();
  private degradedUntil = 0;
  private degraded = false;

  constructor(
    private readonly primary: Kv,
    private readonly opts: ResilientKvOptions = {},
  ) {
    this.kind = primary.kind;
  }

  get isDegraded(): boolean {
    return this.degraded;
  }

  private async run<T>(f: (kv: Kv) => Promise<T>): Promise<T> {
    if (this.degraded && Date.now() < this.degradedUntil) return f(this.local);
    let timer: NodeJS.Timeout | undefined;
    try {
      const attempt = f(this.primary);
      attempt.catch(() => undefined); // a late failure after the timeout is not unhandled
      const result = await Promise.race([
        attempt,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error('Redis KV command timed out')),
            this.opts.timeoutMs ?? 500,
          );
        }),
      ]);
      if (this.degraded) {
        this.degraded = false;
        this.opts.onStateChange?.('recovered');
      }
      return result;
    } catch (e) {
      if (!this.degraded) {
        this.degraded = true;
        this.opts.onStateChange?.('degraded', e instanceof Error ? e : new Error(String(e)));
      }
      this.degradedUntil = Date.now() + (this.opts.retryMs ?? 2000);
      return f(this.local);
    } finally {
      clearTimeout(timer);
    }
  }

  hit(key: string, windowMs: number) {
    return this.run((kv) => kv.hit(key, windowMs));
  }
  get(key: string) {
    return this.run((kv) => kv.get(key));
  }
  set(key: string, value: string, ttlMs: number) {
    // Writes (revocations, login blocks) also go to the local store, so they hold during an outage.
    return this.run(async (kv) => {
      if (kv !== this.local) await this.local.set(key, value, ttlMs);
      await kv.set(key, value, ttlMs);
    });
  }
  del(key: string) {
    return this.run(async (kv) => {
      if (kv !== this.local) await this.local.del(key);
      await kv.del(key);
    });
  }
  async close(): Promise<void> {
    await this.primary.close();
    await this.local.close();
  }
}
