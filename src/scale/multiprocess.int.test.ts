import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { simulateToPcap } from '../sim/pcap-writer.js';
import {
  hasPostgres,
  hasRedis,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  uniqueName,
} from '../test-support/services.js';

/**
 * Scale-out for real: two API processes (`iotsec serve`), one worker and one collector, as separate OS
 * processes on one PostgreSQL and one Redis. Events produced anywhere reach WebSocket clients of every API
 * process; a job started through one API process runs on the worker and its progress reaches both.
 */
const services = (await hasPostgres()) && (await hasRedis());
const BIN = resolve(import.meta.dirname, '..', '..', 'bin', 'iotsec.js');
const PASSWORD = 'multi-process-password';

interface Msg {
  type: string;
  id?: string;
  data?: Record<string, unknown>;
}

function feed(port: number, token: string): { messages: Msg[]; ws: WebSocket; ready: Promise<void> } {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  const messages: Msg[] = [];
  const ready = new Promise<void>((res, rej) => {
    ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token })));
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as Msg;
      messages.push(m);
      if (m.type === 'hello') res();
    });
    ws.on('error', rej);
  });
  return { messages, ws, ready };
}

async function until<T>(
  f: () => T | undefined | Promise<T | undefined>,
  ms: number,
  what: string,
): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.skipIf(!services)('several processes on one PostgreSQL and one Redis', () => {
  const procs: ChildProcess[] = [];
  const logs: string[] = [];
  const base = 21000 + Math.floor(Math.random() * 20000);
  const ports = { a: base, b: base + 1, worker: base + 2, collector: base + 3 };
  const dataDir = mkdtempSync(join(tmpdir(), 'iotsec-mp-'));
  const watchDir = join(dataDir, 'watch');
  const schema = uniqueName('mp');
  const env = {
    ...process.env,
    DATABASE_URL: TEST_DATABASE_URL,
    DATABASE_SCHEMA: schema,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: uniqueName('mp'),
    JWT_SECRET: `shared-secret-${schema}-0123456789abcdef`,
    ADMIN_PASSWORD: PASSWORD,
    DATA_DIR: dataDir,
    DEMO: 'off',
    LOG_LEVEL: 'warn',
  };
  const run = (args: string[], extra: Record<string, string>) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: { ...env, ...extra } });
    p.stderr?.on('data', (d: Buffer) => logs.push(`${args[0]}: ${d.toString()}`));
    p.stdout?.on('data', (d: Buffer) => logs.push(`${args[0]}: ${d.toString()}`));
    procs.push(p);
    return p;
  };
  let token = '';

  beforeAll(async () => {
    mkdirSync(watchDir);
    // Migrate once first so the four processes do not all create the schema at the same moment.
    await new Promise<void>((res, rej) => {
      const m = spawn(process.execPath, [BIN, 'migrate'], { env });
      m.on('exit', (c) => (c === 0 ? res() : rej(new Error(`migrate exited ${c}`))));
    });
    run(['serve'], { PORT: String(ports.a) });
    run(['serve'], { PORT: String(ports.b) });
    run(['worker'], { HEALTH_PORT: String(ports.worker) });
    run(['collect', '--watch', watchDir], { HEALTH_PORT: String(ports.collector) });
    for (const port of Object.values(ports)) {
      await until(
        () =>
          fetch(`http://127.0.0.1:${port}/readyz`).then(
            (r) => (r.ok ? true : undefined),
            () => undefined,
          ),
        90_000,
        `readyz on ${port}`,
      );
    }
    const r = await fetch(`http://127.0.0.1:${ports.a}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }),
    });
    token = ((await r.json()) as { access_token: string }).access_token;
  }, 180_000);

  afterAll(async () => {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(
      procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))),
    );
    const drop = spawn('psql', [TEST_DATABASE_URL, '-qc', `DROP SCHEMA IF EXISTS "${schema}" CASCADE`]);
    await new Promise((r) => drop.once('exit', r));
  });

  it('events from a capture the collector ingests reach WebSocket clients of both API processes', async () => {
    const a = feed(ports.a, token);
    const b = feed(ports.b, token); // the token from A works on B: the secret is shared, sessions are in the DB
    await Promise.all([a.ready, b.ready]);
    const pcap = join(dataDir, 'incident.pcap');
    await simulateToPcap(pcap, {
      seed: 7,
      startMs: Date.now() - 10 * 60_000,
      durationMs: 5 * 60_000,
      inject: [{ kind: 'port_scan', afterMs: 60_000 }],
    });
    copyFileSync(pcap, join(watchDir, 'incident.pcap'));
    for (const c of [a, b]) {
      await until(
        () => (c.messages.some((m) => m.type === 'new_device') ? true : undefined),
        60_000,
        'new_device',
      );
      await until(
        () => (c.messages.some((m) => m.type === 'new_alert') ? true : undefined),
        60_000,
        'new_alert',
      );
    }
    const idsA = a.messages.filter((m) => m.id).map((m) => m.id);
    const idsB = b.messages.filter((m) => m.id).map((m) => m.id);
    expect(idsA.filter((id) => idsB.includes(id)).length).toBeGreaterThan(0);
    a.ws.close();
    b.ws.close();
  }, 150_000);

  it('a job started through one API process runs on the worker, and its progress reaches both', async () => {
    const a = feed(ports.a, token);
    const b = feed(ports.b, token);
    await Promise.all([a.ready, b.ready]);
    const pcap = join(
      resolve(import.meta.dirname, '..', '..', '..', 'shared', 'data'),
      'iot-sentinel-train',
      'HueBridge',
      'Setup-A-1-STA.pcap',
    );
    const up = await fetch(`http://127.0.0.1:${ports.a}/api/v1/sources/upload?name=hue.pcap`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/vnd.tcpdump.pcap' },
      body: readFileSync(pcap),
    });
    expect(up.status).toBe(202);
    const { job_id } = (await up.json()) as { job_id: string };
    for (const c of [a, b]) {
      await until(
        () =>
          c.messages.some(
            (m) => m.type === 'job_update' && m.data?.job_id === job_id && m.data?.status === 'completed',
          )
            ? true
            : undefined,
        60_000,
        'job_update completed',
      );
    }
    const info = await fetch(`http://127.0.0.1:${ports.b}/api/v1/jobs/ingest/${job_id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await info.json()) as { status: string }).status).toBe('completed');
    a.ws.close();
    b.ws.close();
  }, 120_000);
});
