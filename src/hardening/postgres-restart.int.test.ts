import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { count, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { buildServices, type Services } from '../api/context.js';
import { MemoryBus, MemoryKv } from '../bus/memory.js';
import { loadConfig } from '../config.js';
import { StreamSink } from '../ingest/stream-sink.js';
import type { SourceItem } from '../sources/types.js';
import { openStore } from '../store/db.js';
import { networkTraffic, sources } from '../store/schema.js';
import { ADMIN_PASSWORD, bearer, errorCode, login } from '../test-support/api.js';
import {
  hasInitdb,
  startPrivatePostgres,
  toolMissing,
  waitFor,
  type PrivatePostgres,
} from './private-servers.js';

/**
 * PostgreSQL restart (issue 11): a private PostgreSQL instance is stopped under a running API. Requests that
 * touch the database answer 503 DATABASE_UNAVAILABLE, /readyz 503 NOT_READY, the process keeps running; once
 * the server is back, requests recover by themselves, and a StreamSink that wrote during the outage loses
 * nothing.
 */

const skip = toolMissing('PostgreSQL initdb/pg_ctl', hasInitdb());

function flow(i: number): SourceItem {
  const now = Date.UTC(2024, 0, 1) * 1000;
  return {
    kind: 'flow',
    flow: {
      tsStart: now + i * 1000,
      tsEnd: now + i * 1000 + 10,
      srcIp: '10.7.0.5',
      dstIp: `10.7.1.${i % 250}`,
      srcPort: 40000 + i,
      dstPort: 443,
      proto: 6,
      appProto: null,
      bytesOut: 100 + i,
      bytesIn: 200,
      packetsOut: 1,
      packetsIn: 1,
      payloadBytesOut: 0,
      payloadBytesIn: 0,
      tcpFlagsOut: 0x18,
      tcpFlagsIn: 0x18,
      connState: 'SF',
      communityId: `1:pgrestart${i}`,
      srcMac: '02:00:00:00:07:05',
      dstMac: null,
      vlan: null,
      sni: null,
      httpHost: null,
      dnsNames: [],
      closeReason: 'fin',
    },
  };
}

describe.skipIf(skip)('PostgreSQL restart', () => {
  let pg: PrivatePostgres;
  let app: FastifyInstance;
  let services: Services;
  let token = '';

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    const store = await openStore({
      databaseUrl: pg.url,
      schema: 'hardening',
      poolMax: 4,
      onError: () => undefined,
    });
    await store.migrate();
    services = buildServices(store, new MemoryBus(), new MemoryKv());
    await services.users.ensureFirstAdmin('admin', ADMIN_PASSWORD);
    const config = loadConfig({
      DATA_DIR: mkdtempSync(join(tmpdir(), 'iotsec-pgr-')),
      ADMIN_PASSWORD,
      LOG_LEVEL: 'silent',
      JWT_SECRET: `test-secret-${randomUUID()}-${randomUUID()}`,
      API_RATE_LIMIT: '100000',
    });
    app = await buildApp(config, { services, logger: false });
    await app.ready();
    token = (await login(app, 'admin', ADMIN_PASSWORD)).access_token;
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await services?.close().catch(() => undefined);
    pg?.destroy();
  });

  const devices = () => app.inject({ url: '/api/v1/devices/', headers: bearer(token) });

  it('answers 503 while the database is down and recovers by itself, losing no streamed flows', async () => {
    expect((await devices()).statusCode).toBe(200);
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
    const [src] = await services.store.db
      .insert(sources)
      .values({ kind: 'netflow', name: 'outage exporter', status: 'running' })
      .returning({ id: sources.id });
    const sourceId = src?.id ?? '';
    const sink = new StreamSink(services, { sourceId, flushMs: 200 });
    sink.push(Array.from({ length: 20 }, (_, i) => flow(i)));
    await sink.flush();
    await sink.settled();

    pg.stop();

    // Every DB-touching request is a clean 503, never a 500 or a crash.
    for (const url of ['/api/v1/devices/', '/api/v1/alerts/', '/api/v1/users/', '/api/v1/network-traffic/']) {
      const res = await app.inject({ url, headers: bearer(token) });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(503);
      expect(errorCode(res)).toBe('DATABASE_UNAVAILABLE');
      expect(res.headers['retry-after']).toBe('5');
    }
    const login503 = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: ADMIN_PASSWORD },
    });
    expect(login503.statusCode).toBe(503);
    expect(errorCode(login503)).toBe('DATABASE_UNAVAILABLE');
    const ready = await app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(errorCode(ready)).toBe('NOT_READY');
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);

    // The sink keeps writing during the outage: its flushes fail and the items stay buffered.
    sink.push(Array.from({ length: 30 }, (_, i) => flow(100 + i)));
    await sink.flush();
    expect(sink.dropped).toBe(0);

    await pg.start();
    await waitFor('the API to recover', async () => (await devices()).statusCode === 200, 20_000);
    await waitFor(
      '/readyz to recover',
      async () => (await app.inject({ url: '/readyz' })).statusCode === 200,
    );
    expect((await login(app, 'admin', ADMIN_PASSWORD)).access_token).toBeTruthy();

    await sink.close(20_000);
    expect(sink.dropped).toBe(0);
    const [row] = await services.store.db
      .select({ n: count() })
      .from(networkTraffic)
      .where(eq(networkTraffic.sourceId, sourceId));
    expect(row?.n).toBe(50);
  }, 90_000);
});
