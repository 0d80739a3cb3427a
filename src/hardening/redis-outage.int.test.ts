import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raiseAlert } from '../alerts/service.js';
import { buildApp } from '../api/app.js';
import { buildServices, type Services } from '../api/context.js';
import { createBus, ResilientKv } from '../bus/index.js';
import { loadConfig } from '../config.js';
import { openStore, type Store } from '../store/db.js';
import { ADMIN_PASSWORD, bearer, errorCode, login } from '../test-support/api.js';
import { uniqueName } from '../test-support/services.js';
import {
  hasRedisServer,
  startPrivateRedis,
  toolMissing,
  waitFor,
  type PrivateRedis,
} from './private-servers.js';

/**
 * Redis stopped (issue 11): a private redis-server (AOF persistence, as in production) is killed with SIGKILL
 * under two API processes A and B built with the Redis bus and KV (createBus), each with a WebSocket client.
 * While Redis is down, A keeps serving: login, authenticated reads, rate limits on local counters, and an
 * alert raised on A reaches A's own WebSocket client at once (the bus delivers locally first and keeps the
 * event for Redis); enqueueing a job answers 503 REDIS_UNAVAILABLE. When Redis is back, the event waiting
 * on A reaches B, fan-out between the processes works again, and both a job queued before the outage and one
 * queued after it run.
 */

const skip = toolMissing('redis-server', hasRedisServer());
const RATE = 40;

interface WsMessage {
  type: string;
  id?: string;
  data?: { id?: number; title?: string };
}

describe.skipIf(skip)('Redis outage', () => {
  let redis: PrivateRedis;
  let store: Store;
  let a: { app: FastifyInstance; services: Services };
  let b: { app: FastifyInstance; services: Services };
  const warnings: string[] = [];
  const processed: string[] = [];

  beforeAll(async () => {
    redis = await startPrivateRedis({ persist: true });
    store = await openStore({ pgliteDir: 'memory://' });
    await store.migrate();
    const prefix = uniqueName('hard');
    const config = loadConfig({
      DATA_DIR: mkdtempSync(join(tmpdir(), 'iotsec-redis-')),
      ADMIN_PASSWORD,
      LOG_LEVEL: 'silent',
      JWT_SECRET: `test-secret-${randomUUID()}-${randomUUID()}`,
      API_RATE_LIMIT: String(RATE),
    });
    const proc = async (name: string) => {
      const { bus, kv } = await createBus({
        redisUrl: redis.url,
        redisPrefix: prefix,
        onError: (e) => warnings.push(`${name}: ${e.message}`),
      });
      const services = buildServices(store, bus, kv);
      const app = await buildApp(config, { services, logger: false });
      await app.ready();
      return { app, services };
    };
    a = await proc('A');
    b = await proc('B');
    await a.services.users.ensureFirstAdmin('admin', ADMIN_PASSWORD);
    await a.services.bus.process('hardening', async (job) => {
      processed.push(String((job.data as { n: string }).n));
      return null;
    });
  }, 60_000);

  afterAll(async () => {
    await a?.app.close();
    await b?.app.close();
    await b?.services.bus.close().catch(() => undefined);
    await b?.services.kv.close().catch(() => undefined);
    await a?.services.close().catch(() => undefined); // closes the shared store too
    await redis?.destroy();
  });

  async function feed(app: FastifyInstance, token: string) {
    const ws = await app.injectWS('/ws');
    const messages: WsMessage[] = [];
    ws.on('message', (d: Buffer) => messages.push(JSON.parse(d.toString()) as WsMessage));
    ws.send(JSON.stringify({ type: 'auth', token }));
    await waitFor('the WebSocket hello', async () => messages.some((m) => m.type === 'hello'), 10_000);
    const alertsWithId = (id: number) =>
      messages.filter((m) => m.type === 'new_alert' && m.data?.id === id).length;
    return { ws, messages, alertsWithId };
  }

  const raise = async (title: string) => {
    const r = await raiseAlert(a.services, {
      deviceId: null,
      kind: 'scan',
      severity: 'medium',
      title,
      peer: `198.51.100.${Math.floor(Math.random() * 250)}-${randomUUID()}`,
    });
    if (r.outcome !== 'created') throw new Error(`alert ${title}: ${r.outcome}`);
    return r.alert.id;
  };

  it('keeps serving and fanning out locally while Redis is down, and recovers fan-out and jobs', async () => {
    expect(a.services.kv).toBeInstanceOf(ResilientKv);
    const { access_token: token } = await login(a.app, 'admin', ADMIN_PASSWORD);
    const onA = await feed(a.app, token);
    const onB = await feed(b.app, token);

    // Healthy: an alert raised on A reaches the clients of both processes, each exactly once.
    const healthy = await raise('before the outage');
    await waitFor(
      'the alert on A and B',
      async () => onA.alertsWithId(healthy) + onB.alertsWithId(healthy) === 2,
    );
    await a.services.bus.enqueue('hardening', 'job', { n: 'before' });
    await waitFor('the first job', async () => processed.includes('before'));
    // Queued now, due during the outage: it must survive the crash (AOF) and run once Redis is back.
    await a.services.bus.enqueue('hardening', 'job', { n: 'queued-before' }, { delayMs: 3000 });

    await redis.kill();

    // Login and authenticated reads keep working on the local KV.
    const t0 = Date.now();
    const { access_token: fresh } = await login(a.app, 'admin', ADMIN_PASSWORD);
    expect(Date.now() - t0).toBeLessThan(5000);
    const me = await a.app.inject({ url: '/api/v1/auth/me', headers: bearer(fresh) });
    expect(me.statusCode).toBe(200);
    expect((a.services.kv as ResilientKv).isDegraded).toBe(true);
    expect(warnings.filter((w) => w.startsWith('A: Redis KV unavailable'))).toHaveLength(1);

    // An alert raised on A during the outage reaches A's own WebSocket client at once, and only once.
    const t1 = Date.now();
    const during = await raise('during the outage');
    expect(Date.now() - t1).toBeLessThan(2000);
    await waitFor('the alert on A during the outage', async () => onA.alertsWithId(during) === 1, 5000);
    expect(onB.alertsWithId(during)).toBe(0);
    expect(a.services.bus.forwardStats?.().pending).toBeGreaterThanOrEqual(1);

    // Enqueueing a job is refused cleanly (503 with a stable code), not a 500 and not a hang.
    const t2 = Date.now();
    const train = await a.app.inject({
      method: 'POST',
      url: '/api/v1/models/train',
      headers: bearer(fresh),
      payload: { task: 'anomaly' },
    });
    expect(Date.now() - t2).toBeLessThan(3000);
    expect(train.statusCode, train.body).toBe(503);
    expect(errorCode(train)).toBe('REDIS_UNAVAILABLE');
    expect(train.headers['retry-after']).toBe('5');

    // Rate limits fall back to per-process counters: the budget still ends in 429, never a 5xx.
    const statuses: number[] = [];
    for (let i = 0; i < RATE + 5; i++) {
      const res = await a.app.inject({ url: '/api/v1/devices/', headers: bearer(fresh) });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) expect(errorCode(res)).toBe('RATE_LIMITED');
    }
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses).toContain(200);
    expect(statuses).toContain(429);
    expect((await a.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    const ready = await a.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(errorCode(ready)).toBe('NOT_READY');

    await redis.start();

    // The event that waited on A is forwarded: B's client gets it live, A's client still has it once.
    await waitFor('the outage alert to reach B', async () => onB.alertsWithId(during) === 1, 30_000);
    expect(onA.alertsWithId(during)).toBe(1);
    await waitFor('the forward buffer to drain', async () => a.services.bus.forwardStats?.().pending === 0);
    expect(a.services.bus.forwardStats?.().dropped).toBe(0);
    expect(a.services.bus.forwardStats?.().forwardedLate).toBeGreaterThanOrEqual(1);
    expect((await b.services.bus.recent?.('events', 100))?.map((e) => e.data)).toContainEqual(
      expect.objectContaining({ id: during }),
    );
    // Fan-out between the processes works again for new events.
    const after = await raise('after the outage');
    await waitFor(
      'the new alert on A and B',
      async () => onA.alertsWithId(after) + onB.alertsWithId(after) === 2,
    );

    // Jobs: the one queued before the crash runs, and new ones are accepted and run.
    await waitFor(
      'the job queued before the outage',
      async () => processed.includes('queued-before'),
      30_000,
    );
    await a.services.bus.enqueue('hardening', 'job', { n: 'after' });
    await waitFor('the job after the restart', async () => processed.includes('after'), 30_000);
    expect(processed.filter((n) => n === 'queued-before')).toHaveLength(1);

    await waitFor('/readyz', async () => (await a.app.inject({ url: '/readyz' })).statusCode === 200, 20_000);
    await waitFor(
      'the KV to use Redis again',
      async () => {
        await a.services.kv.get('probe');
        return !(a.services.kv as ResilientKv).isDegraded;
      },
      20_000,
    );
    expect(warnings).toContain('A: Redis KV is back');
    // No event was delivered twice to either client.
    for (const c of [onA, onB]) {
      const ids = c.messages.filter((m) => m.id).map((m) => m.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
    onA.ws.terminate();
    onB.ws.terminate();
  }, 120_000);
});
