/**
 * Read side of the vulnerability data for the API: filtered, keyset-paginated lists and details, and the
 * status change of a device's match (audited, risk recomputed in the same transaction).
 */
import { sql, type SQL } from 'drizzle-orm';
import type { AuditLog } from '../../audit/audit-log.js';
import type { Actor } from '../../auth/users.js';
import { AppError } from '../../errors.js';
import type { Db } from '../../store/db.js';
import { queryRows } from '../../store/db.js';
import type { VULN_STATUSES } from '../../store/schema.js';
import { recomputeRisk } from './matching.js';

export type VulnStatus = (typeof VULN_STATUSES)[number];
export const SORT_KEYS = ['cvss', 'epss', 'published', 'modified', 'cve_id'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

/** The sort key of each whitelisted sort as a float8 expression (nulls last in descending order). */
const SORT_EXPR: Record<Exclude<SortKey, 'cve_id'>, SQL> = {
  cvss: sql`COALESCE(v.cvss_v31_score, v.cvss_v2_score, -1)::float8`,
  epss: sql`COALESCE(v.epss, -1)::float8`,
  published: sql`COALESCE(extract(epoch FROM v.published) * 1000, -1)::float8`,
  modified: sql`COALESCE(extract(epoch FROM v.modified) * 1000, -1)::float8`,
};

export interface VulnListFilter {
  severity?: string | undefined;
  kev?: boolean | undefined;
  epssMin?: number | undefined;
  deviceId?: number | undefined;
  affected?: boolean | undefined;
  q?: string | undefined;
  sort: SortKey;
  order: 'asc' | 'desc';
  after?: { k: number | null; id: string } | undefined;
  limit: number;
}

export interface VulnListRow {
  cve_id: string;
  description: string | null;
  severity: string | null;
  cvss_v31_score: number | null;
  cvss_v31_vector: string | null;
  cvss_v2_score: number | null;
  cvss_v2_vector: string | null;
  published: Date | string | null;
  modified: Date | string | null;
  kev: boolean;
  kev_date_added: string | null;
  kev_due_date: string | null;
  kev_ransomware: string | null;
  epss: number | null;
  epss_percentile: number | null;
  affected_devices: number;
  sort_key: number | null;
}

const COLUMNS = sql`v.cve_id, v.description, v.severity, v.cvss_v31_score::float8 AS cvss_v31_score, v.cvss_v31_vector,
  v.cvss_v2_score::float8 AS cvss_v2_score, v.cvss_v2_vector, v.published, v.modified, v.kev,
  v.kev_date_added::text AS kev_date_added, v.kev_due_date::text AS kev_due_date, v.kev_ransomware,
  v.epss, v.epss_percentile,
  (SELECT count(*) FROM device_vulnerabilities c WHERE c.cve_id = v.cve_id)::int8 AS affected_devices`;

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export async function listVulnerabilities(db: Db, f: VulnListFilter): Promise<VulnListRow[]> {
  const conds: SQL[] = [];
  if (f.severity) conds.push(sql`v.severity = ${f.severity}`);
  if (f.kev !== undefined) conds.push(sql`v.kev = ${f.kev}`);
  if (f.epssMin !== undefined) conds.push(sql`v.epss >= ${f.epssMin}`);
  if (f.deviceId !== undefined) {
    conds.push(
      sql`EXISTS (SELECT 1 FROM device_vulnerabilities d WHERE d.cve_id = v.cve_id AND d.device_id = ${f.deviceId})`,
    );
  }
  if (f.affected !== undefined) {
    conds.push(
      f.affected
        ? sql`EXISTS (SELECT 1 FROM device_vulnerabilities d WHERE d.cve_id = v.cve_id)`
        : sql`NOT EXISTS (SELECT 1 FROM device_vulnerabilities d WHERE d.cve_id = v.cve_id)`,
    );
  }
  if (f.q) {
    const pat = `%${likeEscape(f.q)}%`;
    conds.push(sql`(v.cve_id ILIKE ${pat} OR v.description ILIKE ${pat})`);
  }
  const dir = f.order === 'asc' ? sql`ASC` : sql`DESC`;
  let keyExpr: SQL;
  let order: SQL;
  if (f.sort === 'cve_id') {
    keyExpr = sql`NULL::float8`;
    order = sql`v.cve_id ${dir}`;
    if (f.after)
      conds.push(f.order === 'asc' ? sql`v.cve_id > ${f.after.id}` : sql`v.cve_id < ${f.after.id}`);
  } else {
    keyExpr = SORT_EXPR[f.sort];
    order = sql`${keyExpr} ${dir}, v.cve_id ${dir}`;
    if (f.after) {
      const k = f.after.k ?? -1;
      conds.push(
        f.order === 'asc'
          ? sql`(${keyExpr}, v.cve_id) > (${k}::float8, ${f.after.id})`
          : sql`(${keyExpr}, v.cve_id) < (${k}::float8, ${f.after.id})`,
      );
    }
  }
  const where = conds.length ? sql`WHERE ${sql.join(conds, sql` AND `)}` : sql``;
  return queryRows<VulnListRow>(
    db,
    sql`SELECT ${COLUMNS}, ${keyExpr} AS sort_key FROM vulnerabilities v ${where} ORDER BY ${order} LIMIT ${f.limit}`,
  );
}

export interface VulnDetailRow extends VulnListRow {
  configurations: unknown;
  references: unknown;
}

export async function getVulnerability(db: Db, cveId: string): Promise<VulnDetailRow | null> {
  const rows = await queryRows<VulnDetailRow>(
    db,
    sql`SELECT ${COLUMNS}, NULL::float8 AS sort_key, v.configurations, v."references"
        FROM vulnerabilities v WHERE v.cve_id = ${cveId}`,
  );
  return rows[0] ?? null;
}

export interface DeviceVulnRow extends VulnListRow {
  device_id: number;
  mac: string | null;
  hostname: string | null;
  vendor: string | null;
  model: string | null;
  matched_cpe: string;
  matched_by: Record<string, unknown>;
  status: VulnStatus;
  possible: boolean;
  first_seen: Date | string;
  updated_at: Date | string;
}

const DV_COLUMNS = sql`dv.device_id, d.mac, d.hostname, d.vendor, d.model, dv.matched_cpe, dv.matched_by,
  dv.status, dv.possible, dv.first_seen, dv.updated_at`;

/** Devices affected by a CVE (first `limit`, by device id). */
export async function affectedDevices(db: Db, cveId: string, limit: number): Promise<DeviceVulnRow[]> {
  return queryRows<DeviceVulnRow>(
    db,
    sql`SELECT ${COLUMNS}, NULL::float8 AS sort_key, ${DV_COLUMNS}
        FROM device_vulnerabilities dv JOIN devices d ON d.id = dv.device_id JOIN vulnerabilities v ON v.cve_id = dv.cve_id
        WHERE dv.cve_id = ${cveId} ORDER BY dv.device_id LIMIT ${limit}`,
  );
}

export async function deviceExists(db: Db, deviceId: number): Promise<boolean> {
  return (await queryRows(db, sql`SELECT 1 FROM devices WHERE id = ${deviceId}`)).length > 0;
}

/** A device's matches, most severe first (CVSS desc, then CVE id desc), keyset-paginated. */
export async function deviceVulnerabilities(
  db: Db,
  deviceId: number,
  f: {
    status?: VulnStatus | undefined;
    possible?: boolean | undefined;
    after?: { k: number; id: string } | undefined;
    limit: number;
  },
): Promise<DeviceVulnRow[]> {
  const key = SORT_EXPR.cvss;
  const conds: SQL[] = [sql`dv.device_id = ${deviceId}`];
  if (f.status) conds.push(sql`dv.status = ${f.status}`);
  if (f.possible !== undefined) conds.push(sql`dv.possible = ${f.possible}`);
  if (f.after) conds.push(sql`(${key}, v.cve_id) < (${f.after.k}::float8, ${f.after.id})`);
  return queryRows<DeviceVulnRow>(
    db,
    sql`SELECT ${COLUMNS}, ${key} AS sort_key, ${DV_COLUMNS}
        FROM device_vulnerabilities dv JOIN devices d ON d.id = dv.device_id JOIN vulnerabilities v ON v.cve_id = dv.cve_id
        WHERE ${sql.join(conds, sql` AND `)} ORDER BY ${key} DESC, v.cve_id DESC LIMIT ${f.limit}`,
  );
}

async function deviceVulnerability(db: Db, deviceId: number, cveId: string): Promise<DeviceVulnRow | null> {
  const rows = await queryRows<DeviceVulnRow>(
    db,
    sql`SELECT ${COLUMNS}, NULL::float8 AS sort_key, ${DV_COLUMNS}
        FROM device_vulnerabilities dv JOIN devices d ON d.id = dv.device_id JOIN vulnerabilities v ON v.cve_id = dv.cve_id
        WHERE dv.device_id = ${deviceId} AND dv.cve_id = ${cveId}`,
  );
  return rows[0] ?? null;
}

/**
 * Sets the status of a device's match. The note (and who/when) is kept in matched_by.user, which re-matching
 * preserves. Audited in the same transaction (action `device_vulnerability.status`, before/after); the
 * device's risk score is recomputed. Returns the row and the new risk score.
 */
export async function setDeviceVulnStatus(
  db: Db,
  audit: AuditLog,
  actor: Actor,
  deviceId: number,
  cveId: string,
  change: { status: VulnStatus; note?: string | undefined },
): Promise<{ row: DeviceVulnRow; riskScore: number; riskChanged: boolean }> {
  const { riskScore, riskChanged } = await db.transaction(async (tx) => {
    const dev = (
      await queryRows<{ risk_score: number }>(
        tx,
        sql`SELECT risk_score::float8 AS risk_score FROM devices WHERE id = ${deviceId} FOR UPDATE`,
      )
    )[0];
    if (!dev) throw new AppError('DEVICE_NOT_FOUND', `No device with id ${deviceId}.`);
    const cur = (
      await queryRows<{ status: VulnStatus; matched_by: Record<string, unknown> }>(
        tx,
        sql`SELECT status, matched_by FROM device_vulnerabilities
            WHERE device_id = ${deviceId} AND cve_id = ${cveId} FOR UPDATE`,
      )
    )[0];
    if (!cur) {
      throw new AppError('VULNERABILITY_NOT_FOUND', `Device ${deviceId} has no match for ${cveId}.`);
    }
    const prevUser = (cur.matched_by['user'] ?? null) as { note?: string | null } | null;
    const user = {
      note: change.note ?? null,
      by: actor.name,
      at: new Date().toISOString(),
    };
    await tx.execute(sql`
      UPDATE device_vulnerabilities
      SET status = ${change.status},
          matched_by = matched_by || jsonb_build_object('user', ${JSON.stringify(user)}::jsonb),
          updated_at = now()
      WHERE device_id = ${deviceId} AND cve_id = ${cveId}`);
    const score = await recomputeRisk(tx, deviceId);
    await audit.record(
      {
        actorId: actor.id,
        actor: actor.name,
        action: 'device_vulnerability.status',
        target: `device:${deviceId}:${cveId}`,
        ip: actor.ip ?? null,
        requestId: actor.requestId ?? null,
        details: {
          device_id: deviceId,
          cve_id: cveId,
          before: { status: cur.status, note: prevUser?.note ?? null },
          after: { status: change.status, note: user.note },
          risk_score: { before: Math.round(dev.risk_score), after: score },
        },
      },
      tx,
    );
    return { riskScore: score, riskChanged: score !== Math.round(dev.risk_score) };
  });
  const row = await deviceVulnerability(db, deviceId, cveId);
  if (!row) throw new AppError('VULNERABILITY_NOT_FOUND', `Device ${deviceId} has no match for ${cveId}.`);
  return { row, riskScore, riskChanged };
}
