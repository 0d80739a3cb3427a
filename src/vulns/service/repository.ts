/**
 * Writes to the `vulnerabilities` table: batched multi-row upserts of NVD records, KEV entries and EPSS scores,
 * and the index version in `settings` that tells every process's matcher cache to rebuild.
 *
 * Upsert rules:
 * - NVD record: every NVD column is replaced, unless the stored row is newer (`modified` later than the
 *   record's lastModified), so importing an old snapshot after a sync does not roll data back. KEV and EPSS
 *   columns are left alone, except that a record's own cisaExploitAdd/cisaActionDue set kev (never unset it).
 * - KEV entry: kev=true and its dates/ransomware flag; a CVE not imported yet gets a minimal row (description
 *   from the catalog) that a later NVD import completes. Entries dropped from the catalog stay kev=true.
 * - EPSS score: epss and epss_percentile; a CVE not imported yet gets a minimal row, so the order in which
 *   NVD, KEV and EPSS files are imported does not matter.
 */
import { sql } from 'drizzle-orm';
import type { Db, Tx } from '../../store/db.js';
import { queryRows } from '../../store/db.js';
import type { KevEntry } from '../kev.js';
import type { CveRecord } from '../nvd/types.js';
import { cveColumns } from './rows.js';

export const INDEX_VERSION_KEY = 'vulns.index_version';

type Q = Db | Tx;

const json = (v: unknown) => sql`${JSON.stringify(v)}::jsonb`;
const ts = (d: Date | null) => (d === null ? sql`NULL::timestamptz` : sql`${d.toISOString()}::timestamptz`);
const date = (s: string | null) => (s === null ? sql`NULL::date` : sql`${s}::date`);

/** Last record per CVE id (a multi-row upsert may not touch one row twice). */
function lastById<T>(items: readonly T[], id: (t: T) => string): T[] {
  const m = new Map<string, T>();
  for (const it of items) m.set(id(it), it);
  return [...m.values()];
}

/** Upserts NVD records (one multi-row statement). Returns the number of rows written. */
export async function upsertCves(q: Q, records: readonly CveRecord[]): Promise<number> {
  const rows = lastById(records, (r) => r.id).map(cveColumns);
  if (rows.length === 0) return 0;
  const values = sql.join(
    rows.map(
      (r) =>
        sql`(${r.cveId}, ${r.description}, ${r.severity}, ${r.cvssV31Score}::real, ${r.cvssV31Vector},
             ${r.cvssV2Score}::real, ${r.cvssV2Vector}, ${ts(r.published)}, ${ts(r.modified)}, ${r.kev},
             ${date(r.kevDateAdded)}, ${date(r.kevDueDate)}, ${json(r.configurations)}, ${json(r.references)}, now())`,
    ),
    sql`, `,
  );
  const res = await queryRows<{ cve_id: string }>(
    q,
    sql`INSERT INTO vulnerabilities AS v (cve_id, description, severity, cvss_v31_score, cvss_v31_vector,
          cvss_v2_score, cvss_v2_vector, published, modified, kev, kev_date_added, kev_due_date, configurations,
          "references", updated_at)
        VALUES ${values}
        ON CONFLICT (cve_id) DO UPDATE SET
          description = EXCLUDED.description, severity = EXCLUDED.severity,
          cvss_v31_score = EXCLUDED.cvss_v31_score, cvss_v31_vector = EXCLUDED.cvss_v31_vector,
          cvss_v2_score = EXCLUDED.cvss_v2_score, cvss_v2_vector = EXCLUDED.cvss_v2_vector,
          published = EXCLUDED.published, modified = EXCLUDED.modified,
          kev = v.kev OR EXCLUDED.kev,
          kev_date_added = COALESCE(v.kev_date_added, EXCLUDED.kev_date_added),
          kev_due_date = COALESCE(v.kev_due_date, EXCLUDED.kev_due_date),
          configurations = EXCLUDED.configurations, "references" = EXCLUDED."references", updated_at = now()
        WHERE v.modified IS NULL OR EXCLUDED.modified IS NULL OR EXCLUDED.modified >= v.modified
        RETURNING cve_id`,
  );
  return res.length;
}

/** Upserts KEV entries (kev=true, dates, ransomware). Returns [rows written, rows created]. */
export async function upsertKev(
  q: Q,
  entries: readonly KevEntry[],
): Promise<{ written: number; created: number }> {
  const rows = lastById(entries, (e) => e.cveId);
  if (rows.length === 0) return { written: 0, created: 0 };
  const values = sql.join(
    rows.map((e) => {
      const ransom =
        e.knownRansomwareCampaignUse === true
          ? 'Known'
          : e.knownRansomwareCampaignUse === false
            ? 'Unknown'
            : null;
      const desc = [e.vulnerabilityName, e.shortDescription].filter((s) => s !== '').join(': ');
      return sql`(${e.cveId}, ${desc === '' ? null : desc}, true, ${date(e.dateAdded)}, ${date(e.dueDate)}, ${ransom}, now())`;
    }),
    sql`, `,
  );
  const res = await queryRows<{ created: boolean }>(
    q,
    sql`INSERT INTO vulnerabilities AS v (cve_id, description, kev, kev_date_added, kev_due_date, kev_ransomware, updated_at)
        VALUES ${values}
        ON CONFLICT (cve_id) DO UPDATE SET kev = true, kev_date_added = EXCLUDED.kev_date_added,
          kev_due_date = EXCLUDED.kev_due_date, kev_ransomware = EXCLUDED.kev_ransomware, updated_at = now(),
          description = COALESCE(v.description, EXCLUDED.description)
        RETURNING (xmax = 0) AS created`,
  );
  return { written: res.length, created: res.filter((r) => r.created).length };
}

export interface EpssScore {
  cveId: string;
  epss: number;
  percentile: number;
}

/** Upserts EPSS scores. Returns [rows written, rows created]. */
export async function upsertEpss(
  q: Q,
  scores: readonly EpssScore[],
): Promise<{ written: number; created: number }> {
  const rows = lastById(scores, (s) => s.cveId);
  if (rows.length === 0) return { written: 0, created: 0 };
  const values = sql.join(
    rows.map((s) => sql`(${s.cveId}, ${s.epss}::float8, ${s.percentile}::float8, now())`),
    sql`, `,
  );
  const res = await queryRows<{ created: boolean }>(
    q,
    sql`INSERT INTO vulnerabilities AS v (cve_id, epss, epss_percentile, updated_at)
        VALUES ${values}
        ON CONFLICT (cve_id) DO UPDATE SET epss = EXCLUDED.epss, epss_percentile = EXCLUDED.epss_percentile,
          updated_at = now()
        RETURNING (xmax = 0) AS created`,
  );
  return { written: res.length, created: res.filter((r) => r.created).length };
}

/**
 * Bumps the matcher index version (in the transaction that changed configurations, so a process that sees the
 * new version also sees the new data). Returns the new version.
 */
export async function bumpIndexVersion(q: Q): Promise<number> {
  const rows = await queryRows<{ version: number }>(
    q,
    sql`INSERT INTO settings (key, value, updated_at) VALUES (${INDEX_VERSION_KEY}, '{"version":1}'::jsonb, now())
        ON CONFLICT (key) DO UPDATE SET
          value = jsonb_build_object('version', COALESCE((settings.value->>'version')::int8, 0) + 1),
          updated_at = now()
        RETURNING (value->>'version')::int8 AS version`,
  );
  return Number(rows[0]?.version ?? 0);
}

export async function getIndexVersion(q: Q): Promise<number> {
  const rows = await queryRows<{ version: number | null }>(
    q,
    sql`SELECT (value->>'version')::int8 AS version FROM settings WHERE key = ${INDEX_VERSION_KEY}`,
  );
  return Number(rows[0]?.version ?? 0);
}

/** A JSON value from `settings` (null when absent). */
export async function getSetting<T>(q: Q, key: string): Promise<T | null> {
  const rows = await queryRows<{ value: T }>(q, sql`SELECT value FROM settings WHERE key = ${key}`);
  return rows[0]?.value ?? null;
}

export async function putSetting(q: Q, key: string, value: unknown): Promise<void> {
  await q.execute(
    sql`INSERT INTO settings (key, value, updated_at) VALUES (${key}, ${json(value)}, now())
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
  );
}
