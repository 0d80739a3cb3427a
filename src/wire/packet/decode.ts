/**
 * decodePacket: one captured frame → PacketInfo (link, IP, transport headers), filled in place.
 *
 * Hot path rules: no allocation per packet (no subarray, object, string or closure); only numbers and
 * offsets are written to the reused PacketInfo. Every read is bounds-checked against the captured length
 * before it happens; a cut or odd frame sets info.decodeError/decodeErrorLayer instead of throwing.
 */
import type { DecodeErrorKind } from '../errors.js';
import { DecodeError } from '../errors.js';
import type { ArpPacket, PacketInfo, PacketLayer } from './types.js';

export * from './types.js';
export * from '../addr.js';

/** LINKTYPE_* values understood by decodePacket. */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW_OLD_12: 12,
  RAW_OLD_14: 14,
  RAW: 101,
  IEEE802_11: 105,
  LOOP: 108,
  LINUX_SLL: 113,
  IEEE802_11_RADIOTAP: 127,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export const EtherType = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  QINQ: 0x88a8,
  QINQ_OLD: 0x9100,
  IPV6: 0x86dd,
  PPPOE_SESSION: 0x8864,
} as const;

const MAX_VLAN_TAGS = 8;
const MAX_IPV6_EXT = 16;

function u8(d: Uint8Array, o: number): number {
  return d[o] ?? 0;
}

function be16(d: Uint8Array, o: number): number {
  return ((d[o] ?? 0) << 8) | (d[o + 1] ?? 0);
}

function le16(d: Uint8Array, o: number): number {
  return (d[o] ?? 0) | ((d[o + 1] ?? 0) << 8);
}

function be32(d: Uint8Array, o: number): number {
  return (((d[o] ?? 0) << 24) | ((d[o + 1] ?? 0) << 16) | ((d[o + 2] ?? 0) << 8) | (d[o + 3] ?? 0)) >>> 0;
}

function le32(d: Uint8Array, o: number): number {
  return (((d[o + 3] ?? 0) << 24) | ((d[o + 2] ?? 0) << 16) | ((d[o + 1] ?? 0) << 8) | (d[o] ?? 0)) >>> 0;
}

function mac(d: Uint8Array, o: number): number {
  return be16(d, o) * 0x1_0000_0000 + be32(d, o + 2);
}

function fail(info: PacketInfo, kind: DecodeErrorKind, layer: PacketLayer): void {
  info.decodeError = kind;
  info.decodeErrorLayer = layer;
}

/**
 * Decode `frame` captured with link type `linkType` into `info` (reset first, except the capture fields
 * tsMicros/capLen/wireLen/iface, which the caller sets from the capture record). Never throws for a bad
 * frame: see PacketInfo.decodeError. `info.data` is set to `frame` (a reference, no copy).
 */
export function decodePacket(linkType: number, frame: Uint8Array, info: PacketInfo): void {
  decodeFrame(linkType, frame, 0, frame.length, info);
}

/**
 * decodePacket for the frame `buf[start, end)` inside a larger buffer (a capture chunk), without a subarray
 * per frame: `info.data` is `buf`, every offset in `info` is an index into `buf`, and
 * info.frameStart/frameEnd bound the frame. Reads never leave [start, end).
 */
export function decodeFrame(
  linkType: number,
  buf: Uint8Array,
  start: number,
  end: number,
  info: PacketInfo,
): void {
  info.resetDecoded();
  info.data = buf;
  info.linkType = linkType;
  const s = Math.max(0, start);
  const e = Math.min(buf.length, end);
  info.frameStart = s;
  info.frameEnd = e;
  switch (linkType) {
    case 1:
      ethernet(buf, s, e, info);
      return;
    case 113:
      sll(buf, s, e, info);
      return;
    case 276:
      sll2(buf, s, e, info);
      return;
    case 101:
    case 12:
    case 14:
      rawIp(buf, s, e, info);
      return;
    case 228:
      info.etherType = EtherType.IPV4;
      ipv4(buf, s, e, info);
      return;
    case 229:
      info.etherType = EtherType.IPV6;
      ipv6(buf, s, e, info);
      return;
    case 0:
    case 108:
      nullLoop(buf, s, e, linkType === 108, info);
      return;
    case 127:
      radiotap(buf, s, e, info);
      return;
    case 105:
      wlan(buf, s, e, info);
      return;
    default:
      fail(info, 'unsupported', 'link');
  }
}

function ethernet(d: Uint8Array, o: number, end: number, info: PacketInfo): void {
  if (end - o < 14) {
    fail(info, 'truncated', 'ethernet');
    return;
  }
  info.hasL2 = true;
  info.dstMac = mac(d, o);
  info.srcMac = mac(d, o + 6);
  etherPayload(d, o + 14, end, be16(d, o + 12), info);
}

/** After the EtherType field: VLAN tags, 802.3 LLC/SNAP, PPPoE session, then layer 3. */
function etherPayload(d: Uint8Array, o: number, end: number, type: number, info: PacketInfo): void {
  let t = type;
  let p = o;
  let tags = 0;
  while (t === 0x8100 || t === 0x88a8 || t === 0x9100) {
    if (tags === MAX_VLAN_TAGS) {
      info.etherType = t;
      fail(info, 'limit', 'vlan');
      return;
    }
    if (end - p < 4) {
      info.etherType = t;
      fail(info, 'truncated', 'vlan');
      return;
    }
    if (info.vlan < 0) info.vlan = be16(d, p) & 0x0fff;
    t = be16(d, p + 2);
    p += 4;
    tags++;
  }
  let e = end;
  if (t <= 1500) {
    // IEEE 802.3 length field: only LLC/SNAP carries an EtherType.
    if (p + t < e) e = p + t;
    if (e - p >= 8 && u8(d, p) === 0xaa && u8(d, p + 1) === 0xaa && u8(d, p + 2) === 0x03) {
      t = be16(d, p + 6);
      p += 8;
    } else {
      return;
    }
  }
  if (t === EtherType.PPPOE_SESSION) {
    if (e - p < 8) {
      info.etherType = t;
      fail(info, 'truncated', 'pppoe');
      return;
    }
    const ppp = be16(d, p + 6);
    p += 8;
    if (ppp === 0x0021) t = EtherType.IPV4;
    else if (ppp === 0x0057) t = EtherType.IPV6;
    else {
      info.etherType = EtherType.PPPOE_SESSION;
      return;
    }
  }
  info.etherType = t;
  layer3(d, p, e, t, info);
}

function layer3(d: Uint8Array, o: number, end: number, t: number, info: PacketInfo): void {
  if (t === 0x0800) ipv4(d, o, end, info);
  else if (t === 0x86dd) ipv6(d, o, end, info);
  else if (t === 0x0806) {
    info.arpOffset = o;
    if (end - o < 8) fail(info, 'truncated', 'arp');
  }
}

function sll(d: Uint8Array, o: number, end: number, info: PacketInfo): void {
  if (end - o < 16) {
    fail(info, 'truncated', 'sll');
    return;
  }
  if (be16(d, o + 2) === 1 && be16(d, o + 4) === 6) info.srcMac = mac(d, o + 6);
  linuxProto(d, o + 16, end, be16(d, o + 14), info);
}

function sll2(d: Uint8Array, o: number, end: number, info: PacketInfo): void {
  if (end - o < 20) {
    fail(info, 'truncated', 'sll');
    return;
  }
  if (be16(d, o + 8) === 1 && u8(d, o + 11) === 6) info.srcMac = mac(d, o + 12);
  linuxProto(d, o + 20, end, be16(d, o), info);
}

function linuxProto(d: Uint8Array, o: number, end: number, proto: number, info: PacketInfo): void {
  // Values below 1536 are Linux-internal protocol numbers (802.2 LLC, CAN, …), not EtherTypes.
  if (proto < 0x0600) return;
  etherPayload(d, o, end, proto, info);
}

function rawIp(d: Uint8Array, o: number, end: number, info: PacketInfo): void {
  if (end - o < 1) {
    fail(info, 'truncated', 'ip');
    return;
  }
  const v = u8(d, o) >> 4;
  if (v === 4) {
    info.etherType = EtherType.IPV4;
    ipv4(d, o, end, info);
  } else if (v === 6) {
    info.etherType = EtherType.IPV6;
    ipv6(d, o, end, info);
  } else fail(info, 'malformed', 'ip');
}

function nullLoop(d: Uint8Array, o: number, end: number, bigEndian: boolean, info: PacketInfo): void {
  if (end - o < 4) {
    fail(info, 'truncated', 'null');
    return;
  }
  // DLT_NULL: address family in the writer's byte order; DLT_LOOP: network order.
  let af = bigEndian ? be32(d, o) : le32(d, o);
  if (!bigEndian && af > 0xffff) af = be32(d, o);
  if (af === 2) {
    info.etherType = EtherType.IPV4;
    ipv4(d, o + 4, end, info);
  } else if (af === 10 || af === 24 || af === 28 || af === 30) {
    info.etherType = EtherType.IPV6;
    ipv6(d, o + 4, end, info);
  } else fail(info, 'unsupported', 'null');
}

function radiotap(d: Uint8Array, o: number, end: number, info: PacketInfo): void {
  if (end - o < 8) {
    fail(info, 'truncated', 'radiotap');
    return;
  }
  const len = le16(d, o + 2);
  if (u8(d, o) !== 0 || len < 8) {
    fail(info, 'malformed', 'radiotap');
    return;
  }
  if (len > end - o) {
    fail(info, 'truncated', 'radiotap');
    return;
  }
  const present = le32(d, o + 4);
  let e = end;
  // Find the Flags field (bit 1) to learn whether the frame ends with an FCS. Fields follow the
  // present words; TSFT (bit 0) comes first, 8 bytes aligned to 8 (relative to the header start).
  let p = 4;
  while (p + 4 <= len && le32(d, o + p) & 0x80000000) p += 4;
  p += 4;
  if (present & 1) p = ((p + 7) & ~7) + 8;
  if (present & 2 && p < len && u8(d, o + p) & 0x10) e -= 4;
  if (e < o + len) e = o + len;
  wlan(d, o + len, e, info);
}

function wlan(d: Uint8Array, o: number, end: number, info: PacketInfo): void {
  if (end - o < 10) {
    fail(info, 'truncated', 'wlan');
    return;
  }
  const fc0 = u8(d, o);
  const fc1 = u8(d, o + 1);
  if ((fc0 & 3) !== 0) {
    fail(info, 'unsupported', 'wlan');
    return;
  }
  const type = (fc0 >> 2) & 3;
  const subtype = fc0 >> 4;
  if (type === 0) {
    // Management: addr1 = destination, addr2 = source (transmitter).
    if (end - o >= 24) {
      info.hasL2 = true;
      info.dstMac = mac(d, o + 4);
      info.srcMac = mac(d, o + 10);
    } else fail(info, 'truncated', 'wlan');
    return;
  }
  if (type !== 2) return; // control / extension frames carry no payload
  const toDs = (fc1 & 1) !== 0;
  const fromDs = (fc1 & 2) !== 0;
  const fourAddr = toDs && fromDs;
  let hdr = fourAddr ? 30 : 24;
  const qos = (subtype & 8) !== 0;
  const qosAt = o + hdr;
  if (qos) hdr += (fc1 & 0x80) !== 0 ? 6 : 2; // QoS control (+ HT control when the Order bit is set)
  if (end - o < hdr) {
    fail(info, 'truncated', 'wlan');
    return;
  }
  info.hasL2 = true;
  // Address selection by (ToDS, FromDS): 00 DA=a1 SA=a2; 10 DA=a3 SA=a2; 01 DA=a1 SA=a3; 11 DA=a3 SA=a4.
  info.dstMac = mac(d, toDs ? o + 16 : o + 4);
  info.srcMac = mac(d, fromDs ? (toDs ? o + 24 : o + 16) : o + 10);
  if (subtype & 4) return; // Null / QoS Null: no data
  if (fc1 & 0x40) {
    fail(info, 'unsupported', 'wlan'); // protected (encrypted) frame
    return;
  }
  if (qos && u8(d, qosAt) & 0x80) {
    fail(info, 'unsupported', 'wlan'); // A-MSDU aggregate
    return;
  }
  const p = o + hdr;
  if (end - p < 8) {
    if (end > p) fail(info, 'truncated', 'wlan');
    return;
  }
  if (u8(d, p) === 0xaa && u8(d, p + 1) === 0xaa && u8(d, p + 2) === 0x03) {
    const t = be16(d, p + 6);
    info.etherType = t;
    layer3(d, p + 8, end, t, info);
  }
}

function ipv4(d: Uint8Array, o: number, end: number, info: PacketInfo): void {
  info.l3Offset = o;
  if (end - o < 20) {
    fail(info, 'truncated', 'ipv4');
    return;
  }
  const vihl = u8(d, o);
  const ihl = (vihl & 15) * 4;
  if (vihl >> 4 !== 4 || ihl < 20) {
    fail(info, 'malformed', 'ipv4');
    return;
  }
  info.ipVersion = 4;
  info.ipTos = u8(d, o + 1);
  const total = be16(d, o + 2);
  info.ipLen = total;
  info.ipId = be16(d, o + 4);
  const ff = be16(d, o + 6);
  info.ttl = u8(d, o + 8);
  const proto = u8(d, o + 9);
  info.ipProto = proto;
  info.srcIp4 = be32(d, o + 12);
  info.dstIp4 = be32(d, o + 16);
  info.ipDontFragment = (ff & 0x4000) !== 0;
  let ipEnd = end;
  if (total !== 0) {
    // total 0 happens with TCP segmentation offload on the capturing host: use the captured length.
    if (total < ihl) {
      fail(info, 'malformed', 'ipv4');
      return;
    }
    if (o + total < end) ipEnd = o + total; // drop Ethernet padding
  }
  if (o + ihl > ipEnd) {
    fail(info, 'truncated', 'ipv4');
    return;
  }
  const fragOff = ff & 0x1fff;
  if ((ff & 0x2000) !== 0 || fragOff !== 0) {
    info.fragment = true;
    if (fragOff !== 0) {
      info.nonFirstFragment = true;
      info.payloadOffset = o + ihl;
      info.payloadLength = ipEnd - o - ihl;
      return;
    }
  }
  layer4(d, o + ihl, ipEnd, proto, info);
}

function ipv6(d: Uint8Array, o: number, end: number, info: PacketInfo): void {
  info.l3Offset = o;
  if (end - o < 40) {
    fail(info, 'truncated', 'ipv6');
    return;
  }
  if (u8(d, o) >> 4 !== 6) {
    fail(info, 'malformed', 'ipv6');
    return;
  }
  info.ipVersion = 6;
  info.ipTos = (be16(d, o) >> 4) & 0xff;
  const plen = be16(d, o + 4);
  info.ipLen = plen + 40;
  let nh = u8(d, o + 6);
  info.ttl = u8(d, o + 7);
  info.srcIp6Offset = o + 8;
  info.dstIp6Offset = o + 24;
  // Payload length 0 with a hop-by-hop header is a jumbogram: use the captured length.
  const ipEnd = plen !== 0 && o + 40 + plen < end ? o + 40 + plen : end;
  let p = o + 40;
  for (let i = 0; ; i++) {
    if (nh !== 0 && nh !== 43 && nh !== 60 && nh !== 44 && nh !== 51 && nh !== 135) break;
    info.ipProto = nh;
    if (i === MAX_IPV6_EXT) {
      fail(info, 'limit', 'ipv6');
      return;
    }
    if (ipEnd - p < 8) {
      fail(info, 'truncated', 'ipv6');
      return;
    }
    const next = u8(d, p);
    if (nh === 44) {
      const off = be16(d, p + 2);
      info.fragment = true;
      p += 8;
      nh = next;
      if ((off & 0xfff8) !== 0) {
        info.ipProto = nh;
        info.nonFirstFragment = true;
        info.payloadOffset = p;
        info.payloadLength = ipEnd - p;
        return;
      }
      continue;
    }
    const len = nh === 51 ? (u8(d, p + 1) + 2) * 4 : (u8(d, p + 1) + 1) * 8;
    if (p + len > ipEnd) {
      fail(info, 'truncated', 'ipv6');
      return;
    }
    p += len;
    nh = next;
  }
  info.ipProto = nh;
  layer4(d, p, ipEnd, nh, info);
}

function layer4(d: Uint8Array, o: number, end: number, proto: number, info: PacketInfo): void {
  const avail = end - o;
  info.l4Offset = o;
  switch (proto) {
    case 6: {
      if (avail >= 4) {
        info.srcPort = be16(d, o);
        info.dstPort = be16(d, o + 2);
      }
      if (avail < 20) {
        if (avail >= 14) {
          info.tcpSeq = be32(d, o + 4);
          info.tcpAck = be32(d, o + 8);
          info.tcpFlags = u8(d, o + 13);
        }
        fail(info, 'truncated', 'tcp');
        return;
      }
      info.tcpSeq = be32(d, o + 4);
      info.tcpAck = be32(d, o + 8);
      info.tcpFlags = u8(d, o + 13);
      info.tcpWindow = be16(d, o + 14);
      const doff = (u8(d, o + 12) >> 4) * 4;
      if (doff < 20) {
        fail(info, 'malformed', 'tcp');
        return;
      }
      if (doff > avail) {
        fail(info, 'truncated', 'tcp');
        return;
      }
      info.payloadOffset = o + doff;
      info.payloadLength = avail - doff;
      return;
    }
    case 17: {
      if (avail < 8) {
        if (avail >= 4) {
          info.srcPort = be16(d, o);
          info.dstPort = be16(d, o + 2);
        }
        fail(info, 'truncated', 'udp');
        return;
      }
      info.srcPort = be16(d, o);
      info.dstPort = be16(d, o + 2);
      const ulen = be16(d, o + 4);
      info.payloadOffset = o + 8;
      info.payloadLength = ulen >= 8 && ulen < avail ? ulen - 8 : avail - 8;
      return;
    }
    case 1:
    case 58: {
      if (avail < 4) {
        if (avail >= 2) {
          info.icmpType = u8(d, o);
          info.icmpCode = u8(d, o + 1);
        }
        fail(info, 'truncated', proto === 1 ? 'icmp' : 'icmpv6');
        return;
      }
      info.icmpType = u8(d, o);
      info.icmpCode = u8(d, o + 1);
      const h = avail >= 8 ? 8 : 4;
      info.payloadOffset = o + h;
      info.payloadLength = avail - h;
      return;
    }
    case 132: {
      if (avail < 12) {
        fail(info, 'truncated', 'sctp');
        return;
      }
      info.srcPort = be16(d, o);
      info.dstPort = be16(d, o + 2);
      info.payloadOffset = o + 12;
      info.payloadLength = avail - 12;
      return;
    }
    default:
      info.payloadOffset = o;
      info.payloadLength = avail;
  }
}

/**
 * Decode the ARP packet at `offset` (PacketInfo.arpOffset). Allocates: for the ARP path only.
 * Only Ethernet/IPv4 ARP is decoded (hardware type 1 or 6, protocol 0x0800, lengths 6/4).
 */
export function decodeArp(frame: Uint8Array, offset: number): ArpPacket {
  const o = offset;
  if (o < 0 || frame.length - o < 8) throw new DecodeError('truncated', 'arp', 'ARP header', o);
  const htype = be16(frame, o);
  const ptype = be16(frame, o + 2);
  const hlen = u8(frame, o + 4);
  const plen = u8(frame, o + 5);
  const op = be16(frame, o + 6);
  if (ptype !== 0x0800 || hlen !== 6 || plen !== 4) {
    throw new DecodeError('unsupported', 'arp', `htype ${htype} ptype 0x${ptype.toString(16)}`, o);
  }
  if (frame.length - o < 28) throw new DecodeError('truncated', 'arp', 'ARP addresses', o);
  return {
    htype,
    op,
    senderMac: mac(frame, o + 8),
    senderIp: be32(frame, o + 14),
    targetMac: mac(frame, o + 18),
    targetIp: be32(frame, o + 24),
  };
}
