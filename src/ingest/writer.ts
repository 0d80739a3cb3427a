import { sql } from 'drizzle-orm';
import { isDeviceIp, isSpecialIp } from '../devices/ip.js';
import { isLocallyAdministered, isMulticastMac, vendorOf } from '../devices/mac.js';
import type { Observation } from '../flows/observations.js';
import type { IngestFlow, SourceItem } from '../sources/types.js';
import { mergeDevices } from '../store/device-merge.js';
import { queryRows, type Store, type Tx } from '../store/db.js';
import { PartitionManager } from '../store/partitions.js';
import { copyFlows } from '../store/traffic.js';
import { microsToIso, minuteOf } from '../store/timestamps.js';

/**
 * Writes a batch of source items in ONE transaction: devices (upserted by MAC when layer 2 is visible, by
 * local IP otherwise, IP-only devices merged into their MAC device once it shows up), device addresses,
 * flows into the partitioned network_traffic, per-device per-minute rollups, device signals, and the
 * source's checkpoint. A crash before commit leaves nothing; after commit, the checkpoint says exactly what
 * is stored, so the source resumes without loss or duplicates. Writers serialise on an advisory lock so two
 * sources cannot create the same device twice.
 */

export interface NewDevice {
  id: number;
  mac: string | null;
  ip: string | null;
}

export interface WriteResult {
  flows: number;
  /** Observation sightings written (aggregated observations count as their `count`). */
  observations: number;
  newDevices: NewDevice[];
  devicesTouched: number;
}

export interface CheckpointUpdate {
  sourceId: string;
  checkpoint: Record<string, unknown>;
  stats?: Record<string, unknown>;
  status?: string;
  lastError?: string | null;
}

/** What a caller may do while a write is under way. */
export interface WriteHooks {
  /**
   * Called once the batch's flows are handed to the database (the COPY sent: the bulk of the database's
   * work on a batch), while the transaction goes on; the caller's thread is free until the database
   * answers (AnalysisQueue starts the previous batch's analysis then).
   */
  onRowsSent?: () => void;
}

const DEVICE_LOCK = 727_004;
const FLOW_CHUNK = 10_000;
const MAX_SIGNAL_VALUE = 512;

/** One side of a flow or an observation, as a device key: its MAC when seen, else its local IP. */
interface Endpoint {
  mac: string | null;
  ip: string | null;
}

/** MAC usability by text, memoised (bounded: cleared when full, MACs are attacker-controlled). */
const macUsable = new Map<string, boolean>();
const CLASS_CACHE_MAX = 65_536;

const usableMac = (mac: string | null | undefined): mac is string => {
  if (!mac) return false;
  let u = macUsable.get(mac);
  if (u === undefined) {
    u = mac !== '00:00:00:00:00:00' && !isMulticastMac(mac);
    if (macUsable.size >= CLASS_CACHE_MAX) macUsable.clear();
    macUsable.set(mac, u);
  }
  return u;
};

function side(mac: string | null, ip: string): Endpoint | null {
  return isDeviceIp(ip) ? { mac: usableMac(mac) ? mac : null, ip } : null;
}

/**
 * The device ends of a flow: a side is a device when its IP is local (internet peers never are). When
 * neither side is local (a capture from a public network), the originator is the device.
 */
export function flowEndpoints(f: IngestFlow): [Endpoint | null, Endpoint | null] {
  const src = side(f.srcMac, f.srcIp);
  const dst = side(f.dstMac, f.dstIp);
  if (!src && !dst && !isSpecialIp(f.srcIp))
    return [{ mac: usableMac(f.srcMac) ? f.srcMac : null, ip: f.srcIp }, null];
  return [src, dst];
}

function observationEndpoint(o: Observation): Endpoint | null {
  const ip = o.ip && isDeviceIp(o.ip) ? o.ip : null;
  if (usableMac(o.mac)) return { mac: o.mac, ip };
  return ip ? { mac: null, ip } : null;
}

interface Span {
  first: number;
  last: number;
  ip: string | null;
  ipAt: number;
}

function widen(map: Map<string, Span>, key: string, tsUs: number, ip: string | null): void {
  const s = map.get(key);
  if (!s) {
    map.set(key, { first: tsUs, last: tsUs, ip, ipAt: ip ? tsUs : -Infinity });
    return;
  }
  if (tsUs < s.first) s.first = tsUs;
  if (tsUs > s.last) s.last = tsUs;
  if (ip && tsUs >= s.ipAt) {
    s.ip = ip;
    s.ipAt = tsUs;
  }
}

/**
 * How stale a device's stored `last_seen` may get before a batch writes it again. Online status and the UI
 * work in minutes; rewriting thousands of device rows for every batch of a busy network (one new row
 * version each, with its index entries) was the largest cost of sustained ingest.
 */
const LAST_SEEN_SLACK_US = 30_000_000;
const RECENT_CAP = 100_000;

/** What this writer last stored for a MAC device (valid only once its transaction committed). */
interface Written {
  id: number;
  firstUs: number;
  lastUs: number;
  ip: string | null;
}

export class IngestWriter {
  private readonly partitions: PartitionManager;
  /** MAC → the device row as this writer last wrote it. */
  private readonly recent = new Map<string, Written>();
  /** "device id|ip" → the first/last seen this writer last wrote for that address. */
  private readonly recentAddr = new Map<string, { firstUs: number; lastUs: number }>();

  constructor(private readonly store: Store) {
    this.partitions = new PartitionManager(store.db);
  }

  /** Remembers what a committed batch wrote; the maps are bounded (cleared when full). */
  private remember(
    devices: Map<string, Written>,
    addrs: Map<string, { firstUs: number; lastUs: number }>,
  ): void {
    if (this.recent.size + devices.size > RECENT_CAP) this.recent.clear();
    if (this.recentAddr.size + addrs.size > RECENT_CAP) this.recentAddr.clear();
    for (const [mac, w] of devices) this.recent.set(mac, w);
    for (const [k, t] of addrs) this.recentAddr.set(k, t);
  }

  async write(items: SourceItem[], checkpoint?: CheckpointUpdate, hooks?: WriteHooks): Promise<WriteResult> {
    const flows: IngestFlow[] = [];
    const observations: Observation[] = [];
    for (let i = 0; i < items.length; i++) {
      const it = items[i] as SourceItem;
      if (it.kind === 'flow') flows.push(it.flow);
      else if (it.kind === 'observation') observations.push(it.observation);
    }
    if (flows.length > 0) await this.partitions.ensureFor(flows.map((f) => f.tsStart / 1000));
    const written = new Map<string, Written>();
    const writtenAddr = new Map<string, { firstUs: number; lastUs: number }>();
    const out = await this.store.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${DEVICE_LOCK})`);
      const result = await this.writeInTx(
        tx,
        flows,
        observations,
        checkpoint?.sourceId ?? null,
        { devices: written, addrs: writtenAddr },
        hooks,
      );
      if (checkpoint) {
        await tx.execute(sql`
          UPDATE sources SET checkpoint = ${JSON.stringify(checkpoint.checkpoint)}::jsonb,
            stats = COALESCE(${checkpoint.stats ? JSON.stringify(checkpoint.stats) : null}::jsonb, stats),
            status = COALESCE(${checkpoint.status ?? null}, status),
            last_error = ${checkpoint.lastError ?? null},
            updated_at = now()
          WHERE id = ${checkpoint.sourceId}`);
      }
      return result;
    });
    this.remember(written, writtenAddr);
    return out;
  }

  private async writeInTx(
    tx: Tx,
    flows: IngestFlow[],
    observations: Observation[],
    sourceId: string | null,
    written: {
      devices: Map<string, Written>;
      addrs: Map<string, { firstUs: number; lastUs: number }>;
    },
    hooks: WriteHooks | undefined,
  ): Promise<WriteResult> {
    // 1. Which devices does the batch touch?
    const byMac = new Map<string, Span>();
    const byIp = new Map<string, Span>();
    const note = (e: Endpoint | null, tsUs: number) => {
      if (!e) return;
      if (e.mac) widen(byMac, e.mac, tsUs, e.ip);
      else if (e.ip) widen(byIp, e.ip, tsUs, e.ip);
    };
    const flowEnds = flows.map((f) => {
      const ends = flowEndpoints(f);
      note(ends[0], f.tsEnd);
      note(ends[1], f.tsEnd);
      return ends;
    });
    let sightings = 0;
    const obsEnds = observations.map((o) => {
      const e = observationEndpoint(o);
      // An aggregated observation (count > 1) stands for sightings from firstMicros to tsMicros.
      const first = o.firstMicros ?? o.tsMicros;
      if (first !== o.tsMicros) note(e, first);
      note(e, o.tsMicros);
      sightings += o.count ?? 1;
      return e;
    });

    // 2. MAC devices: upsert, remembering which are new.
    const macIds = new Map<string, number>();
    const newDevices: NewDevice[] = [];
    if (byMac.size > 0) {
      // Devices this writer stored recently and whose row would barely change: only check they still exist
      // (a merge may have folded one into another), without writing them again.
      const skip = new Map<string, Written>();
      for (const [mac, sp] of byMac) {
        const w = this.recent.get(mac);
        if (
          w &&
          sp.first >= w.firstUs &&
          sp.last <= w.lastUs + LAST_SEEN_SLACK_US &&
          (sp.ip === null || sp.ip === w.ip)
        )
          skip.set(mac, w);
      }
      if (skip.size > 0) {
        const alive = await queryRows<{ id: number; mac: string }>(
          tx,
          sql`SELECT id::int8 AS id, mac FROM devices
              WHERE id = ANY(${sql.param([...skip.values()].map((w) => w.id))}::int8[]) AND merged_into IS NULL`,
        );
        const ok = new Set(alive.map((r) => `${Number(r.id)}|${r.mac}`));
        for (const [mac, w] of skip) {
          if (ok.has(`${w.id}|${mac}`)) macIds.set(mac, w.id);
          else this.recent.delete(mac);
        }
      }
      const macs = [...byMac.keys()].filter((m) => !macIds.has(m));
      const spans = macs.map((m) => byMac.get(m) as Span);
      const rows = await queryRows<{ id: number; mac: string; primary_ip: string | null; inserted: boolean }>(
        tx,
        sql`INSERT INTO devices (mac, primary_ip, first_seen, last_seen, vendor, mac_randomized)
          SELECT * FROM unnest(${sql.param(macs)}::text[], ${sql.param(spans.map((s) => s.ip))}::inet[],
            ${sql.param(spans.map((s) => microsToIso(s.first)))}::timestamptz[],
            ${sql.param(spans.map((s) => microsToIso(s.last)))}::timestamptz[],
            ${sql.param(macs.map((m) => vendorOf(m)))}::text[],
            ${sql.param(macs.map((m) => isLocallyAdministered(m)))}::boolean[])
          ON CONFLICT (mac) DO UPDATE SET
            first_seen = LEAST(devices.first_seen, EXCLUDED.first_seen),
            last_seen = GREATEST(devices.last_seen, EXCLUDED.last_seen),
            primary_ip = CASE WHEN EXCLUDED.last_seen >= devices.last_seen
              THEN COALESCE(EXCLUDED.primary_ip, devices.primary_ip) ELSE COALESCE(devices.primary_ip, EXCLUDED.primary_ip) END,
            updated_at = now()
          RETURNING id::int8 AS id, mac, host(primary_ip) AS primary_ip, (xmax = 0) AS inserted`,
      );
      for (const r of rows) {
        const id = Number(r.id);
        macIds.set(r.mac, id);
        if (r.inserted) newDevices.push({ id, mac: r.mac, ip: r.primary_ip });
        const sp = byMac.get(r.mac) as Span;
        const before = this.recent.get(r.mac);
        written.devices.set(r.mac, {
          id,
          firstUs: r.inserted || !before ? sp.first : Math.min(before.firstUs, sp.first),
          lastUs: Math.max(before?.lastUs ?? 0, sp.last),
          ip: r.primary_ip,
        });
      }
      // An IP-only device whose address now belongs to a MAC we know is that device: merge it.
      const ipsOfMacs = new Map<string, number>();
      for (const [mac, s] of byMac) if (s.ip) ipsOfMacs.set(s.ip, macIds.get(mac) as number);
      if (ipsOfMacs.size > 0) {
        const orphans = await queryRows<{ id: number; ip: string }>(
          tx,
          sql`SELECT id::int8 AS id, host(primary_ip) AS ip FROM devices
              WHERE mac IS NULL AND primary_ip = ANY(${sql.param([...ipsOfMacs.keys()])}::inet[])`,
        );
        for (const o of orphans) {
          const into = ipsOfMacs.get(o.ip);
          if (into !== undefined) await mergeDevices(tx, Number(o.id), into);
        }
      }
    }

    // 3. IP-only endpoints: the device that last had the address, else an IP-keyed device.
    const ipIds = new Map<string, number>();
    if (byIp.size > 0) {
      const ips = [...byIp.keys()];
      const known = await queryRows<{ ip: string; device_id: number }>(
        tx,
        sql`SELECT DISTINCT ON (ip) host(ip) AS ip, device_id::int8 AS device_id FROM (
              SELECT ip, device_id, last_seen FROM device_addresses WHERE ip = ANY(${sql.param(ips)}::inet[])
              UNION ALL
              SELECT primary_ip, id, last_seen FROM devices WHERE mac IS NULL AND primary_ip = ANY(${sql.param(ips)}::inet[])
            ) a ORDER BY ip, last_seen DESC`,
      );
      for (const k of known) ipIds.set(k.ip, Number(k.device_id));
      const missing = ips.filter((ip) => !ipIds.has(ip));
      if (missing.length > 0) {
        const spans = missing.map((ip) => byIp.get(ip) as Span);
        const rows = await queryRows<{ id: number; ip: string }>(
          tx,
          sql`INSERT INTO devices (primary_ip, first_seen, last_seen)
              SELECT * FROM unnest(${sql.param(missing)}::inet[],
                ${sql.param(spans.map((s) => microsToIso(s.first)))}::timestamptz[],
                ${sql.param(spans.map((s) => microsToIso(s.last)))}::timestamptz[])
              RETURNING id::int8 AS id, host(primary_ip) AS ip`,
        );
        for (const r of rows) {
          ipIds.set(r.ip, Number(r.id));
          newDevices.push({ id: Number(r.id), mac: null, ip: r.ip });
        }
      }
      const seen = ips.filter((ip) => !missing.includes(ip));
      if (seen.length > 0) {
        await tx.execute(sql`
          UPDATE devices d SET last_seen = GREATEST(d.last_seen, v.t), updated_at = now()
          FROM unnest(${sql.param(seen.map((ip) => ipIds.get(ip) as number))}::int8[],
                      ${sql.param(seen.map((ip) => microsToIso((byIp.get(ip) as Span).last)))}::timestamptz[]) AS v(id, t)
          WHERE d.id = v.id`);
      }
    }

    const deviceOf = (e: Endpoint | null): number | null => {
      if (!e) return null;
      if (e.mac) return macIds.get(e.mac) ?? null;
      return e.ip ? (ipIds.get(e.ip) ?? null) : null;
    };

    // 4. Addresses of MAC devices (local IPs only).
    const addr: { id: number; ip: string; first: number; last: number }[] = [];
    for (const [mac, s] of byMac) {
      if (!s.ip) continue;
      const id = macIds.get(mac) as number;
      const key = `${id}|${s.ip}`;
      const w = this.recentAddr.get(key);
      if (w && s.first >= w.firstUs && s.last <= w.lastUs + LAST_SEEN_SLACK_US) continue;
      addr.push({ id, ip: s.ip, first: s.first, last: s.last });
      written.addrs.set(key, {
        firstUs: Math.min(w?.firstUs ?? s.first, s.first),
        lastUs: Math.max(w?.lastUs ?? 0, s.last),
      });
    }
    if (addr.length > 0) {
      await tx.execute(sql`
        INSERT INTO device_addresses (device_id, ip, first_seen, last_seen)
        SELECT * FROM unnest(${sql.param(addr.map((a) => a.id))}::int8[], ${sql.param(addr.map((a) => a.ip))}::inet[],
          ${sql.param(addr.map((a) => microsToIso(a.first)))}::timestamptz[],
          ${sql.param(addr.map((a) => microsToIso(a.last)))}::timestamptz[])
        ON CONFLICT (device_id, ip) DO UPDATE SET
          first_seen = LEAST(device_addresses.first_seen, EXCLUDED.first_seen),
          last_seen = GREATEST(device_addresses.last_seen, EXCLUDED.last_seen)`);
    }

    // 5. Flows, and per-device per-minute rollups from the device's own point of view.
    const rollups: Rollups = new Map();
    const deviceIds: (number | null)[] = [];
    const peerIds: (number | null)[] = [];
    flows.forEach((f, i) => {
      const [srcEnd, dstEnd] = flowEnds[i] as [Endpoint | null, Endpoint | null];
      const srcDev = deviceOf(srcEnd);
      const dstDev = deviceOf(dstEnd);
      deviceIds.push(srcDev ?? dstDev);
      peerIds.push(srcDev !== null ? dstDev : null);
      if (srcDev !== null) addRollup(rollups, srcDev, f, true);
      if (dstDev !== null && dstDev !== srcDev) addRollup(rollups, dstDev, f, false);
    });
    // copyFlows encodes and sends the rows before its first await: the database is busy from here.
    const copying = copyFlows(tx, this.store.engine, flows, deviceIds, peerIds, sourceId);
    hooks?.onRowsSent?.();
    const copied = await copying;
    for (let start = 0; !copied && start < flows.length; start += FLOW_CHUNK) {
      await insertFlows(
        tx,
        flows.slice(start, start + FLOW_CHUNK),
        deviceIds.slice(start, start + FLOW_CHUNK),
        peerIds.slice(start, start + FLOW_CHUNK),
        sourceId,
      );
    }
    if (rollups.size > 0)
      await upsertRollups(
        tx,
        [...rollups.values()].flatMap((m) => [...m.values()]),
      );

    // 6. Signals: one row per (device, kind, value), counted.
    const signals = new Map<
      string,
      { id: number; kind: string; value: string; first: number; last: number; count: number }
    >();
    const hostnames = new Map<number, { name: string; at: number }>();
    observations.forEach((o, i) => {
      const id = deviceOf(obsEnds[i] ?? null);
      if (id === null) return;
      const value = o.value.slice(0, MAX_SIGNAL_VALUE);
      const key = `${id}\u0000${o.kind}\u0000${value}`;
      const s = signals.get(key);
      const first = o.firstMicros ?? o.tsMicros;
      const count = o.count ?? 1;
      if (s) {
        s.count += count;
        if (first < s.first) s.first = first;
        if (o.tsMicros > s.last) s.last = o.tsMicros;
      } else signals.set(key, { id, kind: o.kind, value, first, last: o.tsMicros, count });
      if (o.kind === 'dhcp_hostname') {
        const h = hostnames.get(id);
        if (!h || o.tsMicros >= h.at) hostnames.set(id, { name: value.slice(0, 253), at: o.tsMicros });
      }
    });
    if (signals.size > 0) {
      const list = [...signals.values()];
      await tx.execute(sql`
        INSERT INTO device_signals (device_id, kind, value, first_seen, last_seen, count)
        SELECT * FROM unnest(${sql.param(list.map((s) => s.id))}::int8[], ${sql.param(list.map((s) => s.kind))}::text[],
          ${sql.param(list.map((s) => s.value))}::text[],
          ${sql.param(list.map((s) => microsToIso(s.first)))}::timestamptz[],
          ${sql.param(list.map((s) => microsToIso(s.last)))}::timestamptz[],
          ${sql.param(list.map((s) => s.count))}::int8[])
        ON CONFLICT (device_id, kind, value) DO UPDATE SET
          first_seen = LEAST(device_signals.first_seen, EXCLUDED.first_seen),
          last_seen = GREATEST(device_signals.last_seen, EXCLUDED.last_seen),
          count = device_signals.count + EXCLUDED.count`);
    }
    if (hostnames.size > 0) {
      const ids = [...hostnames.keys()];
      await tx.execute(sql`
        UPDATE devices d SET hostname = v.h, updated_at = now()
        FROM unnest(${sql.param(ids)}::int8[], ${sql.param(ids.map((id) => (hostnames.get(id) as { name: string }).name))}::text[]) AS v(id, h)
        WHERE d.id = v.id AND NOT ('hostname' = ANY(d.user_fields))`);
    }

    return {
      flows: flows.length,
      observations: sightings,
      newDevices,
      devicesTouched: macIds.size + ipIds.size,
    };
  }
}

interface Rollup {
  deviceId: number;
  minuteMs: number;
  bytesOut: number;
  bytesIn: number;
  packetsOut: number;
  packetsIn: number;
  flows: number;
  peers: Set<string>;
  ports: Set<number>;
  dnsQueries: number;
  synNoAck: number;
}

/** A batch's rollups by device id, then by minute (numbers: no key string per flow). */
type Rollups = Map<number, Map<number, Rollup>>;

function addRollup(map: Rollups, deviceId: number, f: IngestFlow, deviceIsSource: boolean): void {
  const minuteMs = minuteOf(f.tsStart);
  let minutes = map.get(deviceId);
  if (!minutes) map.set(deviceId, (minutes = new Map()));
  let r = minutes.get(minuteMs);
  if (!r) {
    r = {
      deviceId,
      minuteMs,
      bytesOut: 0,
      bytesIn: 0,
      packetsOut: 0,
      packetsIn: 0,
      flows: 0,
      peers: new Set(),
      ports: new Set(),
      dnsQueries: 0,
      synNoAck: 0,
    };
    minutes.set(minuteMs, r);
  }
  r.flows++;
  r.bytesOut += deviceIsSource ? f.bytesOut : f.bytesIn;
  r.bytesIn += deviceIsSource ? f.bytesIn : f.bytesOut;
  r.packetsOut += deviceIsSource ? f.packetsOut : f.packetsIn;
  r.packetsIn += deviceIsSource ? f.packetsIn : f.packetsOut;
  r.peers.add(deviceIsSource ? f.dstIp : f.srcIp);
  const port = deviceIsSource ? f.dstPort : f.srcPort;
  if (port !== null && deviceIsSource) r.ports.add(port);
  if (deviceIsSource && (f.appProto === 'dns' || f.appProto === 'mdns'))
    r.dnsQueries += Math.max(1, f.dnsNames.length);
  if (deviceIsSource && f.proto === 6 && f.connState === 'S0') r.synNoAck++;
}

async function upsertRollups(tx: Tx, list: Rollup[]): Promise<void> {
  const col = <T>(f: (r: Rollup) => T) => sql.param(list.map(f));
  // distinct peers/ports are exact within a batch and kept as the maximum across batches of one minute.
  await tx.execute(sql`
    INSERT INTO traffic_rollups AS r (device_id, minute, bytes_out, bytes_in, packets_out, packets_in, flows,
      distinct_peers, distinct_ports, dns_queries, dns_failures, syn_no_ack)
    SELECT d, m, bo, bi, po, pi, fl, dp, dpo, dq, 0, sna FROM unnest(
      ${col((r) => r.deviceId)}::int8[], ${col((r) => new Date(r.minuteMs).toISOString())}::timestamptz[],
      ${col((r) => r.bytesOut)}::int8[], ${col((r) => r.bytesIn)}::int8[], ${col((r) => r.packetsOut)}::int8[],
      ${col((r) => r.packetsIn)}::int8[], ${col((r) => r.flows)}::int4[], ${col((r) => r.peers.size)}::int4[],
      ${col((r) => r.ports.size)}::int4[], ${col((r) => r.dnsQueries)}::int4[], ${col((r) => r.synNoAck)}::int4[]
    ) AS v(d, m, bo, bi, po, pi, fl, dp, dpo, dq, sna)
    ON CONFLICT (device_id, minute) DO UPDATE SET
      bytes_out = r.bytes_out + EXCLUDED.bytes_out, bytes_in = r.bytes_in + EXCLUDED.bytes_in,
      packets_out = r.packets_out + EXCLUDED.packets_out, packets_in = r.packets_in + EXCLUDED.packets_in,
      flows = r.flows + EXCLUDED.flows,
      distinct_peers = GREATEST(r.distinct_peers, EXCLUDED.distinct_peers),
      distinct_ports = GREATEST(r.distinct_ports, EXCLUDED.distinct_ports),
      dns_queries = r.dns_queries + EXCLUDED.dns_queries,
      syn_no_ack = r.syn_no_ack + EXCLUDED.syn_no_ack`);
}

/** `µs since the epoch` (int8) → timestamptz, exactly (no text round trip, no float). */
const fromMicros = (col: string) => sql.raw(`(timestamptz 'epoch' + ${col} * interval '1 microsecond')`);

async function insertFlows(
  tx: Tx,
  flows: IngestFlow[],
  deviceIds: (number | null)[],
  peerIds: (number | null)[],
  sourceId: string | null,
): Promise<void> {
  if (flows.length === 0) return;
  const n = flows.length;
  // Columns built in one pass. Timestamps travel as int8 µs (cheaper to send and parse than ISO text).
  const tsStart = new Array<number>(n);
  const tsEnd = new Array<number>(n);
  const communityId = new Array<string>(n);
  const srcIp = new Array<string>(n);
  const srcPort = new Array<number | null>(n);
  const dstIp = new Array<string>(n);
  const dstPort = new Array<number | null>(n);
  const proto = new Array<number>(n);
  const appProto = new Array<string | null>(n);
  const bytesOut = new Array<number>(n);
  const bytesIn = new Array<number>(n);
  const packetsOut = new Array<number>(n);
  const packetsIn = new Array<number>(n);
  const flagsOut = new Array<number>(n);
  const flagsIn = new Array<number>(n);
  const connState = new Array<string | null>(n);
  const srcMac = new Array<string | null>(n);
  const dstMac = new Array<string | null>(n);
  const vlan = new Array<number | null>(n);
  const sni = new Array<string | null>(n);
  const httpHost = new Array<string | null>(n);
  const dnsQuery = new Array<string | null>(n);
  const uid = new Array<string | null>(n);
  const label = new Array<string | null>(n);
  for (let i = 0; i < n; i++) {
    const f = flows[i] as IngestFlow;
    tsStart[i] = Math.floor(f.tsStart); // whole µs, as microsToIso
    tsEnd[i] = Math.floor(f.tsEnd);
    communityId[i] = f.communityId;
    srcIp[i] = f.srcIp;
    srcPort[i] = f.srcPort;
    dstIp[i] = f.dstIp;
    dstPort[i] = f.dstPort;
    proto[i] = f.proto;
    appProto[i] = f.appProto;
    bytesOut[i] = f.bytesOut;
    bytesIn[i] = f.bytesIn;
    packetsOut[i] = f.packetsOut;
    packetsIn[i] = f.packetsIn;
    flagsOut[i] = f.tcpFlagsOut;
    flagsIn[i] = f.tcpFlagsIn;
    connState[i] = f.connState;
    srcMac[i] = f.srcMac;
    dstMac[i] = f.dstMac;
    vlan[i] = f.vlan;
    sni[i] = f.sni?.slice(0, 255) ?? null;
    httpHost[i] = f.httpHost?.slice(0, 255) ?? null;
    dnsQuery[i] = f.dnsNames[0]?.slice(0, 255) ?? null;
    uid[i] = f.uid ?? null;
    label[i] = f.label ?? null;
  }
  // A column that is null throughout the chunk (uid and label for captures, often vlan/sni/…) is sent as
  // one NULL instead of an array of them.
  const col = (values: unknown[], type: string, name: string) =>
    values.every((v) => v === null) ? sql.raw(`NULL::${type}`) : sql.raw(`v.${name}`);
  const nullable: [unknown[], string, string][] = [
    [deviceIds, 'int8', 'dev'],
    [peerIds, 'int8', 'peer'],
    [srcPort, 'int4', 'sp'],
    [dstPort, 'int4', 'dp'],
    [appProto, 'text', 'app'],
    [connState, 'text', 'cs'],
    [srcMac, 'text', 'smac'],
    [dstMac, 'text', 'dmac'],
    [vlan, 'int4', 'vlan'],
    [sni, 'text', 'sni'],
    [httpHost, 'text', 'hh'],
    [dnsQuery, 'text', 'dq'],
    [uid, 'text', 'uid'],
    [label, 'text', 'label'],
  ];
  const present = nullable.filter(([v]) => !v.every((x) => x === null));
  const c = (i: number) => {
    const [v, t, name] = nullable[i] as [unknown[], string, string];
    return col(v, t, name);
  };
  await tx.execute(sql`
    INSERT INTO network_traffic (ts_start, ts_end, device_id, peer_device_id, community_id, src_ip, src_port,
      dst_ip, dst_port, proto, app_proto, bytes_out, bytes_in, packets_out, packets_in, tcp_flags_out,
      tcp_flags_in, conn_state, src_mac, dst_mac, vlan, sni, http_host, dns_query, uid, label, source_id)
    SELECT ${fromMicros('v.ts')}, ${fromMicros('v.te')}, ${c(0)}, ${c(1)}, v.cid, v.sip, ${c(2)}, v.dip,
      ${c(3)}, v.pr, ${c(4)}, v.bo, v.bi, v.po, v.pi, v.tfo, v.tfi, ${c(5)}, ${c(6)}, ${c(7)}, ${c(8)},
      ${c(9)}, ${c(10)}, ${c(11)}, ${c(12)}, ${c(13)}, ${sourceId}::uuid
    FROM unnest(
      ${sql.param(tsStart)}::int8[], ${sql.param(tsEnd)}::int8[], ${sql.param(communityId)}::text[],
      ${sql.param(srcIp)}::inet[], ${sql.param(dstIp)}::inet[], ${sql.param(proto)}::int2[],
      ${sql.param(bytesOut)}::int8[], ${sql.param(bytesIn)}::int8[], ${sql.param(packetsOut)}::int8[],
      ${sql.param(packetsIn)}::int8[], ${sql.param(flagsOut)}::int2[], ${sql.param(flagsIn)}::int2[]
      ${sql.join(
        present.map(([v, t]) => sql`, ${sql.param(v)}::${sql.raw(t)}[]`),
        sql``,
      )}
    ) AS v(ts, te, cid, sip, dip, pr, bo, bi, po, pi, tfo, tfi${sql.raw(present.map(([, , name]) => `, ${name}`).join(''))})`);
}
