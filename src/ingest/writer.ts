import { sql } from 'drizzle-orm';
import { isLocalIp, isSpecialIp } from '../devices/ip.js';
import { isLocallyAdministered, isMulticastMac, vendorOf } from '../devices/mac.js';
import type { Observation } from '../flows/observations.js';
import type { IngestFlow, SourceItem } from '../sources/types.js';
import { mergeDevices } from '../store/device-merge.js';
import { queryRows, type Store, type Tx } from '../store/db.js';
import { PartitionManager } from '../store/partitions.js';
import { microsToIso, minuteOf } from './timestamps.js';

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

const DEVICE_LOCK = 727_004;
const FLOW_CHUNK = 4000;
const MAX_SIGNAL_VALUE = 512;

/** One side of a flow or an observation, as a device key: its MAC when seen, else its local IP. */
interface Endpoint {
  mac: string | null;
  ip: string | null;
}

const usableMac = (mac: string | null | undefined): mac is string =>
  !!mac && mac !== '00:00:00:00:00:00' && !isMulticastMac(mac);

/**
 * The device ends of a flow: a side is a device when its IP is local (internet peers never are). When
 * neither side is local (a capture from a public network), the originator is the device.
 */
export function flowEndpoints(f: IngestFlow): [Endpoint | null, Endpoint | null] {
  const side = (mac: string | null, ip: string): Endpoint | null =>
    isLocalIp(ip) && !isSpecialIp(ip) ? { mac: usableMac(mac) ? mac : null, ip } : null;
  const src = side(f.srcMac, f.srcIp);
  const dst = side(f.dstMac, f.dstIp);
  if (!src && !dst && !isSpecialIp(f.srcIp))
    return [{ mac: usableMac(f.srcMac) ? f.srcMac : null, ip: f.srcIp }, null];
  return [src, dst];
}

function observationEndpoint(o: Observation): Endpoint | null {
  const ip = o.ip && !isSpecialIp(o.ip) && isLocalIp(o.ip) ? o.ip : null;
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

export class IngestWriter {
  private readonly partitions: PartitionManager;

  constructor(private readonly store: Store) {
    this.partitions = new PartitionManager(store.db);
  }

  async write(items: SourceItem[], checkpoint?: CheckpointUpdate): Promise<WriteResult> {
    const flows: IngestFlow[] = [];
    const observations: Observation[] = [];
    for (const it of items) {
      if (it.kind === 'flow') flows.push(it.flow);
      else if (it.kind === 'observation') observations.push(it.observation);
    }
    if (flows.length > 0) await this.partitions.ensureFor(flows.map((f) => f.tsStart / 1000));
    return this.store.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${DEVICE_LOCK})`);
      const result = await this.writeInTx(tx, flows, observations, checkpoint?.sourceId ?? null);
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
  }

  private async writeInTx(
    tx: Tx,
    flows: IngestFlow[],
    observations: Observation[],
    sourceId: string | null,
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
    const obsEnds = observations.map((o) => {
      const e = observationEndpoint(o);
      note(e, o.tsMicros);
      return e;
    });

    // 2. MAC devices: upsert, remembering which are new.
    const macIds = new Map<string, number>();
    const newDevices: NewDevice[] = [];
    if (byMac.size > 0) {
      const macs = [...byMac.keys()];
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
    for (const [mac, s] of byMac)
      if (s.ip) addr.push({ id: macIds.get(mac) as number, ip: s.ip, first: s.first, last: s.last });
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
    const rollups = new Map<string, Rollup>();
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
    for (let start = 0; start < flows.length; start += FLOW_CHUNK) {
      await insertFlows(
        tx,
        flows.slice(start, start + FLOW_CHUNK),
        deviceIds.slice(start, start + FLOW_CHUNK),
        peerIds.slice(start, start + FLOW_CHUNK),
        sourceId,
      );
    }
    if (rollups.size > 0) await upsertRollups(tx, [...rollups.values()]);

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
      if (s) {
        s.count++;
        if (o.tsMicros < s.first) s.first = o.tsMicros;
        if (o.tsMicros > s.last) s.last = o.tsMicros;
      } else signals.set(key, { id, kind: o.kind, value, first: o.tsMicros, last: o.tsMicros, count: 1 });
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
      observations: observations.length,
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

function addRollup(map: Map<string, Rollup>, deviceId: number, f: IngestFlow, deviceIsSource: boolean): void {
  const minuteMs = minuteOf(f.tsStart);
  const key = `${deviceId}:${minuteMs}`;
  let r = map.get(key);
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
    map.set(key, r);
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

async function insertFlows(
  tx: Tx,
  flows: IngestFlow[],
  deviceIds: (number | null)[],
  peerIds: (number | null)[],
  sourceId: string | null,
): Promise<void> {
  if (flows.length === 0) return;
  const col = <T>(f: (x: IngestFlow) => T) => sql.param(flows.map(f));
  await tx.execute(sql`
    INSERT INTO network_traffic (ts_start, ts_end, device_id, peer_device_id, community_id, src_ip, src_port,
      dst_ip, dst_port, proto, app_proto, bytes_out, bytes_in, packets_out, packets_in, tcp_flags_out,
      tcp_flags_in, conn_state, src_mac, dst_mac, vlan, sni, http_host, dns_query, uid, label, source_id)
    SELECT *, ${sourceId}::uuid FROM unnest(
      ${col((f) => microsToIso(f.tsStart))}::timestamptz[], ${col((f) => microsToIso(f.tsEnd))}::timestamptz[],
      ${sql.param(deviceIds)}::int8[], ${sql.param(peerIds)}::int8[], ${col((f) => f.communityId)}::text[],
      ${col((f) => f.srcIp)}::inet[], ${col((f) => f.srcPort)}::int4[], ${col((f) => f.dstIp)}::inet[],
      ${col((f) => f.dstPort)}::int4[], ${col((f) => f.proto)}::int2[], ${col((f) => f.appProto)}::text[],
      ${col((f) => f.bytesOut)}::int8[], ${col((f) => f.bytesIn)}::int8[], ${col((f) => f.packetsOut)}::int8[],
      ${col((f) => f.packetsIn)}::int8[], ${col((f) => f.tcpFlagsOut)}::int2[], ${col((f) => f.tcpFlagsIn)}::int2[],
      ${col((f) => f.connState)}::text[], ${col((f) => f.srcMac)}::text[], ${col((f) => f.dstMac)}::text[],
      ${col((f) => f.vlan)}::int4[], ${col((f) => f.sni?.slice(0, 255) ?? null)}::text[],
      ${col((f) => f.httpHost?.slice(0, 255) ?? null)}::text[], ${col((f) => f.dnsNames[0]?.slice(0, 255) ?? null)}::text[],
      ${col((f) => f.uid ?? null)}::text[], ${col((f) => f.label ?? null)}::text[])`);
}
