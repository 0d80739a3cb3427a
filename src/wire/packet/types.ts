import type { DecodeErrorKind } from '../errors.js';

/**
 * The result of decoding one captured frame down to the transport layer. One instance is reused for every
 * packet in the hot path (decodePacket fills it in place), so nothing here may be kept across packets:
 * copy what you need. Addresses are numbers or offsets into `data`, never strings, to avoid allocation.
 */
export const IpProto = {
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ICMPV6: 58,
  SCTP: 132,
} as const;

export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** The layer at which decodePacket stopped with an error (PacketInfo.decodeErrorLayer). */
export type PacketLayer =
  | 'link'
  | 'ethernet'
  | 'vlan'
  | 'sll'
  | 'null'
  | 'radiotap'
  | 'wlan'
  | 'pppoe'
  | 'arp'
  | 'ip'
  | 'ipv4'
  | 'ipv6'
  | 'tcp'
  | 'udp'
  | 'icmp'
  | 'icmpv6'
  | 'sctp';

/**
 * A number V8 keeps as a double, for the first value of a field that will hold numbers beyond 2^30
 * (timestamps in microseconds, MACs, IPv4 addresses, TCP sequence numbers); the constructor then sets the
 * field's real initial value. V8 gives a field the representation of its first value: starting as a small
 * integer, the field is widened at its first large value, which deprecates the object's map (every object
 * of that shape migrates) and discards optimised code that relied on it — during the first packets of a
 * capture and again when the next decoder's objects (a new map by then) reach code compiled for the old one.
 */
export const AS_DOUBLE = 0.5;

export class PacketInfo {
  /** Capture timestamp, microseconds since the Unix epoch. */
  tsMicros = AS_DOUBLE;
  /** Bytes captured / bytes on the wire. */
  capLen = 0;
  wireLen = 0;
  /**
   * The bytes holding the frame (a view into the capture buffer; valid only until the next packet): the
   * frame itself for decodePacket, a whole capture chunk for decodeFrame. Every offset below indexes `data`;
   * the frame is data[frameStart, frameEnd).
   */
  data: Uint8Array = new Uint8Array(0);
  frameStart = 0;
  frameEnd = 0;
  /** Index of the capture interface (pcapng); 0 for pcap. */
  iface = 0;
  /** Link type the frame was decoded with (set by decodePacket). */
  linkType = -1;

  /**
   * Decode outcome, set by decodePacket (which never throws for a bad or cut frame): null when every layer
   * present was decoded, otherwise the DecodeErrorKind ('truncated': a header is cut by the capture length;
   * 'malformed': an impossible value; 'unsupported': e.g. an encrypted 802.11 frame or an unknown link type;
   * 'limit': too many VLAN tags / IPv6 extension headers) and decodeErrorLayer names the layer. Fields of
   * the layers decoded before the error stay valid, so a caller counts errors by kind without try/catch.
   */
  decodeError: DecodeErrorKind | null = null;
  decodeErrorLayer: PacketLayer | null = null;

  /**
   * Layer 2: true when Ethernet (or 802.11) source and destination addresses are present. MACs are 48-bit
   * integers, -1 when absent (Linux cooked SLL/SLL2 give only srcMac, with hasL2 false).
   */
  hasL2 = false;
  srcMac = AS_DOUBLE;
  dstMac = AS_DOUBLE;
  /** Outermost 802.1Q VLAN id, -1 when untagged. */
  vlan = -1;
  /** EtherType of the payload after VLAN tags (0x0800, 0x86dd, 0x0806 …), 0 when unknown. */
  etherType = 0;
  /** Offset of the ARP header in data when etherType is 0x0806, else -1. */
  arpOffset = -1;

  /** Layer 3: 4, 6 or 0 (no IP). */
  ipVersion = 0;
  l3Offset = -1;
  /** IPv4 addresses as unsigned 32-bit integers (valid when ipVersion is 4). */
  srcIp4 = AS_DOUBLE;
  dstIp4 = AS_DOUBLE;
  /** Offsets in data of the 16-byte IPv6 addresses (valid when ipVersion is 6). */
  srcIp6Offset = -1;
  dstIp6Offset = -1;
  /** Upper-layer protocol number after IPv6 extension headers. */
  ipProto = 0;
  ttl = 0;
  /** IPv4 TOS byte / IPv6 traffic class. */
  ipTos = 0;
  /** IPv4 identification (0 for IPv6) and the IPv4 don't-fragment bit. */
  ipId = 0;
  ipDontFragment = false;
  /** Total IP length from the header (IPv4 total length; IPv6 payload length + 40). */
  ipLen = 0;
  /** True for any IPv4/IPv6 fragment; nonFirstFragment when the offset is non-zero (no L4 header). */
  fragment = false;
  nonFirstFragment = false;

  /** Layer 4. Ports are -1 when the protocol has none. */
  l4Offset = -1;
  srcPort = -1;
  dstPort = -1;
  /** TCP flag bits (TcpFlag), 0 for non-TCP. */
  tcpFlags = 0;
  tcpSeq = AS_DOUBLE;
  tcpAck = AS_DOUBLE;
  /** TCP window (unscaled), 0 for non-TCP. */
  tcpWindow = 0;
  /** ICMP/ICMPv6 type and code, -1 when not ICMP. */
  icmpType = -1;
  icmpCode = -1;

  /** Application payload: offset in data and length (captured bytes only). */
  payloadOffset = -1;
  payloadLength = 0;

  constructor() {
    // The real initial values of the fields started as AS_DOUBLE.
    this.reset();
  }

  reset(): void {
    this.tsMicros = 0;
    this.capLen = 0;
    this.wireLen = 0;
    this.iface = 0;
    this.resetDecoded();
  }

  /** Reset every decoded field (not tsMicros/capLen/wireLen/iface, which come from the capture record). */
  resetDecoded(): void {
    this.linkType = -1;
    this.decodeError = null;
    this.decodeErrorLayer = null;
    this.hasL2 = false;
    this.srcMac = -1;
    this.dstMac = -1;
    this.vlan = -1;
    this.etherType = 0;
    this.arpOffset = -1;
    this.ipVersion = 0;
    this.l3Offset = -1;
    this.srcIp4 = 0;
    this.dstIp4 = 0;
    this.srcIp6Offset = -1;
    this.dstIp6Offset = -1;
    this.ipProto = 0;
    this.ttl = 0;
    this.ipTos = 0;
    this.ipId = 0;
    this.ipDontFragment = false;
    this.ipLen = 0;
    this.fragment = false;
    this.nonFirstFragment = false;
    this.l4Offset = -1;
    this.srcPort = -1;
    this.dstPort = -1;
    this.tcpFlags = 0;
    this.tcpSeq = 0;
    this.tcpAck = 0;
    this.tcpWindow = 0;
    this.icmpType = -1;
    this.icmpCode = -1;
    this.payloadOffset = -1;
    this.payloadLength = 0;
  }
}

/** An Ethernet/IPv4 ARP packet (RFC 826). MACs are 48-bit numbers, IPs unsigned 32-bit numbers. */
export interface ArpPacket {
  htype: number;
  /** 1 request, 2 reply (3/4 RARP). */
  op: number;
  senderMac: number;
  senderIp: number;
  targetMac: number;
  targetIp: number;
}

export const ArpOp = { REQUEST: 1, REPLY: 2 } as const;
