import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_CHANNEL, makeEvent } from '../bus/events.js';
import { ADMIN_PASSWORD, bearer, login, makeStack, stackKinds, type Stack } from '../test-support/api.js';
import { DASHBOARD_CACHE_KEY, JsonCache } from './cache.js';
import type { DashboardMetrics } from './routes/dashboard.js';

const kinds = await stackKinds();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => Promise<boolean>, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(10);
  }
}

describe.each(kinds)('dashboard metrics cache on %s stack', (kind) => {
  let s: Stack;
  let token: string;

  beforeAll(async () => {
    s = await makeStack(kind);
    token = (await login(s.app, 'admin', ADMIN_PASSWORD)).access_token;
  });
  afterAll(async () => s?.close());

  const get = async () => {
    const res = await s.app.inject({
      method: 'GET',
      url: '/api/v1/dashboard/metrics',
      headers: bearer(token),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    return { cache: res.headers['x-cache'], body: res.json() as DashboardMetrics };
  };

  const addDevice = (mac: string) =>
    s.services.store.db.execute(sql`INSERT INTO devices (mac, device_type) VALUES (${mac}, 'camera')`);

  it('computes once, then serves the stored copy for the TTL', async () => {
    const first = await get();
    expect(first.cache).toBe('miss');
    expect(await s.services.kv.get(DASHBOARD_CACHE_KEY)).not.toBeNull();
    await sleep(5);
    const second = await get();
    expect(second.cache).toBe('hit');
    expect(second.body).toEqual(first.body);
  });

  it('drops the copy on new_device and shows the new figures', async () => {
    const before = (await get()).body.devices.total;
    await addDevice('02:00:00:00:00:01');
    expect((await get()).body.devices.total).toBe(before); // still cached: no event yet
    await s.services.bus.publish(EVENTS_CHANNEL, makeEvent('new_device', { device_id: 1 }));
    await until(async () => (await s.services.kv.get(DASHBOARD_CACHE_KEY)) === null);
    const after = await get();
    expect(after.cache).toBe('miss');
    expect(after.body.devices.total).toBe(before + 1);
  });

  it.each(['new_alert', 'device_update', 'alert_update'] as const)('drops the copy on %s', async (type) => {
    await get();
    expect(await s.services.kv.get(DASHBOARD_CACHE_KEY)).not.toBeNull();
    await s.services.bus.publish(EVENTS_CHANNEL, makeEvent(type, {}));
    await until(async () => (await s.services.kv.get(DASHBOARD_CACHE_KEY)) === null);
    expect((await get()).cache).toBe('miss');
  });

  it('keeps the copy on events that do not change the figures', async () => {
    await get();
    await s.services.bus.publish(EVENTS_CHANNEL, makeEvent('job_update', {}));
    await sleep(100);
    expect((await get()).cache).toBe('hit');
  });

  it('after the TTL serves the previous copy while one call refreshes it; shares one computation', async () => {
    const cache = new JsonCache({
      kv: s.services.kv,
      bus: s.services.bus,
      key: `test:${kind}:ttl`,
      ttlMs: 150,
      invalidateOn: ['new_alert'],
    });
    let computed = 0;
    const compute = async () => {
      computed++;
      await sleep(30);
      return { n: computed };
    };
    const all = await Promise.all(Array.from({ length: 20 }, () => cache.get(compute)));
    expect(computed).toBe(1);
    expect(new Set(all.map((r) => r.json))).toEqual(new Set(['{"n":1}']));
    expect((await cache.get(compute)).hit).toBe(true);
    await sleep(250);
    // Expired by time: nobody waits for the aggregation; the old copy answers and one refresh starts.
    const stale = await Promise.all(Array.from({ length: 10 }, () => cache.get(compute)));
    expect(new Set(stale.map((r) => r.json))).toEqual(new Set(['{"n":1}']));
    await sleep(100);
    expect(computed).toBe(2);
    expect(await cache.get(compute)).toEqual({ json: '{"n":2}', hit: true });
  });

  it('does not store a value computed before an invalidation', async () => {
    const cache = new JsonCache({
      kv: s.services.kv,
      bus: s.services.bus,
      key: `test:${kind}:race`,
      ttlMs: 10_000,
      invalidateOn: ['new_alert'],
    });
    await cache.start();
    try {
      let release: () => void = () => undefined;
      let started: () => void = () => undefined;
      const gate = new Promise<void>((r) => (release = r));
      const running = new Promise<void>((r) => (started = r));
      const pending = cache.get(async () => {
        started();
        await gate;
        return { stale: true };
      });
      await running; // the computation has begun: an event from now on makes its result stale
      await s.services.bus.publish(EVENTS_CHANNEL, makeEvent('new_alert', {}));
      await sleep(100); // the event reaches the cache while the computation is still running
      release();
      expect((await pending).json).toBe('{"stale":true}');
      expect(await s.services.kv.get(`test:${kind}:race`)).toBeNull();
      expect((await cache.get(async () => ({ stale: false }))).json).toBe('{"stale":false}');
    } finally {
      await cache.stop();
    }
  });
});
