/**
 * Device profiles from the database: stored signals and the device's most recent flows, in the same shape
 * as a capture's profile (without packet-level data, which the database does not keep).
 */
import { sql } from 'drizzle-orm';
import { queryRows, type Db, type Tx } from '../store/db.js';
import type { FlowRow } from '../store/traffic.js';
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
  // Each device's most recent flows, all devices in one statement (one plan, one round trip).
  type ProfileFlowRow = { device_id: number } & Pick<
    FlowRow,
    | 'src_ip'
    | 'dst_ip'
    | 'src_port'
    | 'dst_port'
    | 'proto'
    | 'app_proto'
    | 'bytes_out'
    | 'bytes_in'
    | 'packets_out'
    | 'packets_in'
    | 'tcp_flags_out'
    | 'tcp_flags_in'
    | 'conn_state'
    | 'src_mac'
  >;
  const rows = await queryRows<ProfileFlowRow>(
    db,
    sql`SELECT d.id::int8 AS device_id, t.* FROM unnest(${sql.param(ids)}::int8[]) WITH ORDINALITY AS d(id, ord)
        CROSS JOIN LATERAL (
          SELECT host(src_ip) AS src_ip, host(dst_ip) AS dst_ip, src_port, dst_port, proto, app_proto,
            bytes_out::int8 AS bytes_out, bytes_in::int8 AS bytes_in, packets_out::int8 AS packets_out,
            packets_in::int8 AS packets_in, tcp_flags_out, tcp_flags_in, conn_state, src_mac, ts_start
          FROM network_traffic WHERE device_id = d.id OR peer_device_id = d.id
          ORDER BY ts_start DESC LIMIT ${PROFILE_FLOWS}) t
        ORDER BY d.ord, t.ts_start DESC`,
  );
  const flowsOf = new Map<number, typeof rows>();
  for (const r of rows) {
    const id = Number(r.device_id);
    let list = flowsOf.get(id);
    if (!list) flowsOf.set(id, (list = []));
    list.push(r);
  }
  for (const d of devices) {
    const p = out.get(d.id) as DeviceProfile;
    const mine = addrOf.get(d.id) ?? new Set<string>();
    if (d.primary_ip) mine.add(d.primary_ip);
    const flows = flowsOf.get(d.id) ?? [];
    for (const f of flows) {
      const isSrc = d.mac && f.src_mac ? f.src_mac === d.mac : mine.has(f.src_ip);
      const srcPort = f.src_port === null ? null : Number(f.src_port);
      const dstPort = f.dst_port === null ? null : Number(f.dst_port);
      // As for a capture (./capture-profile.ts): a mid-connection flow recorded server → client is turned round.
      const rev = isReversedMidstream(
        Number(f.proto),
        srcPort,
        dstPort,
        Number(f.tcp_flags_out),
        Number(f.tcp_flags_in),
      );
      const peerIp = isSrc ? f.dst_ip : f.src_ip;
      p.flows.push({
        outbound: isSrc !== rev,
        proto: Number(f.proto),
        peerIp,
        peerLocal: isLocalIp(peerIp),
        servicePort: rev ? srcPort : dstPort,
        appProto: f.app_proto,
        bytesSent: Number(isSrc ? f.bytes_out : f.bytes_in),
        bytesReceived: Number(isSrc ? f.bytes_in : f.bytes_out),
        packetsSent: Number(isSrc ? f.packets_out : f.packets_in),
        packetsReceived: Number(isSrc ? f.packets_in : f.packets_out),
        established: isEstablished(f.conn_state),
      });
    }
  }
  return out;
}
