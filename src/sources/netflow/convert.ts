/** FlowExportRecord (NetFlow v5/v9, IPFIX; one direction) → IngestFlow. */
import { appProtoByPort } from '../../flows/app-proto.js';
import type { CloseReason } from '../../flows/types.js';
import { communityIdV4 } from '../../flows/community-id.js';
import { macOrNull } from '../../wire/addr.js';
import type { FlowExportRecord } from '../../wire/flowexport/decode.js';
import type { IngestFlow } from '../types.js';
import { communityIdOf, parseIp } from '../zeek/values.js';

// IANA information elements read from FlowExportRecord.extra.
const IE_SOURCE_MAC = 56;
const IE_VLAN_ID = 58;
const IE_DESTINATION_MAC = 80;
const IE_ICMP_TYPE_CODE_V4 = 32;
const IE_ICMP_TYPE_CODE_V6 = 139;
const IE_ICMP_TYPE_V4 = 176;
const IE_ICMP_CODE_V4 = 177;
const IE_ICMP_TYPE_V6 = 178;
const IE_ICMP_CODE_V6 = 179;
const IE_FLOW_END_REASON = 136;

/** IPFIX flowEndReason (IE 136) → our close reason. */
function closeReasonOf(v: number | undefined): CloseReason {
  switch (v) {
    case 2:
      return 'active';
    case 3:
      return 'fin';
    case 4:
      return 'end';
    case 5:
      return 'evicted';
    default:
      return 'idle';
  }
}

/**
 * Converts one exported (unidirectional) record. The record's source is taken as originator; counts go to
 * the "out" side (bytesOut = octets, which exporters count as IP bytes), the "in" side stays 0. ICMP type/code
 * come from icmpTypeCode* (IPFIX) or the destination port (NetFlow v5/v9 put type << 8 | code there), and
 * become srcPort = type, dstPort = code like Zeek. Returns null when the record has no usable addresses.
 */
export function flowExportToIngest(r: FlowExportRecord, seed = 0): IngestFlow | null {
  if (r.srcAddr === null || r.dstAddr === null) return null;
  // The decoder writes IPv4 addresses as canonical dotted quads: read those as numbers (no parse into
  // bytes and back); anything else goes through parseIp.
  const s4 = dottedQuad(r.srcAddr);
  const d4 = s4 < 0 ? -1 : dottedQuad(r.dstAddr);
  const src = d4 < 0 ? parseIp(r.srcAddr) : null;
  const dst = d4 < 0 ? parseIp(r.dstAddr) : null;
  if (d4 < 0 && (!src || !dst || src.bytes.length !== dst.bytes.length)) return null;
  const proto = r.protocol ?? 0;
  let sport: number | null = r.srcPort;
  let dport: number | null = r.dstPort;
  if (proto === 1 || proto === 58) {
    const v6 = proto === 58;
    const type = r.extra.get(v6 ? IE_ICMP_TYPE_V6 : IE_ICMP_TYPE_V4);
    const code = r.extra.get(v6 ? IE_ICMP_CODE_V6 : IE_ICMP_CODE_V4);
    if (type !== undefined) {
      sport = type & 0xff;
      dport = (code ?? 0) & 0xff;
    } else {
      const tc = r.extra.get(v6 ? IE_ICMP_TYPE_CODE_V6 : IE_ICMP_TYPE_CODE_V4) ?? dport ?? 0;
      sport = (tc >> 8) & 0xff;
      dport = tc & 0xff;
    }
  } else if (proto !== 6 && proto !== 17 && proto !== 132) {
    sport = null;
    dport = null;
  }
  // A time the database cannot store (a corrupt or hostile record) counts as absent: the export time.
  const start = r.startMs !== null ? r.startMs * 1000 : NaN;
  const tsStart = storableUs(start) ? start : r.exportTimeSec * 1_000_000;
  const end = r.endMs !== null ? r.endMs * 1000 : NaN;
  const tsEnd = Math.max(tsStart, storableUs(end) ? end : tsStart);
  const smac = r.extra.get(IE_SOURCE_MAC);
  const dmac = r.extra.get(IE_DESTINATION_MAC);
  const vlan = r.extra.get(IE_VLAN_ID);
  return {
    tsStart,
    tsEnd,
    srcIp: src ? src.text : r.srcAddr,
    dstIp: dst ? dst.text : r.dstAddr,
    srcPort: sport,
    dstPort: dport,
    proto,
    appProto: appProtoByPort(proto, dport ?? -1, sport ?? -1),
    bytesOut: r.octets,
    bytesIn: 0,
    packetsOut: r.packets,
    packetsIn: 0,
    payloadBytesOut: 0,
    payloadBytesIn: 0,
    tcpFlagsOut: proto === 6 ? (r.tcpFlags ?? 0) & 0xff : 0,
    tcpFlagsIn: 0,
    connState: 'OTH',
    communityId:
      src && dst
        ? communityIdOf(src, dst, proto, sport, dport, seed)
        : communityIdV4(s4, d4, proto, sport ?? undefined, dport ?? undefined, seed),
    srcMac: smac !== undefined && smac > 0 ? macOrNull(smac) : null,
    dstMac: dmac !== undefined && dmac > 0 ? macOrNull(dmac) : null,
    vlan: vlan !== undefined && vlan > 0 && vlan <= 4095 ? vlan : null,
    sni: null,
    httpHost: null,
    dnsNames: [],
    closeReason: closeReasonOf(r.extra.get(IE_FLOW_END_REASON)),
    uid: null,
    label: null,
  };
}

/** Latest µs since the epoch a timestamptz column takes in COPY (9999-12-31T23:59:59Z). */
const MAX_US = 253_402_300_799_000_000;

function storableUs(us: number): boolean {
  return us >= 0 && us <= MAX_US; // false for NaN
}

function inRange(v: number | null, max: number): boolean {
  return v === null || (Number.isInteger(v) && v >= 0 && v <= max);
}

/**
 * Why a converted flow cannot be stored as it is (a value out of its column's range: exporters send up to
 * 8-byte fields whatever the element, so a corrupt or hostile template yields them), or null when it can.
 * One such flow would fail the whole batch's transaction again at every retry.
 */
export function unstorable(f: IngestFlow): string | null {
  if (!inRange(f.proto, 255)) return `protocol ${f.proto}`;
  if (!inRange(f.srcPort, 65535) || !inRange(f.dstPort, 65535)) return `port ${f.srcPort}/${f.dstPort}`;
  if (!inRange(f.bytesOut, Number.MAX_SAFE_INTEGER) || !inRange(f.packetsOut, Number.MAX_SAFE_INTEGER))
    return `counters ${f.bytesOut}/${f.packetsOut}`;
  if (!storableUs(f.tsStart) || !storableUs(f.tsEnd)) return `time ${f.tsStart}`;
  return null;
}

/** The number of a canonical dotted quad ("10.0.0.1": no leading zeros, no spaces), else -1. */
function dottedQuad(t: string): number {
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) return -1;
      v = v * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && part === 0) return -1; // leading zero
      part = part * 10 + (c - 0x30);
      if (++digits > 3 || part > 255) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return v * 256 + part;
}
