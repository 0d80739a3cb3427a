/**
 * How CVE records, KEV entries and EPSS scores map onto the `vulnerabilities` table, and back.
 *
 * Column choices (no schema change): `cvss_v31_*` holds the preferred CVSS v3 metric (v3.1, else v3.0),
 * `cvss_v2_*` the v2 metric; `severity` is the lowercase severity of the preferred metric (v3.x, else v2);
 * `configurations` is the normalised Configuration[] the matcher compiles; `references` the reference URLs.
 * NVD timestamps without an offset are UTC.
 */
import type { Configuration, CveRecord, CvssSummary } from '../nvd/types.js';

/** One `vulnerabilities` row as the raw SQL queries of this module return it. */
export interface VulnRow {
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
  kev_date_added: string | Date | null;
  kev_due_date: string | Date | null;
  kev_ransomware: string | null;
  epss: number | null;
  epss_percentile: number | null;
}

/** Parses an NVD timestamp (`2021-09-10T12:00:00.000`, offset optional, UTC when absent). */
export function nvdTime(s: string | null): Date | null {
  if (!s) return null;
  const withZone = /(?:Z|[+-]\d{2}:?\d{2})$/.test(s) ? s : `${s}Z`;
  const d = new Date(withZone);
  return Number.isNaN(d.getTime()) ? null : d;
}

function v3(r: CveRecord): CvssSummary | null {
  return r.cvssV31 ?? r.cvssV30;
}

/** The column values of a CVE record (KEV/EPSS columns excepted, except the record's own cisa* dates). */
export function cveColumns(r: CveRecord) {
  const m3 = v3(r);
  const pref = m3 ?? r.cvssV2;
  return {
    cveId: r.id,
    description: r.description,
    severity: pref?.severity ? pref.severity.toLowerCase() : null,
    cvssV31Score: m3?.baseScore ?? null,
    cvssV31Vector: m3?.vector ?? null,
    cvssV2Score: r.cvssV2?.baseScore ?? null,
    cvssV2Vector: r.cvssV2?.vector ?? null,
    published: nvdTime(r.published),
    modified: nvdTime(r.lastModified),
    kev: r.cisaExploitAdd !== null,
    kevDateAdded: r.cisaExploitAdd,
    kevDueDate: r.cisaActionDue,
    configurations: r.configurations,
    references: r.references,
  };
}

/**
 * A CveRecord rebuilt from a row, carrying only what matching needs (id, configurations, CVSS): the index
 * keeps every CVE with configurations in memory, so descriptions and references stay in the database.
 */
export function recordForIndex(row: {
  cve_id: string;
  configurations: unknown;
  cvss_v31_score?: number | null;
  cvss_v2_score?: number | null;
}): CveRecord {
  const configurations = (Array.isArray(row.configurations) ? row.configurations : []) as Configuration[];
  return {
    id: row.cve_id,
    sourceIdentifier: null,
    published: null,
    lastModified: null,
    vulnStatus: null,
    description: '',
    cvss: null,
    cvssV40: null,
    cvssV31: null,
    cvssV30: null,
    cvssV2: null,
    cwes: [],
    cisaExploitAdd: null,
    cisaActionDue: null,
    configurations,
    references: [],
  };
}

/** The CVSS score used for display, sorting and risk: v3.x, else v2. */
export function cvssScore(row: Pick<VulnRow, 'cvss_v31_score' | 'cvss_v2_score'>): number | null {
  return row.cvss_v31_score ?? row.cvss_v2_score ?? null;
}

/** `date` columns come back as 'YYYY-MM-DD' strings from pg and as Date from PGlite; normalise. */
export function dateOnly(v: string | Date | null): string | null {
  if (v === null) return null;
  if (typeof v === 'string') return v.slice(0, 10);
  return v.toISOString().slice(0, 10);
}

export function isoTime(v: Date | string | null): string | null {
  if (v === null) return null;
  const d = typeof v === 'string' ? new Date(v) : v;
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** kev_ransomware column ('Known' | 'Unknown' | null) as a boolean. */
export function ransomware(v: string | null): boolean | null {
  return v === 'Known' ? true : v === 'Unknown' ? false : null;
}

/** Rounds a float4 read back as float8 (9.800000190734863) to the one decimal CVSS uses. */
export function score1(v: number | null): number | null {
  return v === null ? null : Math.round(v * 10) / 10;
}
