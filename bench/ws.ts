import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { makeEvent, EVENTS_CHANNEL } from '../src/bus/events.js';
import { RedisBus } from '../src/bus/redis.js';
import {
  ADMIN_PASSWORD,
  ensureDist,
  freePort,
  loginToken,
  REDIS_URL,
  startServer,
  type Server,
} from './api.js';
import { compare, type BenchResult, type Group } from './harness.js';
import { dropSeedSchema } from './seed-scale.js';

/**
 * WebSocket fan-out: 1,000 clients on /ws of `iotsec serve` (50 viewer accounts × 20, the per-user cap),
 * bursts of new_alert events published through Redis (a RedisBus with the server's prefix), and the
 * delivery latency of every message (publish time carried in the event). The headline burst is 50 alerts
 * (50,000 messages, what a scan or an outbreak produces at once); a 1,000-alert burst (1,000,000
 * messages) is reported beside it as a stress figure: on two cores no Node process writes a million frames
 * in 250 ms, the anchor included. Anchor: a
 * plain `ws` server in its own Node process that forwards the same Redis channel to the same 1,000 clients
 * (no auth, no replay buffer, no back-pressure checks): the best one Node process does for this fan-out.
 */

const CLIENTS = Number(process.env.BENCH_WS_CLIENTS ?? 1000);
/** Burst sizes, smallest first: the first is the headline (goal), the others are reported as stress. */
const BURSTS = (process.env.BENCH_WS_BURSTS ?? '50,1000').split(',').map(Number);
const EVENTS = BURSTS[0] ?? 50;
const PER_USER = 20;
const GOAL_P99_MS = 250;
const now = () => performance.timeOrigin + performance.now();
const SENT = Buffer.from('"sent":');
const NEW_ALERT = Buffer.from('"type":"new_alert"');
const HELLO = Buffer.from('"type":"hello"');

const ANCHOR_JS = `
import { WebSocketServer } from 'ws';
import { Redis } from 'ioredis';
const [port, channel, url] = process.argv.slice(2);
const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(port) });
const sub = new Redis(url);
sub.on('message', (_ch, msg) => { for (const c of wss.clients) if (c.readyState === 1) c.send(msg); });
await sub.subscribe(channel);
wss.on('listening', () => process.stdout.write('ready\\n'));
if (wss.address()) process.stdout.write('ready\\n');
process.on('SIGTERM', () => { sub.disconnect(); wss.close(); process.exit(0); });
`;

interface Delivery {
  events: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  delivered: number;
  expected: number;
  burst_ms: number;
  connect_s: number;
}

/** Connects the clients (tokens[i] for client i, or none), publishes the burst, collects latencies. */
async function measure(
  url: string,
  prefix: string,
  tokens: (string | null)[],
  log: (m: string) => void,
): Promise<Delivery[]> {
  let expected = 0;
  let lat = new Float64Array(0);
  let n = 0;
  let resolveAll: () => void = () => undefined;
  const sockets: WebSocket[] = [];
  const t0 = now();
  const connect = (token: string | null) =>
    new Promise<void>((ok, fail) => {
      const ws = new WebSocket(url);
      sockets.push(ws);
      const timer = setTimeout(() => fail(new Error('connect timeout')), 20_000);
      ws.on('error', (e) => fail(e));
      ws.on('close', (code) => fail(new Error(`closed ${code}`)));
      // The client side is the bench's own cost: read the publish time without parsing the whole message.
      ws.on('message', (raw: Buffer) => {
        const t = now();
        const at = raw.indexOf(SENT);
        if (at >= 0 && raw.indexOf(NEW_ALERT) >= 0) {
          const sent = Number.parseFloat(raw.toString('latin1', at + SENT.length, at + SENT.length + 24));
          if (n < expected) lat[n++] = t - sent;
          if (n === expected) resolveAll();
        } else if (raw.indexOf(HELLO) >= 0) {
          clearTimeout(timer);
          ok();
        }
      });
      ws.on('open', () => {
        if (token === null) {
          clearTimeout(timer);
          ok();
        } else ws.send(JSON.stringify({ type: 'auth', token }));
      });
    });
  for (let i = 0; i < tokens.length; i += 100) await Promise.all(tokens.slice(i, i + 100).map(connect));
  const connectS = (now() - t0) / 1000;
  log(`${tokens.length} clients connected in ${connectS.toFixed(1)} s`);
  await new Promise((r) => setTimeout(r, 500));

  const bus = new RedisBus({ url: REDIS_URL, prefix });
  await bus.ping();
  const out: Delivery[] = [];
  for (const events of BURSTS) {
    expected = tokens.length * events;
    lat = new Float64Array(expected);
    n = 0;
    const all = new Promise<void>((r) => (resolveAll = r));
    const b0 = now();
    const pubs: Promise<void>[] = [];
    for (let i = 0; i < events; i++) {
      pubs.push(
        bus.publish(
          EVENTS_CHANNEL,
          makeEvent('new_alert', {
            sent: now(),
            seq: i,
            alert_id: i + 1,
            severity: 'high',
            title: 'bench: port scan from 10.0.0.7',
            device_id: 1 + (i % 50),
          }),
        ),
      );
    }
    await Promise.all(pubs);
    await Promise.race([all, new Promise((r) => setTimeout(r, 60_000))]);
    const burstMs = now() - b0;
    const got = lat.subarray(0, n).sort();
    const q = (p: number) => Math.round((got[Math.min(n - 1, Math.floor(p * n))] ?? NaN) * 10) / 10;
    out.push({
      events,
      p50_ms: q(0.5),
      p99_ms: q(0.99),
      max_ms: Math.round((got[n - 1] ?? NaN) * 10) / 10,
      delivered: n,
      expected,
      burst_ms: Math.round(burstMs),
      connect_s: Math.round(connectS * 10) / 10,
    });
    log(`burst of ${events}: ${JSON.stringify(out[out.length - 1])}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  await bus.close();
  for (const s of sockets) {
    s.removeAllListeners('close');
    s.on('error', () => undefined);
    s.terminate();
  }
  return out;
}

export const wsGroup: Group = {
  name: 'ws',
  description:
    `${CLIENTS} WebSocket clients on /ws of \`iotsec serve\` (compiled, PostgreSQL + Redis, 50 viewer accounts), ` +
    `bursts of ${BURSTS.join(' and ')} new_alert events published through Redis, p99 delivery latency over ` +
    'every message; anchor: a plain `ws` server (one Node process) forwarding the same Redis channel to the ' +
    `same clients. Goal: p99 < 250 ms for the ${EVENTS}-alert burst; larger bursts are reported as stress.`,
  async run(ctx) {
    const results: BenchResult[] = [];
    const useDist = ensureDist(ctx.log);
    const schema = `bench_ws_${Date.now().toString(36)}`;
    let server: Server | null = null;
    const anchorPort = await freePort();
    const anchorFile = join(ctx.outDir, 'ws-anchor.mjs');
    writeFileSync(anchorFile, ANCHOR_JS);
    let anchor: ReturnType<typeof spawn> | null = null;
    try {
      server = await startServer({ schema, outDir: ctx.outDir, useDist, log: ctx.log });
      const base = server.base;
      const admin = await loginToken(base, 'admin', ADMIN_PASSWORD);
      const users = Math.ceil(CLIENTS / PER_USER);
      const userTokens: string[] = [];
      for (let i = 0; i < users; i += 5) {
        const batch = Array.from({ length: Math.min(5, users - i) }, (_, k) => `bench-viewer-${i + k}`);
        userTokens.push(
          ...(await Promise.all(
            batch.map(async (username) => {
              const password = `${username}-password`;
              const res = await fetch(`${base}/api/v1/users`, {
                method: 'POST',
                headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
                body: JSON.stringify({ username, password, role: 'viewer' }),
              });
              if (res.status !== 201)
                throw new Error(`create ${username}: ${res.status} ${await res.text()}`);
              return loginToken(base, username, password);
            }),
          )),
        );
      }
      ctx.log(`${users} viewer accounts logged in`);
      const tokens = Array.from({ length: CLIENTS }, (_, i) => userTokens[Math.floor(i / PER_USER)] ?? null);
      const oursAll = await measure(`ws://127.0.0.1:${server.port}/ws`, server.prefix, tokens, ctx.log);

      const proc = spawn(
        process.execPath,
        [anchorFile, String(anchorPort), `${server.prefix}:ev:${EVENTS_CHANNEL}`, REDIS_URL],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      anchor = proc;
      await new Promise<void>((ok, fail) => {
        proc.stdout?.once('data', () => ok());
        proc.once('exit', (c) => fail(new Error(`anchor exited ${c}`)));
      });
      const anchorAll = await measure(
        `ws://127.0.0.1:${anchorPort}/`,
        server.prefix,
        tokens.map(() => null),
        ctx.log,
      );
      oursAll.forEach((ours, i) => {
        const base2 = anchorAll[i];
        const headline = i === 0;
        const r = compare(
          {
            group: 'ws',
            name: `${CLIENTS} clients × ${ours.events} new_alert burst, p99 delivery latency`,
            ours: ours.p99_ms,
            anchor: 'plain ws broadcast server (one Node process, same Redis channel)',
            anchor_value: base2?.p99_ms ?? null,
            unit: 'ms p99',
            goal: headline ? `p99 < ${GOAL_P99_MS} ms, all delivered` : 'report only (stress), all delivered',
            quality: { ours, anchor: base2 ?? null, compiled: useDist },
          },
          'lower',
          (_ratio, p99) => p99 > 0 && (!headline || p99 < GOAL_P99_MS) && ours.delivered === ours.expected,
        );
        results.push(r);
        ctx.emit(r);
      });
    } finally {
      if (anchor && anchor.exitCode === null) anchor.kill('SIGTERM');
      await server?.stop();
      await dropSeedSchema(schema);
      ctx.log(`schema ${schema} dropped`);
    }
    return results;
  },
};
