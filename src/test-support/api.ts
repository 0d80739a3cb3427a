import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../api/app.js';
import { buildServices, type Services } from '../api/context.js';
import { MemoryBus, MemoryKv } from '../bus/memory.js';
import { RedisBus, RedisKv } from '../bus/redis.js';
import { loadConfig, type Config } from '../config.js';
import { openStore } from '../store/db.js';
import {
  dropSchema,
  hasPostgres,
  hasRedis,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  uniqueName,
} from './services.js';

export interface Stack {
  name: string;
  app: FastifyInstance;
  services: Services;
  config: Config;
  close(): Promise<void>;
}

export const ADMIN_PASSWORD = 'correct-horse-battery-staple';

/** Embedded (PGlite + in-process bus) always; PostgreSQL + Redis when both servers answer. */
export async function stackKinds(): Promise<('embedded' | 'servers')[]> {
  const kinds: ('embedded' | 'servers')[] = ['embedded'];
  if ((await hasPostgres()) && (await hasRedis())) kinds.push('servers');
  return kinds;
}

/** A whole API on a fresh database, with the first admin created. */
export async function makeStack(
  kind: 'embedded' | 'servers',
  env: Record<string, string> = {},
): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'iotsec-test-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    ADMIN_PASSWORD,
    LOG_LEVEL: 'silent',
    JWT_SECRET: `test-secret-${randomUUID()}-${randomUUID()}`,
    ...env,
  });
  const store =
    kind === 'servers'
      ? await openStore({ databaseUrl: TEST_DATABASE_URL, schema: uniqueName('api'), poolMax: 5 })
      : await openStore({ pgliteDir: 'memory://' });
  await store.migrate();
  const prefix = uniqueName('api');
  const { bus, kv } =
    kind === 'servers'
      ? {
          bus: new RedisBus({ url: TEST_REDIS_URL, prefix }),
          kv: new RedisKv({ url: TEST_REDIS_URL, prefix }),
        }
      : { bus: new MemoryBus(), kv: new MemoryKv() };
  const services = buildServices(store, bus, kv);
  await services.users.ensureFirstAdmin('admin', ADMIN_PASSWORD);
  const app = await buildApp(config, { services, logger: false });
  await app.ready();
  return {
    name: kind,
    app,
    services,
    config,
    async close() {
      await app.close();
      await dropSchema(store);
      await services.close();
    },
  };
}

export async function login(app: FastifyInstance, username: string, password: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username, password },
  });
  if (res.statusCode !== 200) throw new Error(`login ${username}: ${res.statusCode} ${res.body}`);
  return res.json() as { access_token: string; refresh_token: string; expires_in: number };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export function errorCode(res: LightMyRequestResponse): string | undefined {
  try {
    return (res.json() as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}
