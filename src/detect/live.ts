/**
 * Detection on the ingest path: called after each committed batch (file ingest, stream sink) with the
 * batch's items. One engine per source (so an imported capture is judged on its own flow time, exactly like
 * `iotsec detect`), findings mapped to devices (by MAC, else by the device address) and raised through the
 * alert service. Never throws: a failure is logged and counted, and the ingest goes on.
 */
import { sql } from 'drizzle-orm';
import type { Services } from '../api/context.js';
import { raiseAlerts, type AlertCandidate } from '../alerts/service.js';
import type { IngestFlow } from '../sources/types.js';
import { queryRows, type Store } from '../store/db.js';
import type { KevExposure } from './detectors/exposure.js';
import { DetectionEngine, type EngineOptions } from './engine.js';
import type { Finding } from './types.js';
import { evictOldest, FLOWS_PER_TURN, nextTurn } from './util.js';

type Deps = Pick<Services, 'store' | 'bus'>;

interface Log {
  warn(obj: unknown, msg?: string): void;
}

const MAX_ENGINES = 256;
const KEV_REFRESH_MS = 5 * 60_000;

interface PerStore {
  engines: Map<string, DetectionEngine>;
  kev: Map<string, KevExposure>;
  kevAt: number;
  kevLoading: Promise<void> | null;
}

const perStore = new WeakMap<Store, PerStore>();
/** Process-wide counters (for /metrics and tests). */
export const detectionStats = { batches: 0, flows: 0, findings: 0, alerts: 0, suppressed: 0, failures: 0 };
let engineOptions: EngineOptions = {};

/** Options for engines created from now on (tests). */
export function setLiveEngineOptions(o: EngineOptions): void {
  engineOptions = o;
}

function stateOf(store: Store): PerStore {
  let s = perStore.get(store);
  if (!s) perStore.set(store, (s = { engines: new Map(), kev: new Map(), kevAt: 0, kevLoading: null }));
  return s;
}

async function refreshKev(store: Store, s: PerStore): Promise<void> {
  if (Date.now() - s.kevAt < KEV_REFRESH_MS) return;
  s.kevLoading ??= (async () => {
    try {
      const rows = await queryRows<{ ip: string; device_id: number | string; cves: string[] }>(
        store.db,
        sql`SELECT host(da.ip) AS ip, dv.device_id, array_agg(DISTINCT dv.cve_id) AS cves
              FROM device_vulnerabilities dv
              JOIN vulnerabilities v ON v.cve_id = dv.cve_id AND v.kev
              JOIN device_addresses da ON da.device_id = dv.device_id
             WHERE dv.status = 'open' AND NOT dv.possible
             GROUP BY da.ip, dv.device_id`,
      );
      s.kev = new Map(rows.map((r) => [r.ip, { deviceId: Number(r.device_id), cves: r.cves }]));
      s.kevAt = Date.now();
    } finally {
      s.kevLoading = null;
    }
  })();
  await s.kevLoading;
}

function engineFor(s: PerStore, sourceId: string, log?: Log): DetectionEngine {
  let e = s.engines.get(sourceId);
  if (e) {
    s.engines.delete(sourceId); // LRU order
    s.engines.set(sourceId, e);
    return e;
  }
  if (s.engines.size >= MAX_ENGINES) evictOldest(s.engines, 1);
  e = new DetectionEngine({
    ...engineOptions,
    kev: (ip) => s.kev.get(ip),
    onError: (detector, err) => log?.warn({ err, detector }, 'detector failed on a flow; skipped'),
  });
  s.engines.set(sourceId, e);
  return e;
}

/**
 * Runs detection over a committed batch's flows, in flow-time order (inFlowTimeOrder), and raises the
 * alerts. Returns the number of findings.
 */
export async function detectAfterCommit(
  services: Deps,
  flows: readonly IngestFlow[],
  ctx: { sourceId: string; log?: Log },
): Promise<number> {
  try {
    if (flows.length === 0) return 0;
    const s = stateOf(services.store);
    await refreshKev(services.store, s).catch((err: unknown) =>
      ctx.log?.warn({ err }, 'KEV exposure lookup failed'),
    );
    const engine = engineFor(s, ctx.sourceId, ctx.log);
    // In parts, a turn of the event loop between them: a write going on beside (its database replies)
    // is not held up for the whole batch.
    const findings: Finding[] = [];
    for (let i = 0; i < flows.length; i += FLOWS_PER_TURN) {
      if (i > 0) await nextTurn();
      engine.processInOrder(flows, i, Math.min(flows.length, i + FLOWS_PER_TURN), findings);
    }
    detectionStats.batches++;
    detectionStats.flows += flows.length;
    detectionStats.findings += findings.length;
    if (findings.length === 0) return 0;
    const ids = await resolveDevices(services.store, findings);
    for (const r of await raiseAlerts(
      services,
      findings.map((f) => candidateOf(f, ids, ctx.sourceId)),
    )) {
      if (r.outcome === 'suppressed') detectionStats.suppressed++;
      else detectionStats.alerts++;
    }
    return findings.length;
  } catch (err) {
    detectionStats.failures++;
    ctx.log?.warn({ err, source_id: ctx.sourceId }, 'detection failed for a batch; ingest goes on');
    return 0;
  }
}

export function candidateOf(
  f: Finding,
  deviceIds: Map<string, number>,
  sourceId: string | null,
): AlertCandidate {
  const deviceId = f.device
    ? (deviceIds.get(`mac:${f.device.mac ?? ''}`) ?? deviceIds.get(`ip:${f.device.ip}`) ?? null)
    : null;
  return {
    deviceId,
    kind: f.kind,
    severity: f.severity,
    title: f.title,
    description: f.description,
    peer: f.peer,
    evidence: {
      ...f.evidence,
      detector: f.detector,
      threat: f.threat,
      confidence: Math.round(f.confidence * 1000) / 1000,
      device_ip: f.device?.ip ?? null,
    },
    firstSeen: new Date(Math.floor(f.firstUs / 1000)),
    lastSeen: new Date(Math.ceil(f.lastUs / 1000)),
    sourceId,
    // Without a device row, the device's IP keeps different devices' alerts apart.
    ...(deviceId === null && f.device ? { dedupKey: `ip:${f.device.ip}|${f.kind}|${f.peer ?? '-'}` } : {}),
  };
}

/** Device ids of the findings' devices: by MAC when known, else the device that last had the IP. */
async function resolveDevices(store: Store, findings: readonly Finding[]): Promise<Map<string, number>> {
  const macs = new Set<string>();
  const ips = new Set<string>();
  for (const f of findings) {
    if (!f.device) continue;
    if (f.device.mac) macs.add(f.device.mac);
    ips.add(f.device.ip);
  }
  const out = new Map<string, number>();
  if (macs.size) {
    const rows = await queryRows<{ id: number | string; mac: string }>(
      store.db,
      sql`SELECT id, mac FROM devices WHERE mac = ANY(${sql.param([...macs])}::text[]) AND merged_into IS NULL`,
    );
    for (const r of rows) out.set(`mac:${r.mac}`, Number(r.id));
  }
  if (ips.size) {
    const rows = await queryRows<{ ip: string; device_id: number | string }>(
      store.db,
      sql`SELECT DISTINCT ON (da.ip) host(da.ip) AS ip, da.device_id
            FROM device_addresses da JOIN devices d ON d.id = da.device_id AND d.merged_into IS NULL
           WHERE da.ip = ANY(${sql.param([...ips])}::inet[])
           ORDER BY da.ip, da.last_seen DESC`,
    );
    for (const r of rows) out.set(`ip:${r.ip}`, Number(r.device_id));
  }
  return out;
}
