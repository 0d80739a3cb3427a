/**
 * Device identification against the database:
 * - `afterIngestBatch` runs after every committed ingest batch (src/ingest/file-ingest.ts): randomized-MAC
 *   identity resolution (./identity.ts), `oui` and `open_port` signals, re-identification of the devices
 *   the batch told something new about, and one `new_device` alert per real device. It returns the devices
 *   that are really new, whose `new_device` events the caller publishes.
 * - `identifyDevices` applies rules + model (./identify.ts) to stored devices: device_type, type_source,
 *   confidence, evidence, vendor/model/os and CPEs, never touching a field listed in user_fields, and
 *   announces changes as `device_update` events after commit. New CPEs trigger vulnerability matching.
 */
import { sql } from 'drizzle-orm';
import { AuditLog } from '../audit/audit-log.js';
import { EVENTS_CHANNEL, makeEvent } from '../bus/events.js';
import type { Bus } from '../bus/types.js';
import type { NewDevice, WriteResult } from '../ingest/writer.js';
import { ModelRegistry } from '../ml/registry/registry.js';
import type { SourceItem } from '../sources/types.js';
import { queryRows, type Store } from '../store/db.js';
import { inferCpes } from './cpe.js';
import { loadProfiles, type DeviceRow } from './db-profile.js';
import { decide, DEFAULT_MIN_CONFIDENCE, type Evidence } from './identify.js';
import { resolveRandomizedMacs } from './identity.js';
import { isLocalIp } from './ip.js';
import { isMulticastMac, vendorOf } from './mac.js';
import { loadDeviceTypeModel } from './model-store.js';
import { predictDeviceTypes, type DeviceTypeModel } from './model.js';
import { isEstablished, openPortValue } from './profile.js';
import { loadUserRules } from './rules-store.js';
import { upnpDescription } from './upnp.js';
import { microsToIsoMs } from '../store/timestamps.js';

export interface IdentificationSettings {
  dataDir: string;
  minConfidence: number;
  /** Use the production device-type model (default true). */
  useModel: boolean;
}

const settings: IdentificationSettings = {
  dataDir: process.env.DATA_DIR ?? './data',
  minConfidence: DEFAULT_MIN_CONFIDENCE,
  useModel: true,
};

/** Set once per process (the runtime passes its config's DATA_DIR; tests their temporary one). */
export function configureIdentification(s: Partial<IdentificationSettings>): void {
  Object.assign(settings, s);
  modelCache = null;
}

let modelCache: { key: string; at: number; model: Promise<DeviceTypeModel | null> } | null = null;
const MODEL_RECHECK_MS = 30_000;

async function productionModel(store: Store): Promise<DeviceTypeModel | null> {
  if (!settings.useModel) return null;
  const [row] = await queryRows<{ id: string }>(
    store.db,
    sql`SELECT id::text AS id FROM ml_models WHERE task = 'device_type' AND status = 'production' ORDER BY version DESC LIMIT 1`,
  );
  if (!row) return null;
  const key = `${settings.dataDir}:${row.id}`;
  if (!modelCache || modelCache.key !== key || Date.now() - modelCache.at > 10 * MODEL_RECHECK_MS) {
    const registry = new ModelRegistry({
      db: store.db,
      audit: new AuditLog(store.db),
      dataDir: settings.dataDir,
    });
    const model = loadDeviceTypeModel(registry, row.id).catch(() => null);
    modelCache = { key, at: Date.now(), model };
  }
  return modelCache.model;
}

/** The vulnerability hook: issue 5's identification hands new CPEs to vulnerability matching. */
export async function matchDeviceVulnerabilities(
  store: Store,
  bus: Bus | null,
  deviceId: number,
): Promise<void> {
  const { matcherFor } = await import('../vulns/service/matching.js');
  await matcherFor(store.db, bus).matchDevice(deviceId);
}

interface StoredDevice extends DeviceRow {
  device_type: string;
  type_source: string;
  confidence: number;
  model: string | null;
  os: string | null;
  firmware: string | null;
  cpe23: string[];
  user_fields: string[];
}

export interface IdentifyResult {
  changed: number[];
}

/** Re-identifies the given devices from their stored signals and flows. */
export async function identifyDevices(
  deps: { store: Store; bus: Bus | null },
  ids: readonly number[],
  opts: { model?: DeviceTypeModel | null } = {},
): Promise<IdentifyResult> {
  if (ids.length === 0) return { changed: [] };
  const { store } = deps;
  const rows = await queryRows<StoredDevice>(
    store.db,
    sql`SELECT id::int8 AS id, mac, host(primary_ip) AS primary_ip, vendor, device_type, type_source, confidence::float8 AS confidence,
          model, os, firmware, cpe23, user_fields
        FROM devices WHERE id = ANY(${sql.param([...ids])}::int8[])`,
  );
  const devices = rows.map((r) => ({ ...r, id: Number(r.id) }));
  const profiles = await loadProfiles(store.db, devices);
  const model = opts.model !== undefined ? opts.model : await productionModel(store);
  const userRules = await loadUserRules(store.db);
  const list = devices.map((d) => profiles.get(d.id)).filter((p) => p !== undefined);
  const preds = model ? predictDeviceTypes(model, list) : [];
  const changed: number[] = [];
  const cpeChanged: number[] = [];
  const updates: Record<string, unknown>[] = [];
  for (let i = 0; i < devices.length; i++) {
    const d = devices[i] as StoredDevice;
    const p = profiles.get(d.id);
    if (!p) continue;
    const pred = preds[i];
    const id = decide(p, {
      userRules,
      model: model && pred ? { modelId: model.id, version: model.version, prediction: pred } : null,
      minConfidence: settings.minConfidence,
    });
    const user = new Set(d.user_fields);
    const evidence: Evidence[] = id.evidence;
    const upnp = upnpDescription(p.signals);
    if (upnp.text) evidence.push({ source: 'rule', ref: 'upnp', text: upnp.text, confidence: 1, used: true });
    const next = {
      device_type: user.has('device_type') ? d.device_type : id.deviceType,
      type_source: user.has('device_type') ? d.type_source : id.typeSource,
      confidence: user.has('device_type') ? d.confidence : id.confidence,
      vendor: user.has('vendor') ? d.vendor : (id.vendor ?? upnp.manufacturer ?? d.vendor),
      model: user.has('model') ? d.model : (id.model ?? upnp.model ?? d.model),
      os: user.has('os') ? d.os : (id.os ?? d.os),
      firmware: user.has('firmware') ? d.firmware : (upnp.firmware ?? d.firmware),
    };
    const cpes = user.has('cpe23')
      ? d.cpe23
      : inferCpes({
          vendor: next.vendor,
          model: next.model,
          firmware: next.firmware,
          signals: p.signals,
        }).map((c) => {
          evidence.push({
            source: 'rule',
            ref: 'cpe',
            text: `CPE ${c.cpe} from ${c.evidence}`,
            confidence: 1,
            used: true,
          });
          return c.cpe;
        });
    const differs =
      next.device_type !== d.device_type ||
      next.type_source !== d.type_source ||
      Math.abs(next.confidence - d.confidence) > 0.005 ||
      next.vendor !== d.vendor ||
      next.model !== d.model ||
      next.os !== d.os ||
      next.firmware !== d.firmware ||
      cpes.join('\n') !== d.cpe23.join('\n');
    updates.push({ id: d.id, ...next, cpe23: cpes, evidence, differs });
    if (differs) changed.push(d.id);
    if (cpes.join('\n') !== d.cpe23.join('\n')) cpeChanged.push(d.id);
  }
  // One statement for all (one per device took seconds when a first batch brought hundreds).
  if (updates.length > 0)
    await store.db.execute(sql`
      UPDATE devices d SET device_type = v.device_type, type_source = v.type_source,
        confidence = v.confidence, vendor = v.vendor, model = v.model, os = v.os, firmware = v.firmware,
        cpe23 = ARRAY(SELECT jsonb_array_elements_text(v.cpe23)), evidence = v.evidence,
        updated_at = CASE WHEN v.differs THEN now() ELSE d.updated_at END
      FROM jsonb_to_recordset(${JSON.stringify(updates)}::jsonb) AS v(id int8, device_type text,
        type_source text, confidence float8, vendor text, model text, os text, firmware text, cpe23 jsonb,
        evidence jsonb, differs boolean)
      WHERE d.id = v.id`);
  if (deps.bus) {
    for (const id of changed) {
      const d = devices.find((x) => x.id === id);
      await deps.bus.publish(
        EVENTS_CHANNEL,
        makeEvent('device_update', { device_id: id, mac: d?.mac ?? null, reason: 'identified' }),
      );
    }
  }
  for (const id of cpeChanged) {
    try {
      await matchDeviceVulnerabilities(store, deps.bus, id);
    } catch {
      // Vulnerability data may be absent; identification stands on its own.
    }
  }
  return { changed };
}

/** Inserts the one `new_device` alert of each device (deduplicated by `new_device:<id>`). */
export async function raiseNewDeviceAlerts(store: Store, devices: readonly NewDevice[]): Promise<void> {
  if (devices.length === 0) return;
  const rows = devices.map((d) => ({
    id: d.id,
    title: `New device ${d.mac ?? d.ip ?? d.id}${d.mac ? ` (${vendorOf(d.mac) ?? 'unknown vendor'})` : ''}`,
    evidence: { mac: d.mac, ip: d.ip },
    key: `new_device:${d.id}`,
  }));
  await store.db.execute(sql`
    INSERT INTO alerts (device_id, kind, severity, title, evidence, dedup_key, first_seen, last_seen)
    SELECT v.id, 'new_device', 'info', v.title, v.evidence, v.key, now(), now()
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS v(id int8, title text, evidence jsonb, key text)
     WHERE NOT EXISTS (SELECT 1 FROM alerts WHERE dedup_key = v.key)`);
}

/** Distinct signals per device at its last identification (this process): unchanged → not re-identified. */
const signalCountsByStore = new WeakMap<Store, Map<number, number>>();

const usable = (m: string | null): m is string => !!m && m !== '00:00:00:00:00:00' && !isMulticastMac(m);

/**
 * After an ingest batch committed. Returns the devices that are really new (the caller announces them).
 */
export async function afterIngestBatch(
  deps: { store: Store; bus: Bus },
  items: readonly SourceItem[],
  res: Pick<WriteResult, 'newDevices'>,
): Promise<NewDevice[]> {
  const { store, bus } = deps;
  const { kept, merges } = await resolveRandomizedMacs(store, res.newDevices);
  // Open services (the device answered an established TCP connection) and OUI vendors, as signals.
  const macs = new Set<string>();
  const ports: { mac: string; value: string; ts: number }[] = [];
  // Indexed: once per batch over every item, too rarely to be optimised (an iterator step object each).
  for (let i = 0; i < items.length; i++) {
    const it = items[i] as SourceItem;
    if (it.kind === 'observation') {
      if (usable(it.observation.mac)) macs.add(it.observation.mac);
    } else if (it.kind === 'flow') {
      const f = it.flow;
      if (
        f.proto === 6 &&
        f.dstPort !== null &&
        isEstablished(f.connState) &&
        usable(f.dstMac) &&
        isLocalIp(f.dstIp)
      ) {
        ports.push({ mac: f.dstMac, value: openPortValue(6, f.dstPort), ts: f.tsEnd });
        macs.add(f.dstMac);
      }
    }
  }
  for (const d of kept) if (d.mac) macs.add(d.mac);
  for (const m of merges) macs.add(m.mac);
  const ids =
    macs.size > 0
      ? await queryRows<{ id: number; mac: string }>(
          store.db,
          sql`SELECT id::int8 AS id, mac FROM devices WHERE mac = ANY(${sql.param([...macs])}::text[])`,
        )
      : [];
  const idOf = new Map(ids.map((r) => [r.mac, Number(r.id)]));
  const sig = new Map<string, { id: number; kind: string; value: string; ts: number; count: number }>();
  for (const p of ports) {
    const id = idOf.get(p.mac);
    if (id === undefined) continue;
    const key = `${id}|open_port|${p.value}`;
    const s = sig.get(key);
    if (s) {
      s.count++;
      s.ts = Math.max(s.ts, p.ts);
    } else sig.set(key, { id, kind: 'open_port', value: p.value, ts: p.ts, count: 1 });
  }
  for (const d of kept) {
    const v = d.mac ? vendorOf(d.mac) : null;
    const id = d.mac ? idOf.get(d.mac) : undefined;
    if (v && id !== undefined)
      sig.set(`${id}|oui|${v}`, { id, kind: 'oui', value: v, ts: Date.now() * 1000, count: 1 });
  }
  if (sig.size > 0) {
    const list = [...sig.values()];
    await store.db.execute(sql`
      INSERT INTO device_signals (device_id, kind, value, first_seen, last_seen, count)
      SELECT v.d, v.k, v.v, v.t, v.t, v.c FROM unnest(${sql.param(list.map((s) => s.id))}::int8[],
        ${sql.param(list.map((s) => s.kind))}::text[], ${sql.param(list.map((s) => s.value))}::text[],
        ${sql.param(list.map((s) => microsToIsoMs(s.ts)))}::timestamptz[],
        ${sql.param(list.map((s) => s.count))}::int8[]) AS v(d, k, v, t, c)
      WHERE EXISTS (SELECT 1 FROM devices WHERE id = v.d)
      ON CONFLICT (device_id, kind, value) DO UPDATE SET
        last_seen = GREATEST(device_signals.last_seen, EXCLUDED.last_seen),
        count = device_signals.count + EXCLUDED.count`);
  }
  // Re-identify the devices that are new, merged, or whose set of distinct signals grew.
  const must = new Set<number>(merges.map((m) => m.into));
  for (const d of kept) must.add(d.id);
  const candidates = [...new Set([...idOf.values(), ...must])];
  const counts =
    candidates.length > 0
      ? await queryRows<{ id: number; n: number }>(
          store.db,
          sql`SELECT device_id::int8 AS id, count(*)::int8 AS n FROM device_signals
              WHERE device_id = ANY(${sql.param(candidates)}::int8[]) GROUP BY device_id`,
        )
      : [];
  let signalCounts = signalCountsByStore.get(store);
  if (!signalCounts) signalCountsByStore.set(store, (signalCounts = new Map()));
  const touched: number[] = [];
  for (const c of counts) {
    const id = Number(c.id);
    const n = Number(c.n);
    if (must.has(id) || signalCounts.get(id) !== n) touched.push(id);
    signalCounts.set(id, n);
  }
  if (signalCounts.size > 200_000) signalCounts.clear();
  await identifyDevices({ store, bus }, touched.slice(0, 2000));
  for (const m of merges) {
    await bus.publish(
      EVENTS_CHANNEL,
      makeEvent('device_update', {
        device_id: m.into,
        mac: m.mac,
        reason: 'mac_rotation',
        merged_from: m.from,
        via: m.via,
      }),
    );
  }
  await raiseNewDeviceAlerts(store, kept);
  return kept;
}
