import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { dashboardMetrics } from '../src/api/routes/dashboard.js';
import { compare, ensureDebian, hasCommand, type BenchResult, type Group } from './harness.js';
import { dropSeedSchema, PG_URL, seedScale, seedSizes } from './seed-scale.js';

/**
 * The HTTP API under load on a deployment-sized database (bench/seed-scale.ts: 10,000 devices, 10 M flows
 * by default): `iotsec serve` (compiled build) against PostgreSQL + Redis, loaded with wrk from this machine
 * at increasing concurrency. wrk is closed-loop (no fixed-rate mode), so each step records the rate it
 * achieved with its p50/p99; the headline is the p99 at the first step reaching 500 requests/s, beside the
 * p99 of the server's trivial /healthz at the same concurrency (ratio = anchor p99 / ours p99).
 */

const ROOT = resolve(import.meta.dirname, '..');
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const ADMIN_PASSWORD = 'bench-admin-password-1';
const WRK_SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? 8);
const CONCURRENCY = [1, 4, 16, 64];
const TARGET_RPS = 500;
const GOAL_P99_MS = 100;

/** Rebuilds dist/ when the compiled API is missing or older than the sources the benches load. */
export function ensureDist(log: (m: string) => void): boolean {
  const pairs = [
    ['src/api/cache.ts', 'dist/src/api/cache.js'],
    ['src/api/routes/dashboard.ts', 'dist/src/api/routes/dashboard.js'],
    ['src/api/ws/hub.ts', 'dist/src/api/ws/hub.js'],
    ['src/cli/main.ts', 'dist/src/cli/main.js'],
  ] as const;
  const stale = pairs.some(
    ([s, d]) =>
      !existsSync(join(ROOT, d)) || statSync(join(ROOT, d)).mtimeMs < statSync(join(ROOT, s)).mtimeMs,
  );
  if (!stale) return true;
  log('building dist/ (npm run build)');
  const t0 = Date.now();
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    { cwd: ROOT, encoding: 'utf8', timeout: 300_000 },
  );
  const main = join(ROOT, 'dist', 'src', 'cli', 'main.js');
  const fresh = existsSync(main) && statSync(main).mtimeMs >= t0 - 1000;
  if (r.status !== 0) log(`build reported errors: ${(r.stdout || r.stderr).slice(0, 400)}`);
  if (!fresh) log('dist/ not built: running the sources through tsx');
  return fresh;
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => ok(port));
    });
  });
}

export interface Server {
  base: string;
  port: number;
  prefix: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `iotsec serve` on a free port of 127.0.0.1, with the bench's own Redis prefix; resolves once /healthz answers. */
export async function startServer(opts: {
  schema: string;
  outDir: string;
  useDist: boolean;
  log: (m: string) => void;
}): Promise<Server> {
  const port = await freePort();
  const prefix = `bench_${randomBytes(4).toString('hex')}`;
  const dataDir = mkdtempSync(join(opts.outDir, 'serve-'));
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'iotsec.js'), 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: PG_URL,
      DATABASE_SCHEMA: opts.schema,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      ADMIN_PASSWORD,
      JWT_SECRET: randomBytes(32).toString('hex'),
      API_RATE_LIMIT: '1000000',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      IOTSEC_USE_DIST: opts.useDist ? '1' : '0',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    if (stderr.length < 4000) stderr += b.toString('utf8');
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dataDir, { recursive: true, force: true });
    const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
    try {
      const keys = await r.keys(`${prefix}:*`);
      if (keys.length > 0) await r.del(...keys);
    } finally {
      r.disconnect();
    }
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`iotsec serve exited: ${stderr.slice(0, 800)}`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`iotsec serve did not answer within 90 s: ${stderr.slice(0, 800)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  opts.log(`iotsec serve on ${base} (prefix ${prefix})`);
  return { base, port, prefix, child, stop };
}

export async function loginToken(base: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new Error(`login ${username}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

interface WrkPoint {
  connections: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  requests: number;
  errors: number;
}

function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

function runWrk(url: string, connections: number, script: string | null): WrkPoint {
  const args = ['-t', connections > 1 ? '2' : '1', '-c', String(connections), '-d', `${WRK_SECONDS}s`];
  args.push('--timeout', '5s', '--latency');
  if (script) args.push('-s', script);
  args.push(url);
  const r = spawnSync('wrk', args, { encoding: 'utf8', timeout: (WRK_SECONDS + 30) * 1000 });
  const out = r.stdout ?? '';
  const pct = (p: string) => toMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? '');
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const sockErr = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return {
    connections,
    rps: Math.round(rps),
    p50_ms: Math.round(pct('50') * 100) / 100,
    p99_ms: Math.round(pct('99') * 100) / 100,
    requests,
    errors: non2xx + sockErr,
  };
}

/** The first step reaching the target rate, else the fastest one. */
function headline(points: WrkPoint[]): WrkPoint | undefined {
  return points.find((p) => p.rps >= TARGET_RPS) ?? [...points].sort((a, b) => b.rps - a.rps)[0];
}

export const apiGroup: Group = {
  name: 'api',
  description:
    'GET /api/v1/devices?limit=50 and GET /api/v1/dashboard/metrics on a seeded PostgreSQL schema ' +
    '(10,000 devices, 10 M flows in daily partitions unless BENCH_FLOWS says otherwise, hourly rollups, 5,000 ' +
    'alerts), `iotsec serve` (compiled) with Redis, loaded by wrk over 127.0.0.1 at 1, 4, 16 and 64 ' +
    'connections; ours is the p99 latency at the first step reaching 500 requests/s, the anchor the p99 of ' +
    "the same server's /healthz at that concurrency. Goal: p99 < 100 ms at ≥ 500 requests/s.",
  async run(ctx) {
    const results: BenchResult[] = [];
    ensureDebian(['wrk'], ctx.log);
    if (!hasCommand('wrk')) {
      ctx.log('wrk missing: api group skipped');
      return results;
    }
    const useDist = ensureDist(ctx.log);
    const schema = `bench_api_${Date.now().toString(36)}`;
    let server: Server | null = null;
    try {
      const sizes = seedSizes();
      const { store, result: seed } = await seedScale({ schema, ...sizes, log: ctx.log });
      // The aggregation the cache saves, straight on the database (median of 3).
      const computeMs: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        await dashboardMetrics(store.readDb);
        computeMs.push(performance.now() - t0);
      }
      await store.close();
      const uncachedMs = Math.round([...computeMs].sort((a, b) => a - b)[1] ?? 0);
      ctx.log(`dashboard aggregation without cache: ${uncachedMs} ms`);

      server = await startServer({ schema, outDir: ctx.outDir, useDist, log: ctx.log });
      const token = await loginToken(server.base, 'admin', ADMIN_PASSWORD);
      const lua = join(ctx.outDir, 'wrk-auth.lua');
      writeFileSync(lua, `wrk.headers["Authorization"] = "Bearer ${token}"\n`);

      const curve = (path: string, script: string | null) => {
        const pts: WrkPoint[] = [];
        for (const c of CONCURRENCY) {
          const p = runWrk(`${server?.base ?? ''}${path}`, c, script);
          ctx.log(
            `${path} c=${c}: ${p.rps} req/s, p50 ${p.p50_ms} ms, p99 ${p.p99_ms} ms, errors ${p.errors}`,
          );
          pts.push(p);
        }
        return pts;
      };
      // Warm-up: JIT, connection pools, the dashboard cache.
      runWrkQuiet(`${server.base}/api/v1/devices?limit=50`, lua);
      runWrkQuiet(`${server.base}/api/v1/dashboard/metrics`, lua);
      const anchor = curve('/healthz', null);
      const routes = ['/api/v1/devices?limit=50', '/api/v1/dashboard/metrics'];
      for (const path of routes) {
        const ours = curve(path, lua);
        const h = headline(ours);
        const a = anchor.find((p) => p.connections === h?.connections);
        const p99 = h?.p99_ms ?? 0;
        const r = compare(
          {
            group: 'api',
            name: `GET ${path} p99 under load vs /healthz`,
            ours: p99,
            anchor: 'GET /healthz (same server, same concurrency)',
            anchor_value: a?.p99_ms ?? null,
            unit: 'ms p99',
            goal: `p99 < ${GOAL_P99_MS} ms at ≥ ${TARGET_RPS} req/s`,
            quality: {
              at_connections: h?.connections ?? null,
              achieved_rps: h?.rps ?? null,
              p50_ms: h?.p50_ms ?? null,
              max_rps: Math.max(...ours.map((p) => p.rps)),
              curve: ours,
              anchor_curve: anchor,
              errors: ours.reduce((n, p) => n + p.errors, 0),
              ...(path.includes('dashboard')
                ? {
                    uncached_aggregation_ms: uncachedMs,
                    cache: 'Redis, 5 s TTL, dropped on alert/device events',
                  }
                : {}),
              seed: seed,
              wrk_seconds_per_step: WRK_SECONDS,
              compiled: useDist,
            },
          },
          'lower',
          (_ratio, ours) =>
            ours > 0 && ours < GOAL_P99_MS && (h?.rps ?? 0) >= TARGET_RPS && (h?.errors ?? 1) === 0,
        );
        results.push(r);
        ctx.emit(r);
      }
    } finally {
      await server?.stop();
      await dropSeedSchema(schema);
      ctx.log(`schema ${schema} dropped`);
    }
    return results;
  },
};

function runWrkQuiet(url: string, script: string): void {
  spawnSync('wrk', ['-t', '1', '-c', '4', '-d', '2s', '-s', script, url], {
    stdio: 'ignore',
    timeout: 30_000,
  });
}
