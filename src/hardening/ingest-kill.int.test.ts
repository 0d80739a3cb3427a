import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, queryRows, type Store } from '../store/db.js';
import { dropSchema, hasPostgres, TEST_DATABASE_URL, uniqueName } from '../test-support/services.js';
import { waitFor } from './private-servers.js';

/**
 * Crash safety (issue 11): `iotsec ingest` is killed with SIGKILL in the middle of a file, then run again on
 * the same database. The resumed ingest must end with exactly what an uninterrupted ingest of the same file
 * writes into a fresh database: same flow count, same multiset of (community_id, ts_start, bytes), same MACs.
 * - Embedded PGlite (same DATA_DIR): the dead process leaves its PGlite lock file behind, which the restart
 *   must take over.
 * - PostgreSQL (a fresh schema per run): the capture holds port scans and DDoS bursts (several database
 *   batches), and the process is killed as soon as the first batch is committed, so the restart must skip
 *   exactly what was committed and add the rest.
 */

const pgUp = await hasPostgres();

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
  return snapshotOf(await openStore({ pgliteDir: join(dataDir, 'pglite') }));
}

async function snapshotOf(store: Store): Promise<Snapshot> {
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

describe.skipIf(!pgUp)('ingest killed with SIGKILL (PostgreSQL)', () => {
  const work = mkdtempSync(join(tmpdir(), 'iotsec-kill-pg-'));
  const capture = join(work, 'attacks.pcap');
  const schemas: string[] = [];
  let reference: Snapshot;

  const pgEnv = (schema: string): NodeJS.ProcessEnv => ({
    ...embeddedEnv(join(work, schema)),
    DATABASE_URL: TEST_DATABASE_URL,
    DATABASE_SCHEMA: schema,
  });
  const open = (schema: string) => openStore({ databaseUrl: TEST_DATABASE_URL, schema, poolMax: 2 });
  const pgIngest = (schema: string) =>
    spawn(process.execPath, [CLI, 'ingest', capture], {
      cwd: ROOT,
      env: pgEnv(schema),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  async function pgRunToEnd(schema: string): Promise<void> {
    const child = pgIngest(schema);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number>((done) => child.once('exit', (c) => done(c ?? -1)));
    if (code !== 0) throw new Error(`ingest exited ${code}: ${out.slice(-2000)}`);
  }
  const newSchema = () => {
    const s = uniqueName('kill');
    schemas.push(s);
    return s;
  };

  beforeAll(async () => {
    const sim = spawnSync(
      process.execPath,
      [
        CLI,
        'simulate',
        '--out',
        capture,
        '--duration',
        '15m',
        ...['port_scan@30s', 'mirai_scan@1m', 'ddos@2m', 'port_scan@3m', 'ddos@8m', 'port_scan@12m'].flatMap(
          (i) => ['--inject', i],
        ),
      ],
      { cwd: ROOT, env: { ...process.env, DATA_DIR: join(work, 'sim') }, encoding: 'utf8', timeout: 60_000 },
    );
    expect(sim.status, sim.stderr).toBe(0);
    const ref = newSchema();
    await pgRunToEnd(ref);
    reference = await snapshotOf(await open(ref));
    // Several batches of 20,000 items: the kill lands between two of them even when a batch commits
    // faster than the test polls.
    expect(reference.flows).toBeGreaterThan(40_000);
  }, 120_000);

  afterAll(async () => {
    for (const schema of schemas) {
      const store = await open(schema);
      await dropSchema(store);
      await store.close();
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('resumes after kill -9 between two committed batches and ends identical to an uninterrupted ingest', async () => {
    const schema = newSchema();
    const probe = await open(schema);
    const committed = async () => {
      try {
        const [r] = await queryRows<{ n: number }>(
          probe.db,
          sql`SELECT count(*)::int AS n FROM network_traffic`,
        );
        return Number(r?.n ?? 0);
      } catch {
        return 0; // the tables do not exist yet
      }
    };
    const child = pgIngest(schema);
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    await waitFor('the first committed batch', async () => (await committed()) > 0, 60_000);
    child.kill('SIGKILL');
    await exited;
    const partial = await committed();
    await probe.close();
    // Killed in the middle: some flows committed, not all.
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(reference.flows);

    await pgRunToEnd(schema);
    const resumed = await snapshotOf(await open(schema));
    expect(resumed.flows).toBe(reference.flows);
    expect(resumed.flowKeys).toEqual(reference.flowKeys);
    expect(resumed.macs).toEqual(reference.macs);
  }, 120_000);
});
