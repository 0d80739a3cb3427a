import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_PASSWORD,
  bearer,
  errorCode,
  login,
  makeStack,
  stackKinds,
  type Stack,
} from '../../test-support/api.js';

/**
 * Per-route rate limits (issue 11): uploads, training jobs, exports, bulk alert changes and searches have
 * budgets stricter than the global API_RATE_LIMIT, declared in route options. Past its budget a route
 * answers 429 ROUTE_RATE_LIMITED with Retry-After while the caller's other routes still answer; the budget
 * is per caller; refused callers spend nothing; the global limit still ends in RATE_LIMITED. Run on the
 * in-process KV and on Redis.
 */

const kinds = await stackKinds();
const GLOBAL = 60;

function expectRouteLimited(res: LightMyRequestResponse, budget: string, limit: number) {
  expect(res.statusCode, res.body).toBe(429);
  expect(errorCode(res)).toBe('ROUTE_RATE_LIMITED');
  expect((res.json() as { error: { details?: unknown } }).error.details).toEqual({ budget, limit });
  const retry = Number(res.headers['retry-after']);
  expect(retry).toBeGreaterThanOrEqual(1);
  expect(retry).toBeLessThanOrEqual(60);
  // The global budget is far from spent: the stricter limit triggered first.
  expect(Number(res.headers['x-ratelimit-remaining'])).toBeGreaterThan(0);
}

describe.each(kinds)('per-route rate limits on %s stack', (kind) => {
  let s: Stack;
  let admin: string;
  let viewer: string;
  let analyst: string;
  let otherViewer: string;
  let sensorKey: string;

  beforeAll(async () => {
    s = await makeStack(kind, {
      API_RATE_LIMIT: String(GLOBAL),
      API_RATE_LIMIT_EXPORT: '3',
      API_RATE_LIMIT_SEARCH: '4',
      API_RATE_LIMIT_BULK: '2',
      API_RATE_LIMIT_TRAIN: '2',
      API_RATE_LIMIT_UPLOAD: '2',
    });
    admin = (await login(s.app, 'admin', ADMIN_PASSWORD)).access_token;
    const actor = { id: null, name: 'test' };
    const make = async (username: string, role: 'viewer' | 'analyst') => {
      await s.services.users.create(actor, { username, password: 'limits-password-1', role });
      return (await login(s.app, username, 'limits-password-1')).access_token;
    };
    viewer = await make('rl-viewer', 'viewer');
    otherViewer = await make('rl-viewer-2', 'viewer');
    analyst = await make('rl-analyst', 'analyst');
    sensorKey = (await s.services.apiKeys.create(actor, { name: `rl-${randomUUID()}` })).key;
  });
  afterAll(async () => s?.close());

  const get = (url: string, token: string) => s.app.inject({ url, headers: bearer(token) });

  it('limits exports before the global budget, per caller, with Retry-After', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await get('/api/v1/export/devices.csv', viewer);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['x-ratelimit-route-limit']).toBe('3');
      expect(res.headers['x-ratelimit-route-remaining']).toBe(String(2 - i));
    }
    // The budget is shared by every export route.
    expectRouteLimited(await get('/api/v1/export/alerts.csv', viewer), 'export', 3);
    // Other routes still answer for this caller, and another caller has a budget of its own.
    expect((await get('/api/v1/devices/', viewer)).statusCode).toBe(200);
    expect((await get('/api/v1/export/vulnerabilities.csv', otherViewer)).statusCode).toBe(200);
  });

  it('counts a search only when the list is searched, and flow queries always', async () => {
    for (let i = 0; i < 8; i++) expect((await get('/api/v1/devices/', otherViewer)).statusCode).toBe(200);
    for (let i = 0; i < 3; i++)
      expect((await get('/api/v1/devices/?q=cam', otherViewer)).statusCode).toBe(200);
    expect((await get('/api/v1/vulnerabilities?q=openssl', otherViewer)).statusCode).toBe(200);
    expectRouteLimited(await get('/api/v1/network-traffic/top-talkers', otherViewer), 'search', 4);
    expectRouteLimited(await get('/api/v1/devices/?q=cam', otherViewer), 'search', 4);
    expect((await get('/api/v1/devices/?limit=5', otherViewer)).statusCode).toBe(200);
  });

  it('limits bulk alert changes, training jobs and uploads; refused callers spend nothing', async () => {
    const bulk = (token: string) =>
      s.app.inject({
        method: 'POST',
        url: '/api/v1/alerts/bulk',
        headers: bearer(token),
        payload: { ids: [999_999], status: 'resolved' },
      });
    for (let i = 0; i < 4; i++) {
      const refused = await bulk(viewer);
      expect(refused.statusCode).toBe(403);
      expect(refused.headers['x-ratelimit-route-limit']).toBeUndefined(); // the budget was not consulted
    }
    for (let i = 0; i < 2; i++) expect([200, 404]).toContain((await bulk(analyst)).statusCode);
    expectRouteLimited(await bulk(analyst), 'bulk', 2);

    const train = () =>
      s.app.inject({
        method: 'POST',
        url: '/api/v1/models/train',
        headers: bearer(admin),
        payload: { task: 'threat', algorithm: 'no-such-algorithm' },
      });
    for (let i = 0; i < 2; i++) expect((await train()).statusCode).toBeLessThan(429);
    expectRouteLimited(await train(), 'train', 2);

    const upload = () =>
      s.app.inject({
        method: 'POST',
        url: '/api/v1/sources/upload?name=x.pcap',
        headers: { ...bearer(sensorKey), 'content-type': 'application/octet-stream' },
        payload: Buffer.from('not a capture'),
      });
    for (let i = 0; i < 2; i++) expect(errorCode(await upload())).toBe('INVALID_CAPTURE');
    expectRouteLimited(await upload(), 'upload', 2);
  });

  it('still ends in the global RATE_LIMITED when the caller spends the global budget', async () => {
    const statuses: string[] = [];
    for (let i = 0; i < GLOBAL + 2; i++) {
      const res = await get('/api/v1/auth/me', analyst);
      statuses.push(res.statusCode === 429 ? (errorCode(res) ?? '?') : String(res.statusCode));
    }
    expect(statuses).toContain('200');
    expect(statuses[statuses.length - 1]).toBe('RATE_LIMITED');
    expect(statuses).not.toContain('ROUTE_RATE_LIMITED');
  });
});
