/**
 * Device profiles from the database: stored signals and the device's most recent flows, in the same shape
 * as a capture's profile (without packet-level data, which the database does not keep).
 */
import { sql } from 'drizzle-orm';
import { queryRows, type Db, type Tx } from '../store/db.js';
import { isLocalIp } from './ip.js';
import { vendorOf } from './mac.js';
import {
  addSignal,
  emptyProfile,
  isEstablished,
  isReversedMidstream,
  type DeviceProfile,
  type SignalKind,
} from './profile.js';

/** Flows read per device (the most recent). */
export const PROFILE_FLOWS = 2000;

/**
 * A stored flow as the profile query gives it (JSON numbers and strings): src and dst address, src and dst
 * port, protocol, application protocol, bytes and packets each way, TCP flags each way, connection state,
 * source MAC.
 */
type ProfileFlow = [
  srcIp: string,
  dstIp: string,
  srcPort: number | null,
  dstPort: number | null,
  proto: number,
  appProto: string | null,
  bytesOut: number,
  bytesIn: number,
  packetsOut: number,
  packetsIn: number,
  tcpFlagsOut: number,
  tcpFlagsIn: number,
  connState: string | null,
  srcMac: string | null,
];

export interface DeviceRow {
  id: number;
  mac: string | null;
  primary_ip: string | null;
  vendor: string | null;
}

export async function loadProfiles(
  db: Db | Tx,
  devices: readonly DeviceRow[],
): Promise<Map<number, DeviceProfile>> {
  const out = new Map<number, DeviceProfile>();
  if (devices.length === 0) return out;
  for (const d of devices) {
    const oui = d.mac ? vendorOf(d.mac) : null;
    out.set(d.id, emptyProfile(d.mac, d.primary_ip, oui));
  }
  const ids = devices.map((d) => d.id);
  const signals = await queryRows<{ device_id: number; kind: string; value: string; count: number }>(
    db,
    sql`SELECT device_id::int8 AS device_id, kind, value, count::int8 AS count FROM device_signals
        WHERE device_id = ANY(${sql.param(ids)}::int8[])`,
  );
  for (const s of signals) {
    const p = out.get(Number(s.device_id));
    if (p) addSignal(p, s.kind as SignalKind, s.value, Number(s.count));
  }
  const addrs = await queryRows<{ device_id: number; ip: string }>(
    db,
    sql`SELECT device_id::int8 AS device_id, host(ip) AS ip FROM device_addresses WHERE device_id = ANY(${sql.param(ids)}::int8[])`,
  );
  const addrOf = new Map<number, Set<string>>();
  for (const a of addrs) {
    const set = addrOf.get(Number(a.device_id)) ?? new Set<string>();
    set.add(a.ip);
    addrOf.set(Number(a.device_id), set);
  }
  // Each device's most recent flows, all devices in one statement (one plan, one round trip), each device's
  // as one JSON array of arrays: tens of thousands of rows cost PGlite far more to hand over as rows than
  // the statement takes (24k flows: 0.8 s as rows, 0.2 s as 34 JSON texts, 0.05 s to find them).
  const rows = await queryRows<{ device_id: number; flows: string }>(
    db,
    sql`SELECT d.id::int8 AS device_id, json_agg(json_build_array(host(t.src_ip), host(t.dst_ip), t.src_port,
          t.dst_port, t.proto, t.app_proto, t.bytes_out::int8, t.bytes_in::int8, t.packets_out::int8,
          t.packets_in::int8, t.tcp_flags_out, t.tcp_flags_in, t.conn_state, t.src_mac)
          ORDER BY t.ts_start DESC)::text AS flows
        FROM unnest(${sql.param(ids)}::int8[]) WITH ORDINALITY AS d(id, ord)
        CROSS JOIN LATERAL (
          SELECT src_ip, dst_ip, src_port, dst_port, proto, app_proto, bytes_out, bytes_in, packets_out,
            packets_in, tcp_flags_out, tcp_flags_in, conn_state, src_mac, ts_start
          FROM network_traffic WHERE device_id = d.id OR peer_device_id = d.id
          ORDER BY ts_start DESC LIMIT ${PROFILE_FLOWS}) t
        GROUP BY d.id, d.ord ORDER BY d.ord`,
  );
  const flowsOf = new Map<number, ProfileFlow[]>();
  for (const r of rows) flowsOf.set(Number(r.device_id), JSON.parse(r.flows) as ProfileFlow[]);
  for (const d of devices) {
    const p = out.get(d.id) as DeviceProfile;
    const mine = addrOf.get(d.id) ?? new Set<string>();
    if (d.primary_ip) mine.add(d.primary_ip);
    const flows = flowsOf.get(d.id) ?? [];
    for (const f of flows) {
      const [
        srcIp,
        dstIp,
        srcPort,
        dstPort,
        proto,
        appProto,
        bytesOut,
        bytesIn,
        pktsOut,
        pktsIn,
        flagsOut,
        flagsIn,
        connState,
        srcMac,
      ] = f;
      const isSrc = d.mac && srcMac ? srcMac === d.mac : mine.has(srcIp);
      // As for a capture (./capture-profile.ts): a mid-connection flow recorded server → client is turned round.
      const rev = isReversedMidstream(proto, srcPort, dstPort, flagsOut, flagsIn);
      const peerIp = isSrc ? dstIp : srcIp;
      p.flows.push({
        outbound: isSrc !== rev,
        proto,
        peerIp,
        peerLocal: isLocalIp(peerIp),
        servicePort: rev ? srcPort : dstPort,
        appProto,
        bytesSent: isSrc ? bytesOut : bytesIn,
        bytesReceived: isSrc ? bytesIn : bytesOut,
        packetsSent: isSrc ? pktsOut : pktsIn,
        packetsReceived: isSrc ? pktsIn : pktsOut,
        established: isEstablished(connState),
      });
    }
  }
  return out;
}
