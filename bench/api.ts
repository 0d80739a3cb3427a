import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { dashboardMetrics } from '../src/api/routes/dashboard.js';
import { compare, type BenchResult, type Group } from './harness.js';
import { openLoop, type LoadPoint } from './open-loop.js';
import { dropSeedSchema, PG_URL, seedScale, seedSizes } from './seed-scale.js';

/**
 * The HTTP API under load on a deployment-sized database (bench/seed-scale.ts: 10,000 devices, 10 M flows
 * by default): `iotsec serve` (compiled build) against PostgreSQL + Redis, loaded from this machine by an
 * open-loop generator (./open-loop.ts) at fixed rates, latency counted from each request's due time, so
 * queueing behind a stall counts. The headline is the p99 at 500 requests/s, beside the p99 of the server's
 * trivial /healthz at the same rate (ratio = anchor p99 / ours p99).
 */

const ROOT = resolve(import.meta.dirname, '..');
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const ADMIN_PASSWORD = 'bench-admin-password-1';
const STEP_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 10);
const RATES = [100, 250, 500, 1000];
const TARGET_RPS = 500;
const GOAL_P99_MS = 100;
const INGEST_SECONDS = Number(process.env.BENCH_INGEST_SECONDS ?? 20);
const INGEST_API_RATE = 250;
const INGEST_GOAL = 50_000;

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

/** The first rate step at or above the target, else the highest. */
function headline(points: LoadPoint[]): LoadPoint | undefined {
  return points.find((p) => p.rate >= TARGET_RPS) ?? points[points.length - 1];
}

export const apiGroup: Group = {
  name: 'api',
  description:
    'GET /api/v1/devices?limit=50 and GET /api/v1/dashboard/metrics on a seeded PostgreSQL schema ' +
    '(10,000 devices, 10 M flows in daily partitions unless BENCH_FLOWS says otherwise, hourly rollups, 5,000 ' +
    'alerts), `iotsec serve` (compiled) with Redis, loaded over 127.0.0.1 by an open-loop ' +
    "generator at 100, 250, 500 and 1000 requests/s (latency from each request's due time, no coordinated " +
    "omission); ours is the p99 at 500 requests/s, the anchor the p99 of the same server's /healthz at that " +
    'rate. Goal: p99 < 100 ms at 500 requests/s. Then sustained ingest: generated flows written through the ' +
    'production writer in a second process for 20 s while the device list is served at 250 requests/s ' +
    '(goal ≥ 50,000 flows/s stored).',
  async run(ctx) {
    const results: BenchResult[] = [];
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
      const auth = { authorization: `Bearer ${token}` };

      const curve = async (path: string, headers: Record<string, string>) => {
        const pts: LoadPoint[] = [];
        for (const rate of RATES) {
          const p = await openLoop(`${server?.base ?? ''}${path}`, { rate, seconds: STEP_SECONDS, headers });
          ctx.log(
            `${path} @${rate}/s: ${p.achieved_rps} req/s, p50 ${p.p50_ms} ms, p99 ${p.p99_ms} ms, errors ${p.errors}`,
          );
          pts.push(p);
        }
        return pts;
      };
      // Warm-up: JIT, connection pools, the dashboard cache.
      for (const path of ['/api/v1/devices?limit=50', '/api/v1/dashboard/metrics'])
        await openLoop(`${server.base}${path}`, { rate: 200, seconds: 3, headers: auth });
      const anchor = await curve('/healthz', {});
      const routes = ['/api/v1/devices?limit=50', '/api/v1/dashboard/metrics'];
      for (const path of routes) {
        const ours = await curve(path, auth);
        const h = headline(ours);
        const a = anchor.find((p) => p.rate === h?.rate);
        const p99 = h?.p99_ms ?? 0;
        const r = compare(
          {
            group: 'api',
            name: `GET ${path} p99 under load vs /healthz`,
            ours: p99,
            anchor: 'GET /healthz (same server, same rate)',
            anchor_value: a?.p99_ms ?? null,
            unit: 'ms p99',
            goal: `p99 < ${GOAL_P99_MS} ms at ${TARGET_RPS} req/s`,
            quality: {
              offered_rps: h?.rate ?? null,
              achieved_rps: h?.achieved_rps ?? null,
              p50_ms: h?.p50_ms ?? null,
              max_rps: Math.max(...ours.map((p) => p.achieved_rps)),
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
              seconds_per_step: STEP_SECONDS,
              load: 'open loop, latency from due time',
              compiled: useDist,
            },
          },
          'lower',
          (_ratio, ours) =>
            ours > 0 && ours < GOAL_P99_MS && (h?.rate ?? 0) >= TARGET_RPS && (h?.errors ?? 1) === 0,
        );
        results.push(r);
        ctx.emit(r);
      }

      // Sustained ingest while the API serves: bench/ingest-load.ts in its own process writes generated
      // flows through the production writer, while the device list is loaded at a fixed rate.
      const ingest = spawn(
        process.execPath,
        [
          join(ROOT, 'bin', 'run-ts.js'),
          join(ROOT, 'bench', 'ingest-load.ts'),
          schema,
          String(INGEST_SECONDS),
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let ingestOut = '';
      ingest.stdout?.on('data', (b: Buffer) => (ingestOut += b.toString('utf8')));
      const ingestDone = new Promise<void>((r) => ingest.once('exit', () => r()));
      await new Promise((r) => setTimeout(r, 3000)); // the writer's start-up
      const during = await openLoop(`${server.base}/api/v1/devices?limit=50`, {
        rate: INGEST_API_RATE,
        seconds: Math.max(5, INGEST_SECONDS - 8),
        headers: auth,
      });
      await ingestDone;
      const stored = JSON.parse(ingestOut.trim().split('\n').pop() ?? '{}') as {
        flows_per_s?: number;
        flows?: number;
      };
      ctx.log(`ingest while serving: ${ingestOut.trim()}; devices p99 ${during.p99_ms} ms`);
      const ri = compare(
        {
          group: 'api',
          name: `sustained ingest into PostgreSQL while GET /api/v1/devices is served at ${INGEST_API_RATE} req/s`,
          ours: stored.flows_per_s ?? 0,
          anchor: 'goal',
          anchor_value: INGEST_GOAL,
          unit: 'flows/s',
          goal: `>= ${INGEST_GOAL} flows/s stored`,
          quality: {
            ingest: stored,
            api_during_ingest: during,
            writer: 'IngestWriter (flows, device upserts, rollups; one transaction per 5,000 flows)',
          },
        },
        'higher',
        (_ratio, ours) => ours >= INGEST_GOAL,
      );
      results.push(ri);
      ctx.emit(ri);
    } finally {
      await server?.stop();
      await dropSeedSchema(schema);
      ctx.log(`schema ${schema} dropped`);
    }
    return results;
  },
};
