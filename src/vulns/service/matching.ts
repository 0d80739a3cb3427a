/**
 * Device ↔ CVE matching against the imported data, with the CveIndex cached in memory.
 *
 * Cache: the index holds every CVE that has configurations (id + configurations only; descriptions, CVSS, KEV
 * and EPSS are read from the table when results are presented, so KEV/EPSS imports never force a rebuild).
 * Each NVD import batch bumps `settings['vulns.index_version']` in its own transaction; before matching, the
 * matcher reads that version (one indexed row) and rebuilds when it changed. Every process (API replicas,
 * workers, the CLI) therefore converges on the same data without any message passing.
 *
 * device_vulnerabilities rules (matchDevice):
 * - each CVE that applies (definitely, or "possible") is upserted with matched_cpe, matched_by
 *   {configurations, criteria, explanation} and the possible flag; status and first_seen of existing rows are
 *   kept, and so is matched_by.user (the note of the last status change);
 * - a row that no longer matches is deleted when its status is `open` (nobody decided anything about it);
 *   a row whose status a user set (mitigated, accepted, false_positive) is kept, so the decision and its audit
 *   trail survive, and marked with matched_by.unmatched_at; if the CVE matches again the mark goes away;
 * - devices.risk_score is recomputed with deviceRisk over the rows whose status is open or accepted (an
 *   accepted risk is still a risk; mitigated and false positives are not) and not unmarked, plus exposure
 *   flags from device_signals kind 'open_port' (23/2323 telnet, 21 FTP as cleartext management, 1900 UPnP);
 * - the device row is locked (SELECT … FOR UPDATE) for the whole change, the same lock status changes take;
 * - after commit, when the rows or the score changed, a `device_update` event {device_id, risk_score} is
 *   published on the 'events' channel.
 * Device CPEs that are malformed or too broad (wildcard vendor/product) are skipped and reported; the others
 * are still matched.
 */
import { sql } from 'drizzle-orm';
import { CpeError } from '../cpe/types.js';
import { CveIndex } from '../match/cve-index.js';
import type { CveMatch, DeviceMatchResult } from '../match/cve-index.js';
import { prepareDevice } from '../match/evaluate.js';
import type { CriterionMatch, PreparedDevice } from '../match/evaluate.js';
import { deviceRisk } from '../risk.js';
import type { ExposureFlags, RiskVuln } from '../risk.js';
import { EVENTS_CHANNEL, makeEvent } from '../../bus/events.js';
import type { Bus } from '../../bus/types.js';
import { AppError } from '../../errors.js';
import type { Db, Tx } from '../../store/db.js';
import { queryRows } from '../../store/db.js';
import { getIndexVersion } from './repository.js';
import { recordForIndex } from './rows.js';

const PAGE = 2000;
const DEVICE_PAGE = 200;

export interface CveDetails {
  cve_id: string;
  severity: string | null;
  cvss: number | null;
  kev: boolean;
  ransomware: boolean;
  epss: number | null;
}

export interface CpeMatchLine {
  cve_id: string;
  severity: string | null;
  cvss: number | null;
  kev: boolean;
  epss: number | null;
  matched: string[];
  possible?: true;
}

export interface DeviceMatchOutcome {
  device_id: number;
  matches: number;
  possible: number;
  removed: number;
  kept_unmatched: number;
  risk_score: number;
  changed: boolean;
  /** Device CPEs that could not be used, with the reason. */
  rejected_cpes: { cpe: string; code: string; message: string }[];
}

export interface MatchAllSummary {
  devices: number;
  changed: number;
  matches: number;
  possible: number;
}

interface Cache {
  version: number;
  index: CveIndex;
  bad: number;
}

/** Parses device CPEs one by one so that one bad name does not hide the others. */
export function prepareLenient(cpes: readonly string[]): {
  prepared: PreparedDevice | null;
  rejected: DeviceMatchOutcome['rejected_cpes'];
} {
  const ok: string[] = [];
  const rejected: DeviceMatchOutcome['rejected_cpes'] = [];
  for (const c of cpes) {
    try {
      prepareDevice([c]);
      ok.push(c);
    } catch (e) {
      if (!(e instanceof CpeError)) throw e;
      rejected.push({ cpe: c, code: e.code, message: e.message });
    }
  }
  return { prepared: ok.length > 0 ? prepareDevice(ok) : null, rejected };
}

function rangeText(c: CriterionMatch): string {
  const parts: string[] = [];
  if (c.versionStartIncluding !== undefined) parts.push(`≥ ${c.versionStartIncluding}`);
  if (c.versionStartExcluding !== undefined) parts.push(`> ${c.versionStartExcluding}`);
  if (c.versionEndIncluding !== undefined) parts.push(`≤ ${c.versionEndIncluding}`);
  if (c.versionEndExcluding !== undefined) parts.push(`< ${c.versionEndExcluding}`);
  return parts.length ? ` (versions ${parts.join(', ')})` : '';
}

/** matched_by for one CVE: the configurations, the criteria paths and a readable explanation. */
export function matchedBy(m: CveMatch): Record<string, unknown> {
  const possible = m.applies === 'possible';
  const lines = m.matched.map(
    (c) =>
      `${c.pathString} ${c.criteria}${rangeText(c)}${c.vulnerable ? '' : ' [platform]'} ← ` +
      `${c.deviceCpe ?? '(device has no CPE of this part)'}${c.result === 'possible' && c.reason ? `: possible, ${c.reason}` : ''}`,
  );
  return {
    configurations: m.configurations,
    criteria: m.matched.map((c) => ({
      path: c.pathString,
      criteria: c.criteria,
      match_criteria_id: c.matchCriteriaId,
      vulnerable: c.vulnerable,
      ...(c.versionStartIncluding !== undefined && { version_start_including: c.versionStartIncluding }),
      ...(c.versionStartExcluding !== undefined && { version_start_excluding: c.versionStartExcluding }),
      ...(c.versionEndIncluding !== undefined && { version_end_including: c.versionEndIncluding }),
      ...(c.versionEndExcluding !== undefined && { version_end_excluding: c.versionEndExcluding }),
      device_cpe: c.deviceCpe,
      result: c.result === true ? 'match' : 'possible',
      reason: c.reason,
    })),
    explanation: `${possible ? 'Possible' : 'Definite'} match through configuration${m.configurations.length > 1 ? 's' : ''} ${m.configurations.join(', ')}: ${lines.join('; ')}`,
  };
}

/** The device CPE that satisfied the vulnerable criterion (else any matched one, else the first given). */
function matchedCpe(m: CveMatch, fallback: string): string {
  return (
    m.matched.find((c) => c.vulnerable && c.deviceCpe !== null)?.deviceCpe ??
    m.matched.find((c) => c.deviceCpe !== null)?.deviceCpe ??
    fallback
  );
}

/** Exposure flags from `open_port` signals ('23', '23/tcp', 'tcp/23'). */
export function exposureFromPorts(values: readonly string[]): ExposureFlags {
  const ports = new Set<number>();
  for (const v of values) {
    const m = /(\d{1,5})/.exec(v);
    if (m?.[1]) ports.add(Number(m[1]));
  }
  return {
    ...(ports.has(23) || ports.has(2323) ? { telnet: true } : {}),
    ...(ports.has(21) ? { cleartextManagement: true } : {}),
    ...(ports.has(1900) ? { upnp: true } : {}),
  };
}

async function cveDetails(q: Db | Tx, ids: readonly string[]): Promise<Map<string, CveDetails>> {
  const out = new Map<string, CveDetails>();
  for (let i = 0; i < ids.length; i += 1000) {
    const part = ids.slice(i, i + 1000);
    const rows = await queryRows<{
      cve_id: string;
      severity: string | null;
      cvss: number | null;
      kev: boolean;
      kev_ransomware: string | null;
      epss: number | null;
    }>(
      q,
      sql`SELECT cve_id, severity, COALESCE(cvss_v31_score, cvss_v2_score)::numeric(3,1)::float8 AS cvss, kev,
                 kev_ransomware, epss
          FROM vulnerabilities WHERE cve_id IN ${part}`,
    );
    for (const r of rows) {
      out.set(r.cve_id, {
        cve_id: r.cve_id,
        severity: r.severity,
        cvss: r.cvss === null ? null : Number(r.cvss),
        kev: r.kev,
        ransomware: r.kev_ransomware === 'Known',
        epss: r.epss === null ? null : Number(r.epss),
      });
    }
  }
  return out;
}

export class VulnMatcher {
  private cache: Cache | null = null;
  private building: { version: number; promise: Promise<Cache> } | null = null;

  constructor(
    private readonly db: Db,
    private readonly bus: Bus | null = null,
  ) {}

  /** The index for the current data (rebuilt when the version in settings moved). */
  async index(): Promise<CveIndex> {
    const version = await getIndexVersion(this.db);
    if (this.cache && this.cache.version === version) return this.cache.index;
    if (this.building && this.building.version === version) return (await this.building.promise).index;
    const promise = this.build(version);
    this.building = { version, promise };
    try {
      const c = await promise;
      if (!this.cache || this.cache.version <= c.version) this.cache = c;
      return c.index;
    } finally {
      if (this.building?.promise === promise) this.building = null;
    }
  }

  /** Stats of the cached index (null before the first use). */
  get stats(): { version: number; cves: number; criteria: number; bad: number } | null {
    return this.cache
      ? {
          version: this.cache.version,
          cves: this.cache.index.size,
          criteria: this.cache.index.criteria,
          bad: this.cache.bad,
        }
      : null;
  }

  private async build(version: number): Promise<Cache> {
    // The version is read before the data: a concurrent import makes the next call rebuild again.
    const index = new CveIndex();
    let bad = 0;
    let after = '';
    for (;;) {
      const rows = await queryRows<{ cve_id: string; configurations: unknown }>(
        this.db,
        sql`SELECT cve_id, configurations FROM vulnerabilities
            WHERE cve_id > ${after} AND jsonb_array_length(configurations) > 0
            ORDER BY cve_id LIMIT ${PAGE}`,
      );
      for (const r of rows) {
        try {
          index.add(recordForIndex(r));
        } catch (e) {
          if (!(e instanceof CpeError)) throw e;
          bad++;
        }
      }
      const last = rows[rows.length - 1];
      if (!last || rows.length < PAGE) break;
      after = last.cve_id;
    }
    return { version, index, bad };
  }

  /**
   * Matches CPE names describing one device against the imported data (`iotsec vulns match`). Throws
   * CpeError (CPE_INVALID / CPE_TOO_BROAD) for a bad name.
   */
  async matchCpes(cpes: readonly string[], opts: { possible?: boolean } = {}): Promise<CpeMatchLine[]> {
    const prepared = prepareDevice(cpes);
    const index = await this.index();
    const r = index.match(prepared);
    const list = opts.possible ? [...r.matches, ...r.possible] : r.matches;
    const details = await cveDetails(
      this.db,
      list.map((m) => m.cveId),
    );
    const line = (m: CveMatch): CpeMatchLine => {
      const d = details.get(m.cveId);
      return {
        cve_id: m.cveId,
        severity: d?.severity ?? null,
        cvss: d?.cvss ?? null,
        kev: d?.kev ?? false,
        epss: d?.epss ?? null,
        matched: [...new Set(m.matched.map((c) => c.criteria))],
        ...(m.applies === 'possible' ? { possible: true as const } : {}),
      };
    };
    return list.map(line);
  }

  /** Matches one device and updates its device_vulnerabilities rows and risk score. */
  async matchDevice(deviceId: number): Promise<DeviceMatchOutcome> {
    const index = await this.index();
    const outcome = await this.db.transaction(async (tx) => {
      const dev = (
        await queryRows<{ id: number; cpe23: string[] | null; risk_score: number }>(
          tx,
          sql`SELECT id, cpe23, risk_score::float8 AS risk_score FROM devices WHERE id = ${deviceId} FOR UPDATE`,
        )
      )[0];
      if (!dev) throw new AppError('DEVICE_NOT_FOUND', `No device with id ${deviceId}.`);
      const cpes = dev.cpe23 ?? [];
      const { prepared, rejected } = prepareLenient(cpes);
      const result: DeviceMatchResult = prepared
        ? index.match(prepared)
        : { matches: [], possible: [], candidates: 0 };
      const found = [...result.matches, ...result.possible];
      const existing = await queryRows<{
        cve_id: string;
        status: string;
        possible: boolean;
        matched_by: unknown;
      }>(
        tx,
        sql`SELECT cve_id, status, possible, matched_by FROM device_vulnerabilities WHERE device_id = ${deviceId}`,
      );
      const before = new Map(existing.map((e) => [e.cve_id, e]));
      let changed = false;
      for (let i = 0; i < found.length; i += 500) {
        const part = found.slice(i, i + 500);
        const values = sql.join(
          part.map((m) => {
            const possible = m.applies === 'possible';
            const prev = before.get(m.cveId);
            if (!prev || prev.possible !== possible || isUnmatched(prev.matched_by)) changed = true;
            return sql`(${deviceId}::int8, ${m.cveId}, ${matchedCpe(m, cpes[0] ?? '')},
                        ${JSON.stringify(matchedBy(m))}::jsonb, ${possible}, now(), now())`;
          }),
          sql`, `,
        );
        await tx.execute(sql`
          INSERT INTO device_vulnerabilities AS dv (device_id, cve_id, matched_cpe, matched_by, possible, first_seen, updated_at)
          VALUES ${values}
          ON CONFLICT (device_id, cve_id) DO UPDATE SET
            matched_cpe = EXCLUDED.matched_cpe,
            matched_by = CASE WHEN dv.matched_by ? 'user'
                              THEN EXCLUDED.matched_by || jsonb_build_object('user', dv.matched_by->'user')
                              ELSE EXCLUDED.matched_by END,
            possible = EXCLUDED.possible,
            updated_at = CASE WHEN dv.possible IS DISTINCT FROM EXCLUDED.possible OR dv.matched_by ? 'unmatched_at'
                              THEN now() ELSE dv.updated_at END`);
      }
      const foundIds = new Set(found.map((m) => m.cveId));
      const gone = existing.filter((e) => !foundIds.has(e.cve_id));
      const remove = gone.filter((e) => e.status === 'open').map((e) => e.cve_id);
      const mark = gone.filter((e) => e.status !== 'open' && !isUnmatched(e.matched_by)).map((e) => e.cve_id);
      if (remove.length > 0) {
        changed = true;
        for (let i = 0; i < remove.length; i += 1000) {
          await tx.execute(
            sql`DELETE FROM device_vulnerabilities WHERE device_id = ${deviceId} AND cve_id IN ${remove.slice(i, i + 1000)}`,
          );
        }
      }
      if (mark.length > 0) {
        changed = true;
        for (let i = 0; i < mark.length; i += 1000) {
          await tx.execute(
            sql`UPDATE device_vulnerabilities
                SET matched_by = matched_by || jsonb_build_object('unmatched_at', now()), updated_at = now()
                WHERE device_id = ${deviceId} AND cve_id IN ${mark.slice(i, i + 1000)}`,
          );
        }
      }
      const risk = await recomputeRisk(tx, deviceId);
      if (risk !== Math.round(dev.risk_score)) changed = true;
      return {
        device_id: deviceId,
        matches: result.matches.length,
        possible: result.possible.length,
        removed: remove.length,
        kept_unmatched: gone.length - remove.length,
        risk_score: risk,
        changed,
        rejected_cpes: rejected,
      };
    });
    if (outcome.changed) await this.publishUpdate(deviceId, outcome.risk_score);
    return outcome;
  }

  async publishUpdate(deviceId: number, riskScore: number): Promise<void> {
    if (!this.bus) return;
    await this.bus.publish(
      EVENTS_CHANNEL,
      makeEvent('device_update', { device_id: deviceId, risk_score: riskScore }),
    );
  }

  /**
   * Re-matches every device that has CPE names or vulnerability rows, a page of devices at a time (memory:
   * one page plus the index).
   */
  async matchAllDevices(
    progress?: (p: { done: number; total: number }) => void | Promise<void>,
  ): Promise<MatchAllSummary> {
    await this.index();
    const scope = sql`merged_into IS NULL AND (cardinality(cpe23) > 0
                      OR EXISTS (SELECT 1 FROM device_vulnerabilities dv WHERE dv.device_id = devices.id))`;
    const total = Number(
      (
        await queryRows<{ n: number }>(this.db, sql`SELECT count(*)::int8 AS n FROM devices WHERE ${scope}`)
      )[0]?.n ?? 0,
    );
    const summary: MatchAllSummary = { devices: 0, changed: 0, matches: 0, possible: 0 };
    let after = 0;
    for (;;) {
      const ids = await queryRows<{ id: number }>(
        this.db,
        sql`SELECT id FROM devices WHERE id > ${after} AND ${scope} ORDER BY id LIMIT ${DEVICE_PAGE}`,
      );
      for (const { id } of ids) {
        let o: DeviceMatchOutcome;
        try {
          o = await this.matchDevice(Number(id));
        } catch (e) {
          if (e instanceof AppError && e.code === 'DEVICE_NOT_FOUND') continue; // deleted or merged meanwhile
          throw e;
        }
        summary.devices++;
        if (o.changed) summary.changed++;
        summary.matches += o.matches;
        summary.possible += o.possible;
      }
      await progress?.({ done: summary.devices, total });
      const last = ids[ids.length - 1];
      if (!last || ids.length < DEVICE_PAGE) break;
      after = Number(last.id);
    }
    return summary;
  }
}

function isUnmatched(matchedBy: unknown): boolean {
  return typeof matchedBy === 'object' && matchedBy !== null && 'unmatched_at' in matchedBy;
}

/** One matcher per database and bus (matcherFor). */
const shared = new WeakMap<Db, { bus: Bus | null; matcher: VulnMatcher }[]>();

/**
 * The process's matcher for this database and bus: its CVE index is built once and again only when the
 * imported data changes. A matcher made per call builds the index from the whole catalog every time
 * (identification re-matched each device of a batch that way: a catalog read per device).
 */
export function matcherFor(db: Db, bus: Bus | null): VulnMatcher {
  let list = shared.get(db);
  if (!list) shared.set(db, (list = []));
  let entry = list.find((e) => e.bus === bus);
  if (!entry) list.push((entry = { bus, matcher: new VulnMatcher(db, bus) }));
  return entry.matcher;
}

/** Recomputes and stores devices.risk_score (inside the caller's transaction). Returns the score. */
export async function recomputeRisk(tx: Tx, deviceId: number): Promise<number> {
  const rows = await queryRows<{
    cvss: number | null;
    kev: boolean;
    kev_ransomware: string | null;
    epss: number | null;
    possible: boolean;
  }>(
    tx,
    sql`SELECT COALESCE(v.cvss_v31_score, v.cvss_v2_score)::float8 AS cvss, v.kev, v.kev_ransomware,
               v.epss, dv.possible
        FROM device_vulnerabilities dv JOIN vulnerabilities v ON v.cve_id = dv.cve_id
        WHERE dv.device_id = ${deviceId} AND dv.status IN ('open', 'accepted')
          AND NOT (dv.matched_by ? 'unmatched_at')`,
  );
  const ports = await queryRows<{ value: string }>(
    tx,
    sql`SELECT value FROM device_signals WHERE device_id = ${deviceId} AND kind = 'open_port'`,
  );
  const vulns: RiskVuln[] = rows.map((r) => ({
    cvss: r.cvss === null ? null : Number(r.cvss),
    kev: r.kev,
    ransomware: r.kev_ransomware === 'Known',
    epss: r.epss === null ? null : Number(r.epss),
    possible: r.possible,
  }));
  const { score } = deviceRisk(vulns, exposureFromPorts(ports.map((p) => p.value)));
  await tx.execute(sql`UPDATE devices SET risk_score = ${score} WHERE id = ${deviceId}`);
  return score;
}
