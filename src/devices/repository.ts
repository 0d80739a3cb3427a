/**
 * Device inventory queries and hand corrections: the list (filters, whitelisted sorts, keyset cursor), the
 * detail, signals, traffic rollups, PATCH by an analyst (the fields become user_fields, never overwritten by
 * rules or the model, and the correction is recorded as labelled feedback in the audit log) and merges.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { AuditLog } from '../audit/audit-log.js';
import type { Actor } from '../auth/users.js';
import { AppError } from '../errors.js';
import { mergeDevices } from '../store/device-merge.js';
import { queryRows, type Db, type Store } from '../store/db.js';
import { exactIso } from '../store/exact-time.js';

export const SORTS = [
  'last_seen',
  'first_seen',
  'risk_score',
  'confidence',
  'hostname',
  'vendor',
  'device_type',
  'id',
] as const;
export type Sort = (typeof SORTS)[number];

export interface DeviceView {
  id: number;
  mac: string | null;
  mac_randomized: boolean;
  ip: string | null;
  vendor: string | null;
  device_type: string;
  type_source: string;
  confidence: number;
  model: string | null;
  firmware: string | null;
  os: string | null;
  hostname: string | null;
  cpe23: string[];
  tags: string[];
  notes: string | null;
  user_fields: string[];
  risk_score: number;
  first_seen: string;
  last_seen: string;
  online: boolean;
}

const COLUMNS = sql`id::int8 AS id, mac, mac_randomized, host(primary_ip) AS ip, vendor, device_type, type_source,
  confidence::float8 AS confidence, model, firmware, os, hostname, cpe23, tags, notes, user_fields,
  risk_score::float8 AS risk_score, first_seen, last_seen`;

interface Raw extends Omit<DeviceView, 'first_seen' | 'last_seen' | 'online'> {
  first_seen: Date | string;
  last_seen: Date | string;
}

/**
 * The list's rows carry their times at full (microsecond) precision for cursors: a JS Date holds
 * milliseconds, and a cursor rounded to the millisecond would skip rows that share it.
 */
export type ListedDevice = DeviceView & { readonly exact: { first_seen: string; last_seen: string } };

const EXACT = sql`${exactIso(sql`first_seen`)} AS first_seen_exact, ${exactIso(sql`last_seen`)} AS last_seen_exact`;

const iso = (d: Date | string): string => (d instanceof Date ? d.toISOString() : new Date(d).toISOString());

function view(r: Raw, offlineMs: number, now = Date.now()): DeviceView {
  const last = iso(r.last_seen);
  return {
    ...r,
    id: Number(r.id),
    confidence: Number(r.confidence),
    risk_score: Number(r.risk_score),
    first_seen: iso(r.first_seen),
    last_seen: last,
    online: now - new Date(last).getTime() <= offlineMs,
  };
}

export interface ListFilter {
  type?: string | undefined;
  vendor?: string | undefined;
  riskMin?: number | undefined;
  online?: boolean | undefined;
  q?: string | undefined;
  sort: Sort;
  order: 'asc' | 'desc';
  limit: number;
  after?: { v: string | number | null; id: number } | undefined;
  offlineMinutes: number;
}

const SORT_EXPR: Record<Sort, SQL> = {
  last_seen: sql`last_seen`,
  first_seen: sql`first_seen`,
  risk_score: sql`risk_score`,
  confidence: sql`confidence`,
  hostname: sql`COALESCE(hostname, '')`,
  vendor: sql`COALESCE(vendor, '')`,
  device_type: sql`device_type`,
  id: sql`id`,
};

export function sortValue(d: ListedDevice, sort: Sort): string | number {
  switch (sort) {
    case 'last_seen':
      return d.exact.last_seen;
    case 'first_seen':
      return d.exact.first_seen;
    case 'risk_score':
      return d.risk_score;
    case 'confidence':
      return d.confidence;
    case 'hostname':
      return d.hostname ?? '';
    case 'vendor':
      return d.vendor ?? '';
    case 'device_type':
      return d.device_type;
    case 'id':
      return d.id;
  }
}

const escLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export async function listDevices(db: Db, f: ListFilter): Promise<ListedDevice[]> {
  const conds: SQL[] = [sql`merged_into IS NULL`];
  if (f.type) conds.push(sql`device_type = ${f.type}`);
  if (f.vendor) conds.push(sql`vendor ILIKE ${`%${escLike(f.vendor)}%`}`);
  if (f.riskMin !== undefined) conds.push(sql`risk_score >= ${f.riskMin}`);
  const cutoff = new Date(Date.now() - f.offlineMinutes * 60_000).toISOString();
  if (f.online === true) conds.push(sql`last_seen >= ${cutoff}::timestamptz`);
  if (f.online === false) conds.push(sql`last_seen < ${cutoff}::timestamptz`);
  if (f.q) {
    const like = `%${escLike(f.q)}%`;
    conds.push(sql`(hostname ILIKE ${like} OR mac ILIKE ${like} OR host(primary_ip) LIKE ${like}
      OR vendor ILIKE ${like} OR model ILIKE ${like})`);
  }
  const expr = SORT_EXPR[f.sort];
  const cast =
    f.sort === 'last_seen' || f.sort === 'first_seen'
      ? sql`::timestamptz`
      : f.sort === 'risk_score' || f.sort === 'confidence'
        ? sql`::float8`
        : f.sort === 'id'
          ? sql`::int8`
          : sql`::text`;
  if (f.after) {
    const v = sql`${f.after.v}${cast}`;
    conds.push(
      f.order === 'desc'
        ? sql`(${expr} < ${v} OR (${expr} = ${v} AND id < ${f.after.id}))`
        : sql`(${expr} > ${v} OR (${expr} = ${v} AND id > ${f.after.id}))`,
    );
  }
  const dir = f.order === 'desc' ? sql`DESC` : sql`ASC`;
  const rows = await queryRows<Raw & { first_seen_exact: string; last_seen_exact: string }>(
    db,
    sql`SELECT ${COLUMNS}, ${EXACT} FROM devices WHERE ${sql.join(conds, sql` AND `)}
        ORDER BY ${expr} ${dir}, id ${dir} LIMIT ${f.limit}`,
  );
  return rows.map(({ first_seen_exact, last_seen_exact, ...r }) => ({
    ...view(r, f.offlineMinutes * 60_000),
    exact: { first_seen: first_seen_exact, last_seen: last_seen_exact },
  }));
}

export async function getDevice(
  db: Db,
  id: number,
  offlineMinutes: number,
): Promise<DeviceView & { evidence: unknown[] }> {
  const [r] = await queryRows<Raw & { evidence: unknown[] }>(
    db,
    sql`SELECT ${COLUMNS}, evidence FROM devices WHERE id = ${id}`,
  );
  if (!r) throw new AppError('DEVICE_NOT_FOUND', `No device with id ${id}.`);
  return { ...view(r, offlineMinutes * 60_000), evidence: r.evidence };
}

export async function deviceAddresses(db: Db, id: number) {
  const rows = await queryRows<{ ip: string; first_seen: Date | string; last_seen: Date | string }>(
    db,
    sql`SELECT host(ip) AS ip, first_seen, last_seen FROM device_addresses WHERE device_id = ${id} ORDER BY last_seen DESC LIMIT 100`,
  );
  return rows.map((a) => ({ ip: a.ip, first_seen: iso(a.first_seen), last_seen: iso(a.last_seen) }));
}

export async function deviceSignals(db: Db, id: number, limit: number, afterId?: number, kind?: string) {
  const rows = await queryRows<{
    id: number;
    kind: string;
    value: string;
    count: number;
    first_seen: Date | string;
    last_seen: Date | string;
  }>(
    db,
    sql`SELECT id::int8 AS id, kind, value, count::int8 AS count, first_seen, last_seen FROM device_signals
        WHERE device_id = ${id} ${kind ? sql`AND kind = ${kind}` : sql``} ${afterId !== undefined ? sql`AND id > ${afterId}` : sql``}
        ORDER BY id LIMIT ${limit}`,
  );
  return rows.map((s) => ({
    id: Number(s.id),
    kind: s.kind,
    value: s.value,
    count: Number(s.count),
    first_seen: iso(s.first_seen),
    last_seen: iso(s.last_seen),
  }));
}

export async function deviceTraffic(db: Db, id: number, from: Date, to: Date, bucketSeconds: number) {
  const rows = await queryRows<{
    t: Date | string;
    bytes_out: number;
    bytes_in: number;
    packets_out: number;
    packets_in: number;
    flows: number;
    peers: number;
    ports: number;
  }>(
    db,
    sql`SELECT to_timestamp(floor(extract(epoch FROM minute) / ${bucketSeconds}) * ${bucketSeconds}) AS t,
          sum(bytes_out)::int8 AS bytes_out, sum(bytes_in)::int8 AS bytes_in, sum(packets_out)::int8 AS packets_out,
          sum(packets_in)::int8 AS packets_in, sum(flows)::int8 AS flows, max(distinct_peers)::int8 AS peers,
          max(distinct_ports)::int8 AS ports
        FROM traffic_rollups WHERE device_id = ${id} AND minute >= ${from.toISOString()}::timestamptz
          AND minute < ${to.toISOString()}::timestamptz
        GROUP BY 1 ORDER BY 1 LIMIT 2000`,
  );
  return rows.map((r) => ({
    t: iso(r.t),
    bytes_out: Number(r.bytes_out),
    bytes_in: Number(r.bytes_in),
    packets_out: Number(r.packets_out),
    packets_in: Number(r.packets_in),
    flows: Number(r.flows),
    distinct_peers: Number(r.peers),
    distinct_ports: Number(r.ports),
  }));
}

export interface DevicePatch {
  device_type?: string | undefined;
  vendor?: string | null | undefined;
  model?: string | null | undefined;
  cpe23?: string[] | undefined;
  tags?: string[] | undefined;
  hostname?: string | null | undefined;
  notes?: string | null | undefined;
}

const FIELD_COLUMN: Record<keyof DevicePatch, string> = {
  device_type: 'device_type',
  vendor: 'vendor',
  model: 'model',
  cpe23: 'cpe23',
  tags: 'tags',
  hostname: 'hostname',
  notes: 'notes',
};

/**
 * Applies a hand correction in one transaction with its audit row. A corrected device_type is labelled
 * feedback: the audit row (action `device.correct`) keeps the label and what rules/model had said.
 */
export async function patchDevice(
  store: Store,
  audit: AuditLog,
  actor: Actor,
  id: number,
  patch: DevicePatch,
): Promise<{ before: Record<string, unknown>; changed: string[] }> {
  return store.db.transaction(async (tx) => {
    const [before] = await queryRows<Record<string, unknown>>(
      tx,
      sql`SELECT device_type, type_source, confidence::float8 AS confidence, vendor, model, cpe23, tags, hostname, notes, mac, evidence
          FROM devices WHERE id = ${id} FOR UPDATE`,
    );
    if (!before) throw new AppError('DEVICE_NOT_FOUND', `No device with id ${id}.`);
    const fields = (Object.keys(patch) as (keyof DevicePatch)[]).filter((k) => patch[k] !== undefined);
    const sets: SQL[] = [];
    for (const f of fields) {
      const v = patch[f];
      if (f === 'cpe23' || f === 'tags')
        sets.push(sql`${sql.identifier(FIELD_COLUMN[f])} = ${sql.param(v as string[])}::text[]`);
      else sets.push(sql`${sql.identifier(FIELD_COLUMN[f])} = ${v as string | null}`);
    }
    if (patch.device_type !== undefined) sets.push(sql`type_source = 'user'`, sql`confidence = 1`);
    const userFields = fields.filter((f) => f !== 'notes' && f !== 'tags');
    await tx.execute(sql`
      UPDATE devices SET ${sql.join(sets, sql`, `)},
        user_fields = ARRAY(SELECT DISTINCT unnest(user_fields || ${sql.param(userFields)}::text[])),
        updated_at = now()
      WHERE id = ${id}`);
    const feedback =
      patch.device_type !== undefined
        ? {
            label: patch.device_type,
            predicted: before['device_type'],
            predicted_source: before['type_source'],
            predicted_confidence: before['confidence'],
            model_id:
              (before['evidence'] as { source?: string; ref?: string; used?: boolean }[] | null)?.find(
                (e) => e.source === 'model',
              )?.ref ?? null,
          }
        : null;
    const { evidence: _e, ...prev } = before;
    await audit.record(
      {
        actorId: actor.id,
        actor: actor.name,
        action: feedback ? 'device.correct' : 'device.update',
        target: `device:${id}`,
        ip: actor.ip ?? null,
        requestId: actor.requestId ?? null,
        details: { changes: patch, before: prev, ...(feedback ? { feedback } : {}) },
      },
      tx,
    );
    return { before: prev, changed: fields };
  });
}

/** Labelled feedback (hand-corrected device types) for retraining: newest first. */
export async function listFeedback(db: Db, limit: number, beforeId?: number) {
  const rows = await queryRows<{
    id: number;
    at: Date | string;
    actor: string;
    target: string;
    details: Record<string, unknown>;
  }>(
    db,
    sql`SELECT id::int8 AS id, at, actor, target, details FROM audit_log WHERE action = 'device.correct'
        ${beforeId !== undefined ? sql`AND id < ${beforeId}` : sql``} ORDER BY id DESC LIMIT ${limit}`,
  );
  return rows.map((r) => {
    const fb = (r.details['feedback'] ?? {}) as Record<string, unknown>;
    const before = (r.details['before'] ?? {}) as Record<string, unknown>;
    return {
      id: Number(r.id),
      at: iso(r.at),
      actor: r.actor,
      device_id: Number(r.target.replace(/^device:/, '')),
      mac: typeof before['mac'] === 'string' ? before['mac'] : null,
      label: String(fb['label'] ?? ''),
      predicted: typeof fb['predicted'] === 'string' ? fb['predicted'] : null,
      predicted_source: typeof fb['predicted_source'] === 'string' ? fb['predicted_source'] : null,
      model_id: typeof fb['model_id'] === 'string' ? fb['model_id'] : null,
    };
  });
}

export async function mergeByHand(
  store: Store,
  audit: AuditLog,
  actor: Actor,
  fromId: number,
  intoId: number,
): Promise<void> {
  if (fromId === intoId) throw new AppError('VALIDATION_FAILED', 'from_id and into_id must differ');
  await store.db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(727004)`);
    const rows = await queryRows<{ id: number; mac: string | null }>(
      tx,
      sql`SELECT id::int8 AS id, mac FROM devices WHERE id IN (${fromId}, ${intoId}) FOR UPDATE`,
    );
    const from = rows.find((r) => Number(r.id) === fromId);
    if (!from) throw new AppError('DEVICE_NOT_FOUND', `No device with id ${fromId}.`);
    if (!rows.some((r) => Number(r.id) === intoId))
      throw new AppError('DEVICE_NOT_FOUND', `No device with id ${intoId}.`);
    await mergeDevices(tx, fromId, intoId);
    if (from.mac) {
      await tx.execute(sql`
        INSERT INTO device_signals (device_id, kind, value, first_seen, last_seen, count)
        VALUES (${intoId}, 'mac_alias', ${from.mac}, now(), now(), 1)
        ON CONFLICT (device_id, kind, value) DO UPDATE SET last_seen = now()`);
    }
    await audit.record(
      {
        actorId: actor.id,
        actor: actor.name,
        action: 'device.merge',
        target: `device:${intoId}`,
        ip: actor.ip ?? null,
        requestId: actor.requestId ?? null,
        details: { from_id: fromId, into_id: intoId, from_mac: from.mac },
      },
      tx,
    );
  });
}
