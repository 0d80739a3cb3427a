import { sql } from 'drizzle-orm';
import { pathToFileURL } from 'node:url';
import { openStore, type Store } from '../src/store/db.js';
import { PartitionManager } from '../src/store/partitions.js';

/**
 * A PostgreSQL schema at deployment scale for the API benchmarks, generated in SQL (INSERT … SELECT FROM
 * generate_series, so nothing crosses the wire): `devices` devices, `flows` flows spread over the last
 * `days` days in daily partitions (made first by the PartitionManager, each chunk lands in one partition in
 * time order), hourly traffic rollups for every device over the last 24 h plus per-minute ones for the
 * busiest tenth over the last 10 minutes, and `alerts` alerts. BENCH_FLOWS / BENCH_DEVICES override sizes.
 *
 *   node bin/run-ts.js bench/seed-scale.ts [schema]   (prints the sizes and times; keeps the schema)
 */

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface SeedOptions {
  schema: string;
  devices?: number;
  flows?: number;
  alerts?: number;
  days?: number;
  /** Rows per INSERT … SELECT. */
  chunk?: number;
  log?: (m: string) => void;
}

export interface SeedResult {
  schema: string;
  devices: number;
  flows: number;
  rollups: number;
  alerts: number;
  partitions: number;
  seconds: number;
  flow_rows_per_s: number;
}

const DAY_MS = 86_400_000;

const envInt = (name: string, dflt: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : dflt;
};

export function seedSizes(): { devices: number; flows: number } {
  return { devices: envInt('BENCH_DEVICES', 10_000), flows: envInt('BENCH_FLOWS', 10_000_000) };
}

/** Opens (and migrates) a fresh schema and fills it. The caller closes the store and drops the schema. */
export async function seedScale(opts: SeedOptions): Promise<{ store: Store; result: SeedResult }> {
  const log = opts.log ?? (() => undefined);
  const nDevices = opts.devices ?? seedSizes().devices;
  const nFlows = opts.flows ?? seedSizes().flows;
  const nAlerts = opts.alerts ?? 5_000;
  const days = opts.days ?? 7;
  const chunk = opts.chunk ?? 500_000;
  const t0 = Date.now();
  const store = await openStore({ databaseUrl: PG_URL, schema: opts.schema, poolMax: 4 });
  await store.migrate();
  const db = store.db;
  const run = (q: string) => db.execute(sql.raw(q));

  const now = Date.now();
  const start = now - days * DAY_MS;
  const pm = new PartitionManager(db);
  const dayList: number[] = [];
  for (let t = start; t < now + DAY_MS; t += DAY_MS) dayList.push(t);
  await pm.ensureFor(dayList);
  const partitions = (await pm.list()).length;

  const types = `(ARRAY['camera','smart_plug','thermostat','tv','printer','speaker','hub','sensor','doorbell','light'])`;
  await run(
    `INSERT INTO devices (mac, primary_ip, vendor, device_type, hostname, type_source, confidence,
                          first_seen, last_seen, risk_score)
     SELECT '02:' || substr(h,1,2) || ':' || substr(h,3,2) || ':' || substr(h,5,2) || ':' || substr(h,7,2) || ':' || substr(h,9,2),
            '10.0.0.0'::inet + g,
            (ARRAY['Hikvision','TP-Link','Nest','Samsung','HP','Sonos','Philips','Ring'])[1 + g % 8],
            ${types}[1 + g % 10],
            'dev-' || g, 'rule', 0.8,
            now() - make_interval(days => g % 30), now() - make_interval(mins => g % 120),
            (g % 100)::real
     FROM (SELECT g, lpad(to_hex(g), 10, '0') AS h FROM generate_series(1, ${nDevices}) g) s`,
  );
  log(`devices: ${nDevices} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  // Flows, oldest first, one time slice per statement.
  const tf = Date.now();
  const span = now - start;
  const chunks: number[] = [];
  for (let lo = 0; lo < nFlows; lo += chunk) chunks.push(lo);
  let done = 0;
  const insertChunk = async (lo: number) => {
    const hi = Math.min(nFlows, lo + chunk) - 1;
    await run(
      `INSERT INTO network_traffic (ts_start, ts_end, device_id, src_ip, src_port, dst_ip, dst_port, proto,
                                    app_proto, bytes_out, bytes_in, packets_out, packets_in, conn_state)
       SELECT ts, ts + make_interval(secs => g % 30), d,
              '10.0.0.0'::inet + d, (32768 + g % 28000)::int,
              '93.184.0.0'::inet + (g * 7 % 65536), (ARRAY[443,80,53,123,1883,8883,554,5353])[1 + (g % 8)::int],
              CASE WHEN g % 8 IN (2,3,6) THEN 17 ELSE 6 END,
              (ARRAY['tls','http','dns','ntp','mqtt','mqtts','rtsp','mdns'])[1 + (g % 8)::int],
              200 + g * 13 % 50000, 100 + g * 17 % 200000, 1 + g % 40, 1 + g % 60, 'SF'
       FROM (SELECT g, 1 + (g * 7919) % ${nDevices} AS d,
                    to_timestamp((${start} + g::float8 * ${span / nFlows}) / 1000.0) AS ts
             FROM generate_series(${lo}::int8, ${hi}::int8) g) s`,
    );
    done += hi + 1 - lo;
    if ((lo / chunk) % 4 === 3 || done === nFlows) {
      const s = (Date.now() - tf) / 1000;
      log(`flows: ${done} in ${s.toFixed(1)} s (${Math.round(done / s)} rows/s)`);
    }
  };
  // Two writers (this machine has two cores; PostgreSQL spends them on index maintenance).
  const workers = Array.from({ length: 2 }, async () => {
    for (let lo = chunks.shift(); lo !== undefined; lo = chunks.shift()) await insertChunk(lo);
  });
  await Promise.all(workers);
  const flowSeconds = (Date.now() - tf) / 1000;

  // Rollups: hourly for every device over 24 h, per-minute for the busiest tenth over the last 10 minutes.
  await run(
    `INSERT INTO traffic_rollups (device_id, minute, bytes_out, bytes_in, packets_out, packets_in, flows,
                                  distinct_peers, distinct_ports)
     SELECT d, date_trunc('hour', now()) - make_interval(hours => h) - interval '1 minute',
            1000 + d * 37 % 900000, 2000 + d * 53 % 3000000, 10 + d % 500, 10 + d % 900, 1 + d % 60,
            1 + d % 12, 1 + d % 5
     FROM generate_series(1, ${nDevices}) d, generate_series(0, 23) h
     UNION ALL
     SELECT d, date_trunc('minute', now()) - make_interval(mins => m),
            500 + d * 41 % 90000, 900 + d * 29 % 300000, 5 + d % 50, 5 + d % 90, 1 + d % 6, 1 + d % 4, 1
     FROM generate_series(1, ${Math.max(1, Math.floor(nDevices / 10))}) d, generate_series(0, 9) m`,
  );
  const rollups = Number(
    (
      (await db.execute(sql.raw('SELECT count(*)::int8 AS n FROM traffic_rollups'))) as unknown as {
        rows: { n: number | string }[];
      }
    ).rows[0]?.n ?? 0,
  );

  await run(
    `INSERT INTO alerts (device_id, kind, severity, status, title, dedup_key, count, first_seen, last_seen)
     SELECT 1 + (g * 31) % ${nDevices}, (ARRAY['port_scan','c2_beacon','dns_tunnel','new_peer'])[1 + g % 4],
            (ARRAY['critical','high','medium','low','info'])[1 + g % 5],
            (ARRAY['new','acknowledged','resolved','false_positive'])[1 + g % 4],
            'bench alert ' || g, 'bench:' || g, 1 + g % 5,
            now() - make_interval(mins => g % 1440), now() - make_interval(mins => g % 60)
     FROM generate_series(1, ${nAlerts}) g`,
  );
  await run('ANALYZE');
  const seconds = (Date.now() - t0) / 1000;
  const result: SeedResult = {
    schema: opts.schema,
    devices: nDevices,
    flows: nFlows,
    rollups,
    alerts: nAlerts,
    partitions,
    seconds: Math.round(seconds * 10) / 10,
    flow_rows_per_s: Math.round(nFlows / flowSeconds),
  };
  log(`seeded ${JSON.stringify(result)}`);
  return { store, result };
}

export async function dropSeedSchema(schema: string): Promise<void> {
  const store = await openStore({ databaseUrl: PG_URL, schema: 'public', poolMax: 1 });
  try {
    await store.db.execute(sql.raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  } finally {
    await store.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const schema = process.argv[2] ?? `bench_seed_${Date.now().toString(36)}`;
  const { store } = await seedScale({ schema, log: (m) => process.stderr.write(`${m}\n`) });
  await store.close();
}
