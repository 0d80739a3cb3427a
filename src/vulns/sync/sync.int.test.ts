import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore, queryRows } from '../../store/db.js';
import type { Store } from '../../store/db.js';
import { hasKev, hasNvd, kevCatalog, nvdSubset } from '../test-fixtures/paths.js';
import { nvdTime } from '../service/rows.js';
import { HttpError, RateLimiter, getWithRetry } from './http.js';
import { NVD_SYNC_KEY, readSyncState, runKevSync, runNvdSync } from './sync.js';
import type { NvdSyncState } from './sync.js';
import { putSetting } from '../service/repository.js';

/**
 * A local NVD CVE API 2.0 look-alike (node:http on 127.0.0.1, random port) serving the shared records: paging by
 * startIndex/resultsPerPage, filtering by lastModStartDate/lastModEndDate (refusing windows over 120 days, as
 * NVD does), answering in the real response envelope. Failures are scripted per test.
 */
interface Req {
  startIndex: number;
  resultsPerPage: number;
  start: string | null;
  end: string | null;
  apiKey: string | null;
  status: number;
}

type Cve = { id: string; lastModified: string };

const raw = hasNvd
  ? (JSON.parse(readFileSync(nvdSubset, 'utf8')) as { vulnerabilities: { cve: Cve }[] })
  : { vulnerabilities: [] };
const ALL = raw.vulnerabilities;

let server: Server;
let base = '';
const requests: Req[] = [];
/** Scripted failures: key `${startIndex}` → statuses to answer before succeeding. */
let failures = new Map<string, number[]>();
/** Cut the body of these startIndex pages short once. */
let truncateOnce = new Set<number>();
let hardFailAt: number | null = null;

beforeAll(async () => {
  server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/kev.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(readFileSync(kevCatalog));
      return;
    }
    const startIndex = Number(u.searchParams.get('startIndex') ?? '0');
    const resultsPerPage = Number(u.searchParams.get('resultsPerPage') ?? '2000');
    const start = u.searchParams.get('lastModStartDate');
    const end = u.searchParams.get('lastModEndDate');
    const r: Req = {
      startIndex,
      resultsPerPage,
      start,
      end,
      apiKey: (req.headers['apikey'] as string | undefined) ?? null,
      status: 200,
    };
    requests.push(r);
    const answer = (status: number, headers: Record<string, string> = {}) => {
      r.status = status;
      res.writeHead(status, headers);
      res.end();
    };
    if ((start === null) !== (end === null)) return answer(404, { message: 'both dates are required' });
    if (start && end && (Date.parse(end) - Date.parse(start)) / 86_400_000 > 120) {
      return answer(404, { message: 'date range exceeds 120 days' });
    }
    if (resultsPerPage > 2000) return answer(404, { message: 'resultsPerPage > 2000' });
    if (hardFailAt !== null && startIndex === hardFailAt) return answer(400, { message: 'scripted crash' });
    const queue = failures.get(String(startIndex));
    if (queue && queue.length > 0) {
      const status = queue.shift() as number;
      return answer(status, status === 429 ? { 'retry-after': '1' } : {});
    }
    const t = (s: string | null) => (s === null ? null : Date.parse(s));
    const lo = t(start);
    const hi = t(end);
    const matching = ALL.filter((v) => {
      const m = nvdTime(v.cve.lastModified)?.getTime() ?? 0;
      return (lo === null || m >= lo) && (hi === null || m <= hi);
    });
    const body = JSON.stringify({
      resultsPerPage: Math.max(0, Math.min(resultsPerPage, matching.length - startIndex)),
      startIndex,
      totalResults: matching.length,
      format: 'NVD_CVE',
      version: '2.0',
      timestamp: '2025-10-21T00:00:00.000',
      vulnerabilities: matching.slice(startIndex, startIndex + resultsPerPage),
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    if (truncateOnce.has(startIndex)) {
      truncateOnce.delete(startIndex);
      res.write(body.slice(0, Math.floor(body.length / 2)));
      res.destroy();
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A fake clock: sleeping advances it, so rate limits and backoff are exercised without waiting. */
function fakeTime() {
  let now = Date.parse('2025-10-21T00:00:00Z');
  const sleeps: number[] = [];
  const fetchedAt: number[] = [];
  return {
    sleeps,
    fetchedAt,
    fetch: (input: string | URL | Request, init?: RequestInit) => {
      fetchedAt.push(now);
      return fetch(input, init);
    },
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

describe.skipIf(!hasNvd || !hasKev)('NVD and KEV sync against a local NVD API', () => {
  let store: Store;
  const count = async () =>
    Number(
      (await queryRows<{ n: number }>(store.db, sql`SELECT count(*)::int8 AS n FROM vulnerabilities`))[0]
        ?.n ?? 0,
    );

  beforeEach(async () => {
    store = await openStore({ pgliteDir: 'memory://' });
    await store.migrate();
    requests.length = 0;
    failures = new Map();
    truncateOnce = new Set();
    hardFailAt = null;
  });
  afterEach(async () => store?.close());

  const opts = (clock: ReturnType<typeof fakeTime>, extra: Record<string, unknown> = {}) => ({
    baseUrl: `${base}/rest/json/cves/2.0`,
    resultsPerPage: 500,
    sleep: clock.sleep,
    now: clock.now,
    fetch: clock.fetch,
    backoffMs: 1000,
    until: new Date('2025-10-21T00:00:00Z'),
    ...extra,
  });

  it('pulls everything on the first run, page by page, retrying failed and truncated pages', async () => {
    const clock = fakeTime();
    failures.set('500', [503, 429]);
    truncateOnce.add(1000);
    const s = await runNvdSync(store.db, opts(clock));
    expect(s).toMatchObject({ pages: 3, records: 1500, bad: 0, last_sync_end: '2025-10-21T00:00:00.000Z' });
    expect(await count()).toBe(1500);
    expect(requests.map((r) => [r.startIndex, r.status])).toEqual([
      [0, 200],
      [500, 503],
      [500, 429],
      [500, 200],
      [1000, 200],
      [1000, 200],
    ]);
    expect(requests.every((r) => r.start === null && r.resultsPerPage === 500 && r.apiKey === null)).toBe(
      true,
    );
    // 6 s between requests and at most 5 per 30 s without a key (backoff sleeps count towards the gap).
    for (let k = 1; k < clock.fetchedAt.length; k++) {
      expect((clock.fetchedAt[k] ?? 0) - (clock.fetchedAt[k - 1] ?? 0)).toBeGreaterThanOrEqual(6000);
    }
    expect((clock.fetchedAt[5] ?? 0) - (clock.fetchedAt[0] ?? 0)).toBeGreaterThanOrEqual(30_000);
    expect(await readSyncState(store.db)).toEqual({
      last_sync_end: '2025-10-21T00:00:00.000Z',
      current: null,
    });
  });

  it('resumes after a crash from the checkpoint of the last committed page', async () => {
    const clock = fakeTime();
    hardFailAt = 1000;
    await expect(runNvdSync(store.db, opts(clock))).rejects.toThrow(HttpError);
    const state = await readSyncState(store.db);
    expect(state.current).toMatchObject({ mode: 'full', start_index: 1000 });
    expect(await count()).toBe(1000);

    hardFailAt = null;
    requests.length = 0;
    const s = await runNvdSync(store.db, opts(clock));
    expect(s.resumed_from).toMatchObject({ mode: 'full', start_index: 1000 });
    expect(requests.map((r) => r.startIndex)).toEqual([1000]);
    expect(await count()).toBe(1500);
  });

  it('resumes after the process dies between pages', async () => {
    const clock = fakeTime();
    await expect(
      runNvdSync(
        store.db,
        opts(clock, {
          afterPage: () => {
            throw new Error('simulated crash');
          },
        }),
      ),
    ).rejects.toThrow('simulated crash');
    expect((await readSyncState(store.db)).current?.start_index).toBe(500);
    requests.length = 0;
    await runNvdSync(store.db, opts(clock));
    expect(requests.map((r) => r.startIndex)).toEqual([500, 1000]);
    expect(await count()).toBe(1500);
  });

  it('syncs incrementally in windows of at most 120 days, with the API key header', async () => {
    const clock = fakeTime();
    const since = '2024-01-01T00:00:00.000Z';
    await putSetting(store.db, NVD_SYNC_KEY, { last_sync_end: since, current: null } satisfies NvdSyncState);
    const s = await runNvdSync(store.db, opts(clock, { apiKey: 'test-key', resultsPerPage: 2000 }));
    const windows = requests.map((r) => [r.start, r.end]);
    expect(requests.every((r) => r.status === 200 && r.apiKey === 'test-key')).toBe(true);
    // 2024-01-01 → 2025-10-21 is 659 days: 6 windows, contiguous, each ≤ 120 days.
    expect(s.windows).toBe(6);
    expect(windows[0]?.[0]).toBe('2024-01-01T00:00:00.000+00:00');
    expect(windows.at(-1)?.[1]).toBe('2025-10-21T00:00:00.000+00:00');
    for (let i = 1; i < windows.length; i++) expect(windows[i]?.[0]).toBe(windows[i - 1]?.[1]);
    const expected = ALL.filter(
      (v) => (nvdTime(v.cve.lastModified)?.getTime() ?? 0) >= Date.parse(since),
    ).length;
    expect(expected).toBeGreaterThan(0);
    expect(s.records).toBe(expected);
    expect(await count()).toBe(expected);
    expect(await readSyncState(store.db)).toEqual({
      last_sync_end: '2025-10-21T00:00:00.000Z',
      current: null,
    });
    // With a key, 50 requests per 30 s: only the 6 s gap applies.
    expect(clock.sleeps.every((ms) => ms <= 6000)).toBe(true);
  });

  it('fetches the KEV catalog', async () => {
    const clock = fakeTime();
    const s = await runKevSync(store.db, { url: `${base}/kev.json`, sleep: clock.sleep });
    expect(s).toMatchObject({ records: 1404, created: 1404, bad: 0 });
  });
});

describe('rate limiter and retries', () => {
  it('allows 5 requests per 30 s with a 6 s gap', async () => {
    const clock = fakeTime();
    const rl = new RateLimiter(5, 30_000, 6000, clock.sleep, clock.now);
    const t0 = clock.now();
    const at: number[] = [];
    for (let i = 0; i < 7; i++) {
      await rl.acquire();
      at.push(clock.now() - t0);
    }
    expect(at).toEqual([0, 6000, 12000, 18000, 24000, 30000, 36000]);
    const burst = new RateLimiter(2, 30_000, 0, clock.sleep, clock.now);
    const t1 = clock.now();
    const at2: number[] = [];
    for (let i = 0; i < 3; i++) {
      await burst.acquire();
      at2.push(clock.now() - t1);
    }
    expect(at2).toEqual([0, 0, 30000]);
  });

  it('does not retry a client error, and gives up after maxAttempts', async () => {
    const clock = fakeTime();
    let calls = 0;
    const fail = (status: number) => async () => {
      calls++;
      return new Response('', { status, headers: { message: 'nope' } });
    };
    await expect(
      getWithRetry(
        'http://x/?apiKey=secret',
        {},
        { fetch: fail(404), sleep: clock.sleep },
        null,
        async () => 1,
      ),
    ).rejects.toThrow(/HTTP 404 \(nope\)/);
    expect(calls).toBe(1);
    calls = 0;
    const e = await getWithRetry(
      'http://x/?apiKey=secret&startIndex=5',
      {},
      { fetch: fail(503), sleep: clock.sleep, maxAttempts: 3, backoffMs: 10 },
      null,
      async () => 1,
    ).catch((x: unknown) => x);
    expect(calls).toBe(3);
    expect(String(e)).toMatch(/giving up after 3 attempts/);
    expect(String(e)).not.toContain('secret');
    expect(String(e)).toContain('startIndex=5');
  });
});
