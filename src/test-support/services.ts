import { createConnection } from 'node:net';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { openStore, type Store } from '../store/db.js';

/**
 * Real services for tests. PostgreSQL and Redis tests run against the servers named by TEST_DATABASE_URL and
 * TEST_REDIS_URL (defaults: the local ones). Where a server is not reachable the tests are skipped with the
 * reason printed, except in CI (CI=true), where a missing service fails the run: CI must test for real.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((done) => {
    const s = createConnection({ host: u.hostname, port: Number(u.port || defaultPort) });
    const finish = (ok: boolean) => {
      s.destroy();
      done(ok);
    };
    s.setTimeout(1500, () => finish(false));
    s.once('connect', () => finish(true));
    s.once('error', () => finish(false));
  });
}

async function required(name: string, url: string, port: number): Promise<boolean> {
  const ok = await reachable(url, port);
  if (!ok) {
    const msg = `${name} at ${url} is not reachable`;
    if (process.env.CI === 'true') throw new Error(`${msg}: CI must run the real-service tests`);
    console.warn(`SKIPPED: ${msg}; its tests are skipped (start it to run them)`);
  }
  return ok;
}

export const hasPostgres = () => required('PostgreSQL', TEST_DATABASE_URL, 5432);
export const hasRedis = () => required('Redis', TEST_REDIS_URL, 6379);

/** A fresh, unique name (schema, Redis prefix) so test files can run in parallel. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export interface Engine {
  name: 'pglite' | 'postgres';
  open(): Promise<Store>;
}

/** The store engines to run a test against: embedded PGlite always, PostgreSQL when reachable. */
export async function storeEngines(): Promise<Engine[]> {
  const engines: Engine[] = [{ name: 'pglite', open: () => openStore({ pgliteDir: 'memory://' }) }];
  if (await hasPostgres()) {
    engines.push({
      name: 'postgres',
      open: () => openStore({ databaseUrl: TEST_DATABASE_URL, schema: uniqueName('t'), poolMax: 4 }),
    });
  }
  return engines;
}

/** Drops a test schema created on the PostgreSQL server. */
export async function dropSchema(store: Store): Promise<void> {
  if (store.engine === 'postgres' && store.schemaName !== 'public') {
    await store.db.execute(sql.raw(`DROP SCHEMA IF EXISTS "${store.schemaName}" CASCADE`));
  }
}

/** ../shared/data beside the repository (never copied into it). */
export const SHARED_DATA = resolve(import.meta.dirname, '..', '..', '..', 'shared', 'data');
export const hasSharedData = existsSync(SHARED_DATA);
