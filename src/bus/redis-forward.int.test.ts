import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import {
  hasRedisServer,
  startPrivateRedis,
  toolMissing,
  waitFor,
  type PrivateRedis,
} from '../hardening/private-servers.js';
import { uniqueName } from '../test-support/services.js';
import { makeEvent } from './events.js';
import { RedisBus } from './redis.js';
import type { BusEvent } from './types.js';

/**
 * The Redis bus delivers to its own process first and forwards to Redis best-effort (issue 11): exactly
 * once locally (the Redis echo is skipped), never failing or blocking publish() while Redis is down, a
 * bounded buffer whose overflow is dropped and counted, forwarded in order when Redis is back.
 */

const skip = toolMissing('redis-server', hasRedisServer());

describe.skipIf(skip)('RedisBus forwarding', () => {
  let redis: PrivateRedis;
  let pub: RedisBus;
  let other: RedisBus;
  const local: BusEvent[] = [];
  const remote: BusEvent[] = [];

  beforeAll(async () => {
    redis = await startPrivateRedis();
    const prefix = uniqueName('fwd');
    const quiet = () => undefined;
    pub = new RedisBus({ url: redis.url, prefix, onError: quiet, forwardBufferMax: 3 });
    other = new RedisBus({ url: redis.url, prefix, onError: quiet });
    await pub.subscribe('events', (e) => local.push(e));
    await other.subscribe('events', (e) => remote.push(e));
  }, 30_000);

  afterAll(async () => {
    await pub?.close();
    await other?.close();
    await redis?.destroy();
  });

  it('delivers locally exactly once, buffers during an outage, drops and counts the overflow', async () => {
    const first = makeEvent('new_alert', { n: 0 });
    await pub.publish('events', first);
    await waitFor('the event on the other process', async () => remote.length === 1);
    await new Promise((r) => setTimeout(r, 300)); // time for a duplicate echo to show up, if any
    expect(local.map((e) => e.id)).toEqual([first.id]);

    await redis.kill();
    await waitFor('the bus to notice', async () => pub.redisDown);
    const during = [1, 2, 3, 4, 5].map((n) => makeEvent('new_alert', { n }));
    for (const e of during) {
      const t0 = Date.now();
      await pub.publish('events', e);
      expect(Date.now() - t0).toBeLessThan(200);
    }
    await waitFor('local delivery during the outage', async () => local.length === 6);
    expect(pub.forwardStats()).toEqual({ pending: 3, forwardedLate: 0, dropped: 2 });
    const refused = await pub.enqueue('q', 'job', {}).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('REDIS_UNAVAILABLE');
    await expect(pub.recent('events', 10)).rejects.toBeInstanceOf(AppError);

    await redis.start();
    await waitFor('the buffer to drain', async () => pub.forwardStats().pending === 0, 20_000);
    expect(pub.forwardStats()).toEqual({ pending: 0, forwardedLate: 3, dropped: 2 });
    const kept = during.slice(2).map((e) => e.id);
    expect((await pub.recent('events', 10)).map((e) => e.id)).toEqual(kept);
    await waitFor('the late events on the other process', async () => remote.length === 4, 10_000);
    expect(remote.map((e) => e.id)).toEqual([first.id, ...kept]);
    await new Promise((r) => setTimeout(r, 300));
    expect(local.map((e) => e.id)).toEqual([first.id, ...during.map((e) => e.id)]);
    expect(await pub.enqueue('q', 'job', {})).toBeTruthy();
  }, 60_000);
});
