import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { buildServices, type Services } from '../api/context.js';
import { createBus, ResilientKv } from '../bus/index.js';
import { loadConfig } from '../config.js';
import { openStore } from '../store/db.js';
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
 * Redis stopped (issue 11): a private redis-server is killed under a running API built with the Redis bus and
 * KV (createBus). The API keeps serving (login, authenticated reads, rate limits on local counters); when Redis
 * is back, jobs are enqueued and processed again.
 */

const skip = toolMissing('redis-server', hasRedisServer());
const RATE = 40;

describe.skipIf(skip)('Redis outage', () => {
  let redis: PrivateRedis;
  let app: FastifyInstance;
  let services: Services;
  const warnings: string[] = [];
  const processed: string[] = [];

  beforeAll(async () => {
    redis = await startPrivateRedis();
    const store = await openStore({ pgliteDir: 'memory://' });
    await store.migrate();
    const { bus, kv } = createBus({
      redisUrl: redis.url,
      redisPrefix: uniqueName('hard'),
      onError: (e) => warnings.push(e.message),
    });
    services = buildServices(store, bus, kv);
    await services.users.ensureFirstAdmin('admin', ADMIN_PASSWORD);
    const config = loadConfig({
      DATA_DIR: mkdtempSync(join(tmpdir(), 'iotsec-redis-')),
      ADMIN_PASSWORD,
      LOG_LEVEL: 'silent',
      JWT_SECRET: `test-secret-${randomUUID()}-${randomUUID()}`,
      API_RATE_LIMIT: String(RATE),
    });
    app = await buildApp(config, { services, logger: false });
    await app.ready();
    await services.bus.process('hardening', async (job) => {
      processed.push(String((job.data as { n: string }).n));
      return null;
    });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await services?.close().catch(() => undefined);
    await redis?.kill();
  });

  it('keeps serving while Redis is down and processes jobs again once it is back', async () => {
    expect(services.kv).toBeInstanceOf(ResilientKv);
    await services.bus.enqueue('hardening', 'job', { n: 'before' });
    await waitFor('the first job', async () => processed.includes('before'));

    await redis.kill();

    // Login and authenticated reads keep working on the local KV.
    const t0 = Date.now();
    const { access_token: token } = await login(app, 'admin', ADMIN_PASSWORD);
    expect(Date.now() - t0).toBeLessThan(5000);
    const me = await app.inject({ url: '/api/v1/auth/me', headers: bearer(token) });
    expect(me.statusCode).toBe(200);
    expect((services.kv as ResilientKv).isDegraded).toBe(true);
    expect(warnings.filter((w) => w.startsWith('Redis KV unavailable'))).toHaveLength(1);

    // Rate limits fall back to per-process counters: the budget still ends in 429, never a 5xx.
    const statuses: number[] = [];
    for (let i = 0; i < RATE + 5; i++) {
      const res = await app.inject({ url: '/api/v1/devices/', headers: bearer(token) });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) expect(errorCode(res)).toBe('RATE_LIMITED');
    }
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses).toContain(200);
    expect(statuses).toContain(429);
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    const ready = await app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(errorCode(ready)).toBe('NOT_READY');

    await redis.start();
    await waitFor(
      'the job queue to accept jobs again',
      () =>
        services.bus.enqueue('hardening', 'job', { n: 'after' }).then(
          () => true,
          () => false,
        ),
      30_000,
    );
    await waitFor('the job after the restart', async () => processed.includes('after'), 30_000);
    await waitFor('/readyz', async () => (await app.inject({ url: '/readyz' })).statusCode === 200, 20_000);
    await waitFor(
      'the KV to use Redis again',
      async () => {
        await services.kv.get('probe');
        return !(services.kv as ResilientKv).isDegraded;
      },
      20_000,
    );
    expect(warnings).toContain('Redis KV is back');
  }, 120_000);
});
