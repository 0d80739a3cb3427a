import { EVENTS_CHANNEL } from '../bus/events.js';
import type { Bus, BusEvent, Kv, Unsubscribe } from '../bus/types.js';

/**
 * A small shared cache of one computed JSON document (the dashboard metrics) in the KV (Redis when
 * configured, so every API replica serves the same copy), kept for `ttlMs` and dropped as soon as an event
 * that changes the figures arrives on the bus (new_alert, new_device, device_update…). Within one process,
 * concurrent misses share one computation (no stampede on the database when the entry expires under load),
 * and a computation that started before an invalidation is returned to its callers but not stored.
 *
 * Expiry is stale-while-revalidate: the document is kept 12× longer than `ttlMs` beside a freshness marker
 * that lives `ttlMs`; once the marker is gone, callers get the previous copy at once while one call
 * recomputes it in the background, so no request waits for the aggregation because of a timer. An event is
 * stricter: it deletes both, and the next call computes.
 */

export const DASHBOARD_CACHE_KEY = 'cache:dashboard:metrics';
export const DASHBOARD_CACHE_TTL_MS = 5_000;
export const DASHBOARD_INVALIDATING_EVENTS: readonly string[] = [
  'new_alert',
  'alert_update',
  'new_device',
  'device_update',
];

export interface JsonCacheOptions {
  kv: Kv;
  bus: Bus;
  key: string;
  ttlMs: number;
  /** Event types (on the `events` channel) that drop the cached value. */
  invalidateOn: readonly string[];
  onError?: (err: unknown) => void;
}

export interface CachedJson {
  /** The serialized document. */
  json: string;
  /** Whether it came from the cache (true) or was computed for this call (false). */
  hit: boolean;
}

export class JsonCache {
  private generation = 0;
  private inflight: { generation: number; promise: Promise<string> } | null = null;
  private unsubscribe: Unsubscribe | null = null;

  constructor(private readonly opts: JsonCacheOptions) {}

  /** Subscribes to the events that invalidate the value. */
  async start(): Promise<void> {
    if (this.unsubscribe) return;
    this.unsubscribe = await this.opts.bus.subscribe(EVENTS_CHANNEL, (e: BusEvent) => {
      if (this.opts.invalidateOn.includes(e.type)) void this.invalidate();
    });
  }

  async stop(): Promise<void> {
    const u = this.unsubscribe;
    this.unsubscribe = null;
    if (u) await u();
  }

  /** Drops the cached value (here and, through the KV, for every replica). */
  async invalidate(): Promise<void> {
    this.generation++;
    this.inflight = null;
    try {
      await this.opts.kv.del(this.opts.key);
      await this.opts.kv.del(`${this.opts.key}:fresh`);
    } catch (e) {
      this.opts.onError?.(e);
    }
  }

  /** The cached JSON, or `compute()` serialized, stored for the TTL and returned. */
  async get(compute: () => Promise<unknown>): Promise<CachedJson> {
    let cached: string | null = null;
    let fresh = false;
    try {
      cached = await this.opts.kv.get(this.opts.key);
      if (cached !== null) fresh = (await this.opts.kv.get(`${this.opts.key}:fresh`)) !== null;
    } catch (e) {
      this.opts.onError?.(e); // the KV is an optimisation: fall through to the database
    }
    if (cached !== null && fresh) return { json: cached, hit: true };
    if (cached !== null) {
      // Expired by time only: serve the previous copy, refresh once in the background.
      void this.refresh(compute).catch((e: unknown) => this.opts.onError?.(e));
      return { json: cached, hit: true };
    }
    return { json: await this.refresh(compute), hit: false };
  }

  /** Computes and stores the document; concurrent calls of one generation share the computation. */
  private async refresh(compute: () => Promise<unknown>): Promise<string> {
    const generation = this.generation;
    if (this.inflight && this.inflight.generation === generation) return this.inflight.promise;
    const promise = (async () => {
      const json = JSON.stringify(await compute());
      if (this.generation === generation) {
        try {
          await this.opts.kv.set(this.opts.key, json, this.opts.ttlMs * 12);
          await this.opts.kv.set(`${this.opts.key}:fresh`, '1', this.opts.ttlMs);
        } catch (e) {
          this.opts.onError?.(e);
        }
      }
      return json;
    })();
    const entry = { generation, promise };
    this.inflight = entry;
    try {
      return await promise;
    } finally {
      if (this.inflight === entry) this.inflight = null;
    }
  }
}
