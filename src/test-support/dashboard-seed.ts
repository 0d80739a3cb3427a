import { sql } from 'drizzle-orm';
import type { Db } from '../store/db.js';

/**
 * A small, realistic network for dashboard tests and screenshots: devices of several types (some online,
 * some new), a day of per-minute traffic rollups, open and resolved alerts, and matched CVEs (one in KEV).
 */
export const SEED_DEVICES = [
  {
    mac: '00:11:22:00:00:01',
    type: 'camera',
    vendor: 'Hikvision',
    host: 'cam-lobby',
    ip: '10.0.0.11',
    risk: 8.7,
    seenMin: 1,
    firstH: 200,
    rate: 9000,
  },
  {
    mac: '00:11:22:00:00:02',
    type: 'camera',
    vendor: 'Axis',
    host: 'cam-dock',
    ip: '10.0.0.12',
    risk: 6.2,
    seenMin: 2,
    firstH: 300,
    rate: 7000,
  },
  {
    mac: '00:11:22:00:00:03',
    type: 'smart_plug',
    vendor: 'TP-Link',
    host: 'plug-kitchen',
    ip: '10.0.0.21',
    risk: 3.1,
    seenMin: 3,
    firstH: 5,
    rate: 120,
  },
  {
    mac: '00:11:22:00:00:04',
    type: 'printer',
    vendor: 'HP',
    host: 'printer-2f',
    ip: '10.0.0.31',
    risk: 5.4,
    seenMin: 30,
    firstH: 900,
    rate: 800,
  },
  {
    mac: '00:11:22:00:00:05',
    type: 'tv',
    vendor: 'Samsung',
    host: 'tv-meeting',
    ip: '10.0.0.41',
    risk: 2.0,
    seenMin: 4,
    firstH: 12,
    rate: 25000,
  },
  {
    mac: '00:11:22:00:00:06',
    type: 'thermostat',
    vendor: 'Nest',
    host: null,
    ip: '10.0.0.51',
    risk: 0,
    seenMin: 240,
    firstH: 2000,
    rate: 50,
  },
] as const;

export async function seedDashboard(db: Db, now = Date.now()): Promise<number[]> {
  const ids: number[] = [];
  const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
  for (const d of SEED_DEVICES) {
    const r = (await db.execute(sql`
      INSERT INTO devices (mac, device_type, vendor, hostname, primary_ip, first_seen, last_seen, risk_score)
      VALUES (${d.mac}, ${d.type}, ${d.vendor}, ${d.host}, ${d.ip}::inet, ${at(d.firstH * 60)}::timestamptz,
              ${at(d.seenMin)}::timestamptz, ${d.risk})
      RETURNING id`)) as unknown as { rows: { id: number }[] };
    const id = Number(r.rows[0]?.id);
    ids.push(id);
    // One rollup per minute over the last 24 h, with a daily wave so the chart has a shape.
    await db.execute(sql`
      INSERT INTO traffic_rollups (device_id, minute, bytes_out, bytes_in, packets_out, packets_in, flows, distinct_peers, distinct_ports)
      SELECT ${id}, date_trunc('minute', ${at(0)}::timestamptz) - make_interval(mins => m),
             (${d.rate} * 60 * (1.2 + sin(m / 180.0)))::int8,
             (${d.rate} * 20 * (1.2 + cos(m / 240.0)))::int8,
             (${d.rate} / 10 + 5)::int8, (${d.rate} / 30 + 3)::int8, 4, 3, 2
      FROM generate_series(0, 1439) AS m`);
  }
  const [cam1, cam2, plug, printer, tv] = ids;
  const alerts: [number | undefined, string, string, string, number][] = [
    [cam1, 'scan', 'critical', 'new', 30],
    [cam1, 'c2', 'high', 'acknowledged', 200],
    [cam2, 'new_destination', 'medium', 'new', 400],
    [printer, 'cleartext_credentials', 'high', 'new', 700],
    [plug, 'anomaly', 'low', 'new', 90],
    [tv, 'anomaly', 'info', 'resolved', 1000],
    [cam2, 'bruteforce', 'critical', 'resolved', 1200],
  ];
  for (const [dev, kind, severity, status, ago] of alerts) {
    await db.execute(sql`
      INSERT INTO alerts (device_id, kind, severity, status, title, dedup_key, first_seen, last_seen)
      VALUES (${dev ?? null}, ${kind}, ${severity}, ${status}, ${`${kind} from device ${dev}`}, ${`${kind}:${dev}`},
              ${at(ago)}::timestamptz, ${at(Math.max(0, ago - 10))}::timestamptz)`);
  }
  const cves: [string, string, number, boolean][] = [
    ['CVE-2021-36260', 'CRITICAL', 9.8, true],
    ['CVE-2017-7921', 'CRITICAL', 10.0, false],
    ['CVE-2022-28703', 'HIGH', 7.2, false],
  ];
  for (const [id, severity, score, kev] of cves) {
    await db.execute(sql`
      INSERT INTO vulnerabilities (cve_id, severity, cvss_v31_score, kev, description)
      VALUES (${id}, ${severity}, ${score}, ${kev}, ${`test ${id}`})`);
  }
  const matches: [number | undefined, string, string][] = [
    [cam1, 'CVE-2021-36260', 'open'],
    [cam1, 'CVE-2017-7921', 'open'],
    [cam2, 'CVE-2021-36260', 'open'],
    [printer, 'CVE-2022-28703', 'open'],
    [cam2, 'CVE-2017-7921', 'mitigated'],
  ];
  for (const [dev, cve, status] of matches) {
    await db.execute(sql`
      INSERT INTO device_vulnerabilities (device_id, cve_id, matched_cpe, status)
      VALUES (${dev ?? null}, ${cve}, 'cpe:2.3:o:test:firmware:1.0:*:*:*:*:*:*:*', ${status})`);
  }
  return ids;
}
