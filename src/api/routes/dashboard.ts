import { sql } from 'drizzle-orm';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { queryRows, type Db } from '../../store/db.js';
import { SEVERITIES } from '../../store/schema.js';
import {
  DASHBOARD_CACHE_KEY,
  DASHBOARD_CACHE_TTL_MS,
  DASHBOARD_INVALIDATING_EVENTS,
  JsonCache,
} from '../cache.js';
import type { Services } from '../context.js';

/**
 * GET /api/v1/dashboard/metrics: everything the overview page shows, aggregated in SQL with hard limits, so
 * the answer stays small (a few kilobytes) whatever the size of the database. Counts are cast to int8 and
 * sums of bytes to float8 so PGlite and node-postgres return the same JS numbers.
 */

export const ONLINE_WINDOW_MIN = 10;
const TRAFFIC_BUCKET_MIN = 15;
const ALERT_BUCKET_MIN = 60;
const HOURS = 24;
const RATE_WINDOW_S = 300;
const MAX_SERIES = 8;
const MAX_DEVICE_TYPES = 12;
const TOP_N = 10;
const OPEN_ALERT = sql.raw(`('new','acknowledged')`);

const deviceRef = z.object({
  device_id: z.number(),
  mac: z.string().nullable(),
  hostname: z.string().nullable(),
  vendor: z.string().nullable(),
  device_type: z.string(),
  primary_ip: z.string().nullable(),
});

const timeSeries = z.object({
  bucket_seconds: z.number(),
  buckets: z.array(z.string()),
  series: z.array(z.object({ name: z.string(), values: z.array(z.number()) })),
});

export const dashboardSchema = z.object({
  generated_at: z.string(),
  devices: z.object({ total: z.number(), online: z.number(), new_24h: z.number() }),
  alerts_open: z.object({
    total: z.number(),
    critical: z.number(),
    high: z.number(),
    medium: z.number(),
    low: z.number(),
    info: z.number(),
  }),
  vulnerabilities: z.object({
    open: z.number(),
    critical: z.number(),
    kev: z.number(),
    affected_devices: z.number(),
  }),
  traffic_rate: z.object({
    window_seconds: z.number(),
    bytes_per_second: z.number(),
    packets_per_second: z.number(),
    flows_per_minute: z.number(),
  }),
  traffic_over_time: timeSeries,
  alerts_over_time: timeSeries,
  device_types: z.array(z.object({ device_type: z.string(), count: z.number() })),
  top_talkers: z.array(deviceRef.extend({ bytes_out: z.number(), bytes_in: z.number(), bytes: z.number() })),
  riskiest_devices: z.array(
    deviceRef.extend({
      risk_score: z.number(),
      open_alerts: z.number(),
      open_vulnerabilities: z.number(),
    }),
  ),
});

export type DashboardMetrics = z.infer<typeof dashboardSchema>;

const floorTo = (ms: number, stepMin: number) => Math.floor(ms / (stepMin * 60_000)) * stepMin * 60_000;

/** The bucket start times (ISO) of the last `HOURS` hours, oldest first, aligned to the UTC epoch. */
function bucketAxis(now: number, stepMin: number): string[] {
  const step = stepMin * 60_000;
  const last = floorTo(now, stepMin);
  const n = (HOURS * 60) / stepMin;
  return Array.from({ length: n }, (_, i) => new Date(last - (n - 1 - i) * step).toISOString());
}

interface BucketRow {
  bucket: Date | string;
  name: string;
  value: number;
}

function toSeries(axis: string[], rows: BucketRow[], order?: readonly string[]) {
  const index = new Map(axis.map((t, i) => [t, i]));
  const series = new Map<string, number[]>();
  for (const name of order ?? []) series.set(name, new Array<number>(axis.length).fill(0));
  for (const r of rows) {
    const i = index.get(new Date(r.bucket).toISOString());
    if (i === undefined) continue;
    let values = series.get(r.name);
    if (!values) series.set(r.name, (values = new Array<number>(axis.length).fill(0)));
    values[i] = (values[i] ?? 0) + Number(r.value);
  }
  return [...series].map(([name, values]) => ({ name, values }));
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));

interface DeviceRow {
  device_id: number;
  mac: string | null;
  hostname: string | null;
  vendor: string | null;
  device_type: string | null;
  primary_ip: string | null;
}

const presentDevice = (r: DeviceRow) => ({
  device_id: Number(r.device_id),
  mac: r.mac,
  hostname: r.hostname,
  vendor: r.vendor,
  device_type: r.device_type ?? 'unknown',
  primary_ip: r.primary_ip,
});

export async function dashboardMetrics(db: Db, now = Date.now()): Promise<DashboardMetrics> {
  const since = new Date(now - HOURS * 3_600_000);
  const trafficAxis = bucketAxis(now, TRAFFIC_BUCKET_MIN);
  const alertAxis = bucketAxis(now, ALERT_BUCKET_MIN);
  const trafficSince = trafficAxis[0] ?? since.toISOString();
  const alertSince = alertAxis[0] ?? since.toISOString();
  const nowIso = new Date(now).toISOString();
  const origin = '2000-01-01T00:00:00Z';

  const [devices, alertsOpen, vulns, rate, traffic, alertSeries, types, talkers, risky] = await Promise.all([
    queryRows<{ total: number; online: number; new_24h: number }>(
      db,
      sql`SELECT count(*)::int8 AS total,
            count(*) FILTER (WHERE last_seen >= ${nowIso}::timestamptz - make_interval(mins => ${ONLINE_WINDOW_MIN}))::int8 AS online,
            count(*) FILTER (WHERE first_seen >= ${since.toISOString()}::timestamptz)::int8 AS new_24h
          FROM devices WHERE merged_into IS NULL`,
    ),
    queryRows<{ severity: string; n: number }>(
      db,
      sql`SELECT severity, count(*)::int8 AS n FROM alerts WHERE status IN ${OPEN_ALERT} GROUP BY severity`,
    ),
    queryRows<{ open: number; critical: number; kev: number; affected_devices: number }>(
      db,
      sql`SELECT count(DISTINCT dv.cve_id)::int8 AS open,
            count(DISTINCT dv.cve_id) FILTER (
              WHERE upper(v.severity) = 'CRITICAL' OR coalesce(v.cvss_v31_score, v.cvss_v2_score) >= 9.0)::int8 AS critical,
            count(DISTINCT dv.cve_id) FILTER (WHERE v.kev)::int8 AS kev,
            count(DISTINCT dv.device_id)::int8 AS affected_devices
          FROM device_vulnerabilities dv JOIN vulnerabilities v ON v.cve_id = dv.cve_id
          WHERE dv.status = 'open'`,
    ),
    queryRows<{ bytes: number; packets: number; flows: number }>(
      db,
      sql`SELECT coalesce(sum(bytes_out + bytes_in), 0)::float8 AS bytes,
            coalesce(sum(packets_out + packets_in), 0)::float8 AS packets,
            coalesce(sum(flows), 0)::float8 AS flows
          FROM traffic_rollups
          WHERE minute >= ${nowIso}::timestamptz - make_interval(secs => ${RATE_WINDOW_S})`,
    ),
    queryRows<BucketRow>(
      db,
      sql`WITH per AS (
            SELECT date_bin(make_interval(mins => ${TRAFFIC_BUCKET_MIN}), r.minute, ${origin}::timestamptz) AS bucket,
                   coalesce(d.device_type, 'unknown') AS name,
                   sum(r.bytes_out + r.bytes_in)::float8 AS value
            FROM traffic_rollups r LEFT JOIN devices d ON d.id = r.device_id
            WHERE r.minute >= ${trafficSince}::timestamptz
            GROUP BY 1, 2),
          top AS (SELECT name FROM per GROUP BY name ORDER BY sum(value) DESC LIMIT ${MAX_SERIES})
          SELECT bucket, CASE WHEN name IN (SELECT name FROM top) THEN name ELSE 'other' END AS name,
                 sum(value)::float8 AS value
          FROM per GROUP BY 1, 2 ORDER BY 1, 2`,
    ),
    queryRows<BucketRow>(
      db,
      sql`SELECT date_bin(make_interval(mins => ${ALERT_BUCKET_MIN}), first_seen, ${origin}::timestamptz) AS bucket,
                 severity AS name, count(*)::int8 AS value
          FROM alerts WHERE first_seen >= ${alertSince}::timestamptz
          GROUP BY 1, 2 ORDER BY 1, 2`,
    ),
    queryRows<{ device_type: string; count: number }>(
      db,
      sql`SELECT device_type, count(*)::int8 AS count FROM devices WHERE merged_into IS NULL
          GROUP BY device_type ORDER BY count(*) DESC, device_type LIMIT ${MAX_DEVICE_TYPES}`,
    ),
    queryRows<DeviceRow & { bytes_out: number; bytes_in: number }>(
      db,
      sql`WITH t AS (
            SELECT device_id, sum(bytes_out)::float8 AS bytes_out, sum(bytes_in)::float8 AS bytes_in
            FROM traffic_rollups WHERE minute >= ${since.toISOString()}::timestamptz
            GROUP BY device_id ORDER BY sum(bytes_out + bytes_in) DESC LIMIT ${TOP_N})
          SELECT t.device_id, d.mac, d.hostname, d.vendor, d.device_type, host(d.primary_ip) AS primary_ip,
                 t.bytes_out, t.bytes_in
          FROM t LEFT JOIN devices d ON d.id = t.device_id
          ORDER BY t.bytes_out + t.bytes_in DESC`,
    ),
    queryRows<DeviceRow & { risk_score: number; open_alerts: number; open_vulnerabilities: number }>(
      db,
      sql`WITH top AS (
            SELECT id, mac, hostname, vendor, device_type, primary_ip, risk_score FROM devices
            WHERE merged_into IS NULL AND risk_score > 0
            ORDER BY risk_score DESC, id LIMIT ${TOP_N})
          SELECT top.id AS device_id, mac, hostname, vendor, device_type, host(primary_ip) AS primary_ip,
                 risk_score::float8 AS risk_score,
                 (SELECT count(*) FROM alerts a WHERE a.device_id = top.id AND a.status IN ${OPEN_ALERT})::int8 AS open_alerts,
                 (SELECT count(*) FROM device_vulnerabilities dv
                   WHERE dv.device_id = top.id AND dv.status = 'open')::int8 AS open_vulnerabilities
          FROM top ORDER BY risk_score DESC, top.id`,
    ),
  ]);

  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<
    (typeof SEVERITIES)[number],
    number
  >;
  for (const r of alertsOpen) {
    if (r.severity in bySeverity) bySeverity[r.severity as keyof typeof bySeverity] = num(r.n);
  }
  const d = devices[0];
  const v = vulns[0];
  const rt = rate[0];
  return {
    generated_at: nowIso,
    devices: { total: num(d?.total), online: num(d?.online), new_24h: num(d?.new_24h) },
    alerts_open: { total: Object.values(bySeverity).reduce((a, b) => a + b, 0), ...bySeverity },
    vulnerabilities: {
      open: num(v?.open),
      critical: num(v?.critical),
      kev: num(v?.kev),
      affected_devices: num(v?.affected_devices),
    },
    traffic_rate: {
      window_seconds: RATE_WINDOW_S,
      bytes_per_second: num(rt?.bytes) / RATE_WINDOW_S,
      packets_per_second: num(rt?.packets) / RATE_WINDOW_S,
      flows_per_minute: num(rt?.flows) / (RATE_WINDOW_S / 60),
    },
    traffic_over_time: {
      bucket_seconds: TRAFFIC_BUCKET_MIN * 60,
      buckets: trafficAxis,
      series: toSeries(trafficAxis, traffic).sort((a, b) =>
        a.name === 'other' ? 1 : b.name === 'other' ? -1 : sum(b.values) - sum(a.values),
      ),
    },
    alerts_over_time: {
      bucket_seconds: ALERT_BUCKET_MIN * 60,
      buckets: alertAxis,
      series: toSeries(alertAxis, alertSeries).sort(
        (a, b) =>
          SEVERITIES.indexOf(a.name as (typeof SEVERITIES)[number]) -
          SEVERITIES.indexOf(b.name as (typeof SEVERITIES)[number]),
      ),
    },
    device_types: types.map((t) => ({ device_type: t.device_type, count: num(t.count) })),
    top_talkers: talkers.map((t) => ({
      ...presentDevice(t),
      bytes_out: num(t.bytes_out),
      bytes_in: num(t.bytes_in),
      bytes: num(t.bytes_out) + num(t.bytes_in),
    })),
    riskiest_devices: risky.map((r) => ({
      ...presentDevice(r),
      risk_score: num(r.risk_score),
      open_alerts: num(r.open_alerts),
      open_vulnerabilities: num(r.open_vulnerabilities),
    })),
  };
}

export interface DashboardRouteOptions {
  services: Services;
  /** How long the metrics are shared between requests and replicas (ms); 0 disables the cache. */
  cacheTtlMs?: number;
}

/**
 * The metrics are cached in the KV (Redis when configured) for a few seconds and dropped on every event
 * that changes them (new or updated alerts and devices), so a wall of dashboards polling every few seconds
 * costs the database one aggregation per window, not one per request.
 */
export const dashboardRoutes: FastifyPluginAsyncZod<DashboardRouteOptions> = async (
  app,
  { services, cacheTtlMs = DASHBOARD_CACHE_TTL_MS },
) => {
  const cache =
    cacheTtlMs > 0
      ? new JsonCache({
          kv: services.kv,
          bus: services.bus,
          key: DASHBOARD_CACHE_KEY,
          ttlMs: cacheTtlMs,
          invalidateOn: DASHBOARD_INVALIDATING_EVENTS,
          onError: (err) => app.log.warn({ err }, 'dashboard cache unavailable'),
        })
      : null;
  if (cache) {
    await cache.start();
    app.addHook('onClose', async () => cache.stop());
  }
  app.get(
    '/metrics',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['dashboard'],
        summary: 'Overview metrics: devices, open alerts, vulnerabilities, traffic, top talkers, riskiest',
        response: { 200: dashboardSchema },
      },
    },
    async (_request, reply) => {
      void reply.header('cache-control', 'no-store');
      if (!cache) return dashboardMetrics(services.store.readDb);
      const { json, hit } = await cache.get(async () =>
        dashboardSchema.parse(await dashboardMetrics(services.store.readDb)),
      );
      // Checked against the response schema once when computed, then sent as stored.
      const raw: FastifyReply = reply;
      return raw
        .header('x-cache', hit ? 'hit' : 'miss')
        .type('application/json; charset=utf-8')
        .send(json);
    },
  );
};
