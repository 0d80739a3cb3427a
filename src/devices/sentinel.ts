/**
 * The IoT Sentinel packet features (Miettinen et al., ICDCS 2017, table I): 23 values per packet: protocol
 * presence at the link (ARP, LLC), network (IP, ICMP, ICMPv6, EAPoL), transport (TCP, UDP) and application
 * layers (HTTP, HTTPS, DHCP, BOOTP, SSDP, DNS, MDNS, NTP), IP options (padding, router alert), packet size,
 * raw data, a destination IP counter and the source/destination port classes. A device's fingerprint is the
 * sequence of vectors of the first packets it sends, consecutive identical vectors collapsed.
 */
import type { PacketInfo } from '../wire/packet/types.js';

export const SENTINEL_FEATURES = [
  'arp',
  'llc',
  'ip',
  'icmp',
  'icmpv6',
  'eapol',
  'tcp',
  'udp',
  'http',
  'https',
  'dhcp',
  'bootp',
  'ssdp',
  'dns',
  'mdns',
  'ntp',
  'ip_padding',
  'ip_router_alert',
  'size',
  'raw_data',
  'dst_ip_counter',
  'src_port_class',
  'dst_port_class',
] as const;

/** Packets in a fingerprint (IoT Sentinel uses 12). */
export const FINGERPRINT_PACKETS = 12;

/** 0 no port, 1 well-known (0–1023), 2 registered (1024–49151), 3 dynamic (49152–65535). */
export function portClass(port: number): number {
  if (port < 0) return 0;
  if (port <= 1023) return 1;
  if (port <= 49151) return 2;
  return 3;
}

const has = (info: PacketInfo, port: number): boolean => info.srcPort === port || info.dstPort === port;

function looksLikeHttp(d: Uint8Array, off: number, len: number): boolean {
  if (len < 4) return false;
  const s = String.fromCharCode(d[off] ?? 0, d[off + 1] ?? 0, d[off + 2] ?? 0, d[off + 3] ?? 0);
  return ['GET ', 'POST', 'PUT ', 'HEAD', 'HTTP', 'NOTI', 'M-SE', 'DELE', 'OPTI', 'SUBS'].includes(s);
}

/** IPv4 options: [padding (EOL/NOP seen), router alert (type 148)]. */
function ipOptions(d: Uint8Array, info: PacketInfo): [number, number] {
  if (info.ipVersion !== 4 || info.l3Offset < 0) return [0, 0];
  const ihl = ((d[info.l3Offset] ?? 0x45) & 0x0f) * 4;
  let pad = 0;
  let ra = 0;
  for (let o = info.l3Offset + 20; o < info.l3Offset + ihl && o < d.length;) {
    const t = d[o] ?? 0;
    if (t === 0) {
      pad = 1;
      break;
    }
    if (t === 1) {
      pad = 1;
      o++;
      continue;
    }
    if (t === 148) ra = 1;
    const l = d[o + 1] ?? 0;
    if (l < 2) break;
    o += l;
  }
  return [pad, ra];
}

/**
 * The 23-value vector of one packet. `dstIndex` maps destination IPs to their order of first appearance
 * (1-based) and is updated in place.
 */
export function packetVector(info: PacketInfo, frame: Uint8Array, dstIndex: Map<string, number>): number[] {
  const udp = info.ipProto === 17;
  const tcp = info.ipProto === 6;
  const llc = info.linkType === 1 && frame.length >= 14 && ((frame[12] ?? 0) << 8) + (frame[13] ?? 0) <= 1500;
  const payload = info.payloadLength > 0;
  const http = tcp && payload && looksLikeHttp(frame, info.payloadOffset, info.payloadLength);
  const https = tcp && (has(info, 443) || has(info, 8443));
  const dhcp = udp && (has(info, 67) || has(info, 68));
  const ssdp = udp && has(info, 1900);
  const dns = (udp || tcp) && has(info, 53);
  const mdns = udp && has(info, 5353);
  const ntp = udp && has(info, 123);
  const known = http || https || dhcp || ssdp || dns || mdns || ntp;
  const [pad, ra] = ipOptions(frame, info);
  let dstCounter = 0;
  if (info.ipVersion !== 0) {
    const dst =
      info.ipVersion === 4
        ? String(info.dstIp4 >>> 0)
        : Array.from(frame.subarray(info.dstIp6Offset, info.dstIp6Offset + 16)).join('.');
    let i = dstIndex.get(dst);
    if (i === undefined) {
      i = dstIndex.size + 1;
      dstIndex.set(dst, i);
    }
    dstCounter = i;
  }
  return [
    info.etherType === 0x0806 ? 1 : 0,
    llc ? 1 : 0,
    info.ipVersion !== 0 ? 1 : 0,
    info.ipProto === 1 && info.ipVersion === 4 ? 1 : 0,
    info.ipProto === 58 ? 1 : 0,
    info.etherType === 0x888e ? 1 : 0,
    tcp ? 1 : 0,
    udp ? 1 : 0,
    http ? 1 : 0,
    https ? 1 : 0,
    dhcp ? 1 : 0,
    dhcp ? 1 : 0,
    ssdp ? 1 : 0,
    dns ? 1 : 0,
    mdns ? 1 : 0,
    ntp ? 1 : 0,
    pad,
    ra,
    info.wireLen,
    payload && !known ? 1 : 0,
    dstCounter,
    tcp || udp ? portClass(info.srcPort) : 0,
    tcp || udp ? portClass(info.dstPort) : 0,
  ];
}

/** Appends a vector to a fingerprint unless it repeats the previous one; false once the fingerprint is full. */
export function pushFingerprint(fp: number[][], v: number[], max = FINGERPRINT_PACKETS): boolean {
  if (fp.length >= max) return false;
  const prev = fp[fp.length - 1];
  if (prev && prev.every((x, i) => x === v[i])) return true;
  fp.push(v);
  return fp.length < max;
}
