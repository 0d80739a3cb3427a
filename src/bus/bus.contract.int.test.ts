import { afterAll, describe, expect, it } from 'vitest';
import { hasRedis, TEST_REDIS_URL, uniqueName } from '../test-support/services.js';
import { MemoryBus, MemoryKv } from './memory.js';
import { RedisBus, RedisKv } from './redis.js';
import type { Bus, BusEvent, JobEvent, Kv } from './types.js';

const redisUp = await hasRedis();

interface Impl {
  name: string;
  make(): { bus: Bus; kv: Kv };
}

const impls: Impl[] = [{ name: 'memory', make: () => ({ bus: new MemoryBus(), kv: new MemoryKv() }) }];
if (redisUp) {
  impls.push({
    name: 'redis',
    make: () => {
      const o = { url: TEST_REDIS_URL, prefix: uniqueName('bus') };
      return { bus: new RedisBus(o), kv: new RedisKv(o) };
    },
  });
}

function waitFor<T>(pred: () => T | undefined, ms = 10_000): Promise<T> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      const v = pred();
      if (v !== undefined) return resolve(v);
      if (Date.now() - start > ms) return reject(new Error('timed out'));
      setTimeout(tick, 20);
    };
    tick();
  });
}

const ev = (type: string, data: unknown): BusEvent => ({
  type,
  id: uniqueName('e'),
  at: new Date().toISOString(),
  data,
});

describe.each(impls)('bus contract: $name', (impl) => {
  const made: { bus: Bus; kv: Kv }[] = [];
  const make = () => {
    const m = impl.make();
    made.push(m);
    return m;
  };
  afterAll(async () => {
    for (const m of made) {
      await m.bus.close();
      await m.kv.close();
    }
  });

  it('delivers published events to every subscriber of the channel, and only that channel', async () => {
    const { bus } = make();
    const a: BusEvent[] = [];
    const b: BusEvent[] = [];
    const other: BusEvent[] = [];
    await bus.subscribe('alerts', (e) => a.push(e));
    const unsubB = await bus.subscribe('alerts', (e) => b.push(e));
    await bus.subscribe('devices', (e) => other.push(e));
    await bus.publish('alerts', ev('new_alert', { n: 1 }));
    await waitFor(() => (a.length === 1 && b.length === 1 ? true : undefined));
    expect(a[0]?.data).toEqual({ n: 1 });
    await unsubB();
    await bus.publish('alerts', ev('new_alert', { n: 2 }));
    await waitFor(() => (a.length === 2 ? true : undefined));
    expect(b).toHaveLength(1);
    expect(other).toHaveLength(0);
  });

  it('runs a job, reports its progress and result', async () => {
    const { bus } = make();
    const q = uniqueName('q');
    const events: JobEvent[] = [];
    await bus.onJobEvent(q, (e) => events.push(e));
    await bus.process(q, async (job) => {
      await job.progress(50);
      await job.progress({ step: 'done', pct: 100 });
      return { doubled: (job.data as { n: number }).n * 2 };
    });
    const id = await bus.enqueue(q, 'double', { n: 21 });
    await waitFor(() => events.find((e) => e.jobId === id && e.kind === 'completed'));
    expect(events.filter((e) => e.kind === 'progress').map((e) => e.progress)).toEqual([
      50,
      { step: 'done', pct: 100 },
    ]);
    const info = await bus.getJob(q, id);
    expect(info?.status).toBe('completed');
    expect(info?.result).toEqual({ doubled: 42 });
  });

  it('retries a failing job with exponential backoff, then succeeds', async () => {
    const { bus } = make();
    const q = uniqueName('q');
    const tries: number[] = [];
    await bus.process(q, async (job) => {
      tries.push(Date.now());
      if (job.attempt < 3) throw new Error(`flaky ${job.attempt}`);
      return 'ok';
    });
    const id = await bus.enqueue(q, 'flaky', {}, { attempts: 3, backoffMs: 100 });
    const done = await waitFor(() => (tries.length === 3 ? true : undefined));
    expect(done).toBe(true);
    const gap1 = (tries[1] ?? 0) - (tries[0] ?? 0);
    const gap2 = (tries[2] ?? 0) - (tries[1] ?? 0);
    expect(gap1).toBeGreaterThanOrEqual(90);
    expect(gap2).toBeGreaterThanOrEqual(190);
    const final = await pollJob(bus, q, id, 'completed');
    expect(final.attemptsMade).toBe(3);
    expect(final.result).toBe('ok');
  });

  it('ends a job that keeps failing as failed, with its error', async () => {
    const { bus } = make();
    const q = uniqueName('q');
    const events: JobEvent[] = [];
    await bus.onJobEvent(q, (e) => events.push(e));
    await bus.process(q, async () => {
      throw new Error('disk on fire');
    });
    const id = await bus.enqueue(q, 'doomed', {}, { attempts: 2, backoffMs: 50 });
    const failed = await waitFor(() => events.find((e) => e.jobId === id && e.kind === 'failed'));
    expect(failed.error).toBe('disk on fire');
    const info = await pollJob(bus, q, id, 'failed');
    expect(info.error).toBe('disk on fire');
    expect(info.attemptsMade).toBe(2);
  });

  it('does not queue the same job id twice', async () => {
    const { bus } = make();
    const q = uniqueName('q');
    let runs = 0;
    const a = await bus.enqueue(q, 'once', {}, { jobId: 'same', delayMs: 200 });
    const b = await bus.enqueue(q, 'once', {}, { jobId: 'same', delayMs: 200 });
    expect(a).toBe(b);
    await bus.process(q, async () => {
      runs++;
    });
    await pollJob(bus, q, a, 'completed');
    await new Promise((r) => setTimeout(r, 300));
    expect(runs).toBe(1);
  });

  it('counts hits in a fixed window and keeps values with a TTL', async () => {
    const { kv } = make();
    const key = uniqueName('k');
    expect((await kv.hit(key, 1000)).count).toBe(1);
    const second = await kv.hit(key, 1000);
    expect(second.count).toBe(2);
    expect(second.resetMs).toBeGreaterThan(0);
    expect(second.resetMs).toBeLessThanOrEqual(1000);
    await kv.set(`${key}:v`, 'hello', 150);
    expect(await kv.get(`${key}:v`)).toBe('hello');
    await new Promise((r) => setTimeout(r, 250));
    expect(await kv.get(`${key}:v`)).toBeNull();
    const windowed = uniqueName('w');
    await kv.hit(windowed, 100);
    await new Promise((r) => setTimeout(r, 150));
    expect((await kv.hit(windowed, 100)).count).toBe(1);
  });
});

async function pollJob(bus: Bus, q: string, id: string, status: string) {
  const start = Date.now();
  while (Date.now() - start < 10_000) {
    const info = await bus.getJob(q, id);
    if (info?.status === status) return info;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`job ${id} never became ${status}`);
}
