/**
 * TEST ONLY (vitest globalSetup of the integration project): drops the PostgreSQL schemas that test files
 * of earlier runs created and never dropped (a run killed part-way: Ctrl-C, a timeout). A test schema is
 * named by uniqueName('t') with its creation time in it; only those older than STALE_AFTER_MS are dropped,
 * so test files running now, here or in a parallel run, keep theirs.
 */
import pg from 'pg';
import { TEST_DATABASE_URL } from './services.js';

export const STALE_AFTER_MS = 6 * 3_600_000;

/** The names among `schemas` that uniqueName('t') made more than `maxAgeMs` before `nowMs`. */
export function staleTestSchemas(schemas: readonly string[], nowMs: number, maxAgeMs: number): string[] {
  return schemas.filter((name) => {
    const m = /^t_([0-9a-z]{6,10})_[0-9a-f]{6}$/.exec(name);
    if (!m) return false;
    const created = parseInt(m[1] as string, 36);
    return Number.isFinite(created) && nowMs - created > maxAgeMs;
  });
}

export default async function setup(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 1500 });
  try {
    await client.connect();
  } catch {
    return; // no server: the tests that need one say so themselves
  }
  try {
    const { rows } = await client.query<{ nspname: string }>(
      `SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'`,
    );
    const stale = staleTestSchemas(
      rows.map((r) => r.nspname),
      Date.now(),
      STALE_AFTER_MS,
    );
    for (const name of stale) await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    if (stale.length > 0) console.warn(`dropped ${stale.length} test schemas left by earlier runs`);
  } finally {
    await client.end();
  }
}
