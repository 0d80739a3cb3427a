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
import { seedDashboard } from '../../test-support/dashboard-seed.js';
import { DASHBOARD_CACHE_KEY } from '../cache.js';
import type { DashboardMetrics } from './dashboard.js';

const kinds = await stackKinds();

describe.each(kinds)('GET /api/v1/dashboard/metrics on %s stack', (kind) => {
  let s: Stack;
  let admin: string;
  let viewer: string;

  beforeAll(async () => {
    s = await makeStack(kind);
    admin = (await login(s.app, 'admin', ADMIN_PASSWORD)).access_token;
    await s.services.users.create(
      { id: null, name: 'test' },
      { username: 'val', password: 'viewer-password-1', role: 'viewer' },
    );
    viewer = (await login(s.app, 'val', 'viewer-password-1')).access_token;
  });
  afterAll(async () => s?.close());

  const get = async (token?: string) =>
    s.app.inject({ method: 'GET', url: '/api/v1/dashboard/metrics', headers: token ? bearer(token) : {} });

  it('needs a viewer token', async () => {
    const res = await get();
    expect(res.statusCode).toBe(401);
    expect(errorCode(res)).toBe('UNAUTHENTICATED');
  });

  it('answers zeros and empty lists on an empty database (no placeholder data)', async () => {
    const res = await get(viewer);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const m = res.json() as DashboardMetrics;
    expect(m.devices).toEqual({ total: 0, online: 0, new_24h: 0 });
    expect(m.alerts_open).toEqual({ total: 0, critical: 0, high: 0, medium: 0, low: 0, info: 0 });
    expect(m.vulnerabilities).toEqual({ open: 0, critical: 0, kev: 0, affected_devices: 0 });
    expect(m.traffic_rate.bytes_per_second).toBe(0);
    expect(m.traffic_over_time.buckets).toHaveLength(96);
    expect(m.traffic_over_time.bucket_seconds).toBe(900);
    expect(m.traffic_over_time.series).toEqual([]);
    expect(m.alerts_over_time.buckets).toHaveLength(24);
    expect(m.alerts_over_time.series).toEqual([]);
    expect(m.device_types).toEqual([]);
    expect(m.top_talkers).toEqual([]);
    expect(m.riskiest_devices).toEqual([]);
  });

  it('aggregates devices, alerts, vulnerabilities and traffic', async () => {
    const ids = await seedDashboard(s.services.store.db);
    await s.services.kv.del(DASHBOARD_CACHE_KEY); // seeded behind the product's back: no event drops the cache
    const res = await get(admin);
    expect(res.statusCode).toBe(200);
    const m = res.json() as DashboardMetrics;
    expect(m.devices).toEqual({ total: 6, online: 4, new_24h: 2 });
    expect(m.alerts_open).toEqual({ total: 5, critical: 1, high: 2, medium: 1, low: 1, info: 0 });
    expect(m.vulnerabilities).toEqual({ open: 3, critical: 2, kev: 1, affected_devices: 3 });
    expect(m.traffic_rate.bytes_per_second).toBeGreaterThan(0);
    expect(m.traffic_rate.flows_per_minute).toBeGreaterThan(0);

    const t = m.traffic_over_time;
    expect(t.series.map((x) => x.name).sort()).toEqual([
      'camera',
      'printer',
      'smart_plug',
      'thermostat',
      'tv',
    ]);
    for (const x of t.series) expect(x.values).toHaveLength(96);
    expect(t.series[0]?.name).toBe('tv'); // biggest first
    expect(new Date(t.buckets[1] ?? '').getTime() - new Date(t.buckets[0] ?? '').getTime()).toBe(900_000);

    const a = m.alerts_over_time;
    expect(a.series.map((x) => x.name)).toEqual(['critical', 'high', 'medium', 'low', 'info']);
    expect(a.series.reduce((n, x) => n + x.values.reduce((p, v) => p + v, 0), 0)).toBe(7);

    expect(m.device_types[0]).toEqual({ device_type: 'camera', count: 2 });
    expect(m.device_types).toHaveLength(5);
    expect(m.top_talkers).toHaveLength(6);
    expect(m.top_talkers[0]).toMatchObject({
      device_type: 'tv',
      hostname: 'tv-meeting',
      primary_ip: '10.0.0.41',
    });
    expect(m.top_talkers[0]?.bytes).toBe(
      (m.top_talkers[0]?.bytes_in ?? 0) + (m.top_talkers[0]?.bytes_out ?? 0),
    );
    expect(m.riskiest_devices.map((d) => d.device_id)).toEqual([ids[0], ids[1], ids[3], ids[2], ids[4]]);
    expect(m.riskiest_devices[0]).toMatchObject({
      hostname: 'cam-lobby',
      open_alerts: 2,
      open_vulnerabilities: 2,
    });
  });

  it('keeps the answer small however much data there is', async () => {
    const res = await get(admin);
    expect(res.body.length).toBeLessThan(32_000);
  });
});
