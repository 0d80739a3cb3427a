import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { queryRows } from '../store/db.js';
import { PartitionManager } from '../store/partitions.js';
import { makeStack, stackKinds, type Stack } from '../test-support/api.js';
import { runMaintenance } from './maintenance.js';

const kinds = await stackKinds();
const DAY = 86_400_000;

describe.each(kinds)('maintenance and retention on %s stack', (kind) => {
  let s: Stack;
  beforeAll(async () => {
    s = await makeStack(kind);
  });
  afterAll(async () => s?.close());

  it('makes partitions ahead, and drops old flows, rollups, closed alerts and audit rows by their settings', async () => {
    const now = new Date('2026-06-15T12:00:00Z');
    const db = s.services.store.db;
    const pm = new PartitionManager(db);
    await pm.ensureFor([now.getTime() - 40 * DAY, now.getTime() - 2 * DAY]);
    await db.execute(sql`INSERT INTO devices (mac) VALUES ('00:11:22:33:44:55')`);
    const [dev] = await queryRows<{ id: number }>(db, sql`SELECT id::int8 AS id FROM devices`);
    for (const daysAgo of [40, 2]) {
      const t = new Date(now.getTime() - daysAgo * DAY).toISOString();
      await db.execute(
        sql`INSERT INTO network_traffic (ts_start, ts_end, src_ip, dst_ip, proto) VALUES (${t}, ${t}, '10.0.0.1', '10.0.0.2', 6)`,
      );
      await db.execute(
        sql`INSERT INTO traffic_rollups (device_id, minute, flows) VALUES (${dev?.id}, ${t}, 1)`,
      );
      for (const status of ['resolved', 'new']) {
        await db.execute(sql`INSERT INTO alerts (device_id, kind, severity, status, title, dedup_key, first_seen, last_seen)
          VALUES (${dev?.id}, 'scan', 'high', ${status}, 't', ${`k${daysAgo}${status}`}, ${t}, ${t})`);
      }
    }
    for (let i = 0; i < 3; i++) await s.services.audit.record({ actor: 'test', action: `old.${i}` });
    await db.execute(
      sql`UPDATE audit_log SET at = ${new Date(now.getTime() - 100 * DAY).toISOString()} WHERE action LIKE 'old.%'`,
    );
    const config = loadConfig({
      FLOW_RETENTION_DAYS: '30',
      ROLLUP_RETENTION_DAYS: '30',
      ALERT_RETENTION_DAYS: '30',
      AUDIT_RETENTION_DAYS: '90',
      PARTITION_PREMAKE_DAYS: '3',
    });
    const r = await runMaintenance(s.services, config, now);
    expect(r.dropped).toEqual(['network_traffic_p20260506']);
    expect(r.rollups).toBe(1);
    expect(r.alertsDeleted).toBe(1);
    expect(r.auditPruned).toBeGreaterThanOrEqual(3);
    const days = (await pm.list()).map((p) => new Date(p.dayMs).toISOString().slice(0, 10));
    expect(days).toEqual(expect.arrayContaining(['2026-06-13', '2026-06-15', '2026-06-18']));
    const left = await queryRows<{ flows: number; alerts: number }>(
      db,
      sql`SELECT (SELECT count(*) FROM network_traffic)::int AS flows, (SELECT count(*) FROM alerts)::int AS alerts`,
    );
    expect(left[0]).toEqual({ flows: 1, alerts: 3 });
    // The chain still verifies from the anchor left by pruning.
    const v = await s.services.audit.verify();
    expect(v.broken).toBeNull();
    expect(v.checked).toBeGreaterThan(0);
  });
});
