import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, queryRows } from '../store/db.js';
import { waitFor } from './private-servers.js';

/**
 * Crash safety (issue 11): `iotsec ingest` is killed with SIGKILL in the middle of a file, then run again on
 * the same DATA_DIR (embedded PGlite). The dead process leaves its PGlite lock file behind, which the restart
 * must take over; the resumed ingest must end with exactly what an uninterrupted ingest of the same file
 * writes into a fresh database: same flow count, same multiset of (community_id, ts_start, bytes), same MACs.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'iotsec.js');

interface Snapshot {
  flows: number;
  flowKeys: string[];
  macs: string[];
}

function embeddedEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  for (const k of ['DATABASE_URL', 'DATABASE_READ_URL', 'DATABASE_SCHEMA', 'REDIS_URL']) delete env[k];
  return env;
}

function ingest(dataDir: string, file: string) {
  return spawn(process.execPath, [CLI, 'ingest', file], {
    cwd: ROOT,
    env: embeddedEnv(dataDir),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function runToEnd(dataDir: string, file: string): Promise<number> {
  const child = ingest(dataDir, file);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number>((done) => child.once('exit', (c) => done(c ?? -1)));
  if (code !== 0) throw new Error(`ingest exited ${code}: ${out.slice(-2000)}`);
  return code;
}

async function snapshot(dataDir: string): Promise<Snapshot> {
  const store = await openStore({ pgliteDir: join(dataDir, 'pglite') });
  try {
    const keys = await queryRows<{ k: string }>(
      store.db,
      sql`SELECT coalesce(community_id, '') || '|' || (extract(epoch from ts_start) * 1000000)::bigint || '|' || (bytes_out + bytes_in) AS k FROM network_traffic`,
    );
    const macs = await queryRows<{ mac: string }>(
      store.db,
      sql`SELECT mac FROM devices WHERE mac IS NOT NULL ORDER BY mac`,
    );
    return { flows: keys.length, flowKeys: keys.map((r) => r.k).sort(), macs: macs.map((r) => r.mac) };
  } finally {
    await store.close();
  }
}

describe('ingest killed with SIGKILL (embedded PGlite)', () => {
  const work = mkdtempSync(join(tmpdir(), 'iotsec-kill-'));
  const capture = join(work, 'capture.pcap');
  let reference: Snapshot;
  let referenceMs = 0;

  beforeAll(async () => {
    const sim = spawnSync(process.execPath, [CLI, 'simulate', '--out', capture, '--duration', '3m'], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: join(work, 'sim') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(sim.status, sim.stderr).toBe(0);
    const t0 = Date.now();
    await runToEnd(join(work, 'reference'), capture);
    referenceMs = Date.now() - t0;
    reference = await snapshot(join(work, 'reference'));
    expect(reference.flows).toBeGreaterThan(20);
  }, 120_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('resumes after kill -9, takes over the stale lock and ends identical to an uninterrupted ingest', async () => {
    const dataDir = join(work, 'killed');
    const lock = join(dataDir, 'pglite.lock');
    const child = ingest(dataDir, capture);
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    // Kill once the child holds the database, part way through the time a whole ingest takes.
    await waitFor('the ingest to open its database', async () => existsSync(lock), 30_000);
    await new Promise((r) => setTimeout(r, Math.max(300, Math.round(referenceMs * 0.4))));
    child.kill('SIGKILL');
    await exited;

    // The dead process's lock is still there, naming a pid that no longer runs.
    expect(existsSync(lock)).toBe(true);
    expect(Number(readFileSync(lock, 'utf8').trim())).toBe(child.pid);

    await runToEnd(dataDir, capture);
    expect(existsSync(lock)).toBe(false);
    const resumed = await snapshot(dataDir);
    expect(resumed.flows).toBe(reference.flows);
    expect(resumed.flowKeys).toEqual(reference.flowKeys);
    expect(resumed.macs).toEqual(reference.macs);
  }, 120_000);
});
