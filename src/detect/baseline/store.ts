/**
 * Database access of the baselines: rollup minutes → windows, the network clock, fitted models.
 */
import { ROLLUP_MINUTE_COLUMNS } from '../../store/rollup-minutes.js';
import { and, gte, inArray, lt, sql } from 'drizzle-orm';
import {
  aggregateRollupWindows,
  type RollupMinute,
  type RollupWindow,
} from '../../ml/features/rollup-window.js';
import { queryRows, type Db } from '../../store/db.js';
import { deviceBaselines, deviceTypeBaselines, trafficRollups } from '../../store/schema.js';

export type BaselineRow = typeof deviceBaselines.$inferSelect;
export type BaselineMeta = Omit<BaselineRow, 'model'>;
export type TypeBaselineRow = typeof deviceTypeBaselines.$inferSelect;

/** End of the latest minute any device has a rollup for (flow time), or null without traffic. */
export async function networkClock(db: Db): Promise<Date | null> {
  const [row] = await queryRows<{ m: string | Date | null }>(
    db,
    sql`SELECT max(minute) AS m FROM traffic_rollups`,
  );
  if (!row?.m) return null;
  return new Date(new Date(row.m).getTime() + 60_000);
}

/** Rollup minutes of the given devices in [from, to), grouped into windows per device. */
export async function loadWindows(
  db: Db,
  deviceIds: readonly number[],
  from: Date,
  to: Date,
  windowMinutes: number,
): Promise<Map<number, RollupWindow[]>> {
  const out = new Map<number, RollupWindow[]>();
  if (deviceIds.length === 0 || from >= to) return out;
  const rows: RollupMinute[] = await db
    .select(ROLLUP_MINUTE_COLUMNS)
    .from(trafficRollups)
    .where(
      and(
        inArray(trafficRollups.deviceId, [...deviceIds]),
        gte(trafficRollups.minute, from),
        lt(trafficRollups.minute, to),
      ),
    );
  for (const w of aggregateRollupWindows(rows, windowMinutes)) {
    let list = out.get(w.deviceId);
    if (!list) out.set(w.deviceId, (list = []));
    list.push(w);
  }
  return out;
}

/**
 * Devices (not merged away) without a baseline that have at least `min` windows with traffic in
 * [from, to), with their window count.
 */
export async function devicesReadyForBaseline(
  db: Db,
  from: Date,
  to: Date,
  windowMinutes: number,
  min: number,
): Promise<Map<number, number>> {
  const secs = windowMinutes * 60;
  const rows = await queryRows<{ device_id: number | string; n: number | string }>(
    db,
    sql`SELECT r.device_id, count(DISTINCT floor(extract(epoch FROM r.minute) / ${secs}))::int AS n
          FROM traffic_rollups r
          JOIN devices d ON d.id = r.device_id AND d.merged_into IS NULL
         WHERE r.minute >= ${from.toISOString()}::timestamptz AND r.minute < ${to.toISOString()}::timestamptz
           AND NOT EXISTS (SELECT 1 FROM device_baselines b WHERE b.device_id = r.device_id)
         GROUP BY r.device_id
        HAVING count(DISTINCT floor(extract(epoch FROM r.minute) / ${secs})) >= ${min}`,
  );
  return new Map(rows.map((r) => [Number(r.device_id), Number(r.n)]));
}

/** Every baseline without its model (small). */
export async function baselineMetas(db: Db): Promise<BaselineMeta[]> {
  return db
    .select({
      deviceId: deviceBaselines.deviceId,
      algorithm: deviceBaselines.algorithm,
      featureSet: deviceBaselines.featureSet,
      windowMinutes: deviceBaselines.windowMinutes,
      windowsUsed: deviceBaselines.windowsUsed,
      trainedFrom: deviceBaselines.trainedFrom,
      trainedTo: deviceBaselines.trainedTo,
      threshold: deviceBaselines.threshold,
      stats: deviceBaselines.stats,
      fittedAt: deviceBaselines.fittedAt,
      lastScoredWindow: deviceBaselines.lastScoredWindow,
      windowsScored: deviceBaselines.windowsScored,
      anomalies: deviceBaselines.anomalies,
    })
    .from(deviceBaselines);
}

export async function baselineModels(
  db: Db,
  deviceIds: readonly number[],
): Promise<Map<number, Record<string, unknown>>> {
  if (deviceIds.length === 0) return new Map();
  const rows = await db
    .select({ deviceId: deviceBaselines.deviceId, model: deviceBaselines.model })
    .from(deviceBaselines)
    .where(inArray(deviceBaselines.deviceId, [...deviceIds]));
  return new Map(rows.map((r) => [r.deviceId, r.model]));
}

export async function saveBaseline(db: Db, row: typeof deviceBaselines.$inferInsert): Promise<void> {
  const { deviceId: _id, ...set } = row;
  await db
    .insert(deviceBaselines)
    .values(row)
    .onConflictDoUpdate({ target: deviceBaselines.deviceId, set })
    // The device may have been deleted or merged meanwhile: its row goes with it.
    .catch((e: unknown) => {
      if (isForeignKeyViolation(e)) return;
      throw e;
    });
}

/** Moves scoring on: last scored window, windows scored and anomalies since the fit. */
export async function markScored(
  db: Db,
  updates: readonly { deviceId: number; lastScored: Date; scored: number; anomalies: number }[],
): Promise<void> {
  if (updates.length === 0) return;
  await db.execute(sql`
    UPDATE device_baselines b
       SET last_scored_window = GREATEST(b.last_scored_window, v.t),
           windows_scored = b.windows_scored + v.n,
           anomalies = b.anomalies + v.a
      FROM unnest(${sql.param(updates.map((u) => u.deviceId))}::int8[],
                  ${sql.param(updates.map((u) => u.lastScored.toISOString()))}::timestamptz[],
                  ${sql.param(updates.map((u) => u.scored))}::int4[],
                  ${sql.param(updates.map((u) => u.anomalies))}::int4[]) AS v(id, t, n, a)
     WHERE b.device_id = v.id`);
}

export async function typeBaselines(db: Db): Promise<TypeBaselineRow[]> {
  return db.select().from(deviceTypeBaselines);
}

export async function saveTypeBaseline(db: Db, row: typeof deviceTypeBaselines.$inferInsert): Promise<void> {
  const { deviceType: _t, ...set } = row;
  await db
    .insert(deviceTypeBaselines)
    .values(row)
    .onConflictDoUpdate({ target: deviceTypeBaselines.deviceType, set });
}

export async function markTypeScored(db: Db, deviceType: string, lastScored: Date): Promise<void> {
  await db.execute(
    sql`UPDATE device_type_baselines SET last_scored_window = ${lastScored.toISOString()}::timestamptz
         WHERE device_type = ${deviceType}`,
  );
}

export interface DeviceLabel {
  id: number;
  deviceType: string;
  label: string;
}

/** Type and a readable label (host name, else IP, else MAC) of live devices. */
export async function deviceLabels(db: Db, ids: readonly number[]): Promise<Map<number, DeviceLabel>> {
  if (ids.length === 0) return new Map();
  const rows = await queryRows<{
    id: number | string;
    device_type: string;
    hostname: string | null;
    ip: string | null;
    mac: string | null;
  }>(
    db,
    sql`SELECT id, device_type, hostname, host(primary_ip) AS ip, mac FROM devices
         WHERE id = ANY(${sql.param([...ids])}::int8[]) AND merged_into IS NULL`,
  );
  return new Map(
    rows.map((r) => [
      Number(r.id),
      {
        id: Number(r.id),
        deviceType: r.device_type,
        label: r.hostname ?? r.ip ?? r.mac ?? `device ${String(r.id)}`,
      },
    ]),
  );
}

/** Community ids of a device's largest flows in a window (alert evidence). */
export async function windowFlows(
  db: Db,
  deviceId: number,
  from: Date,
  to: Date,
  limit = 10,
): Promise<string[]> {
  const rows = await queryRows<{ community_id: string | null }>(
    db,
    sql`SELECT community_id FROM network_traffic
         WHERE ts_start >= ${from.toISOString()}::timestamptz AND ts_start < ${to.toISOString()}::timestamptz
           AND (device_id = ${deviceId} OR peer_device_id = ${deviceId}) AND community_id IS NOT NULL
         ORDER BY packets_out + packets_in DESC LIMIT ${limit}`,
  );
  return rows.map((r) => r.community_id).filter((c): c is string => c !== null);
}

function isForeignKeyViolation(e: unknown): boolean {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur && typeof cur === 'object'; i++) {
    if ((cur as { code?: unknown }).code === '23503') return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

const LEASE_KEY = 'baseline_job_lease';

/**
 * One baseline run at a time across every worker process: a lease row in `settings` taken when free or
 * expired (a crashed run frees it after `ttlMs`). Returns a token to release it with, or null when taken.
 */
export async function takeLease(db: Db, ttlMs: number): Promise<string | null> {
  const token = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const until = new Date(Date.now() + ttlMs).toISOString();
  const rows = await queryRows<{ key: string }>(
    db,
    sql`INSERT INTO settings (key, value, updated_at)
        VALUES (${LEASE_KEY}, jsonb_build_object('token', ${token}::text, 'until', ${until}::text), now())
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
         WHERE (settings.value->>'until')::timestamptz < now()
        RETURNING key`,
  );
  return rows.length > 0 ? token : null;
}

export async function releaseLease(db: Db, token: string): Promise<void> {
  await db.execute(sql`DELETE FROM settings WHERE key = ${LEASE_KEY} AND value->>'token' = ${token}::text`);
}
