/**
 * Byte-exact frame builders for the demo network simulator: Ethernet II, ARP, IPv4 (header checksum),
 * UDP/TCP (pseudo-header checksums), ICMP, and the application payloads IoT devices send (DHCP, DNS/mDNS,
 * SSDP, UPnP description, HTTP, TLS ClientHello/ServerHello, MQTT, NTP, telnet, SSH, Modbus/TCP).
 *
 * Pure: no I/O, no clock, no Math.random. MACs are 48-bit numbers and IPv4 addresses unsigned 32-bit numbers,
 * like PacketInfo. Every builder returns a fresh Uint8Array.
 */
import { ip4ToString } from '../wire/addr.js';

export const EtherTypes = { IPV4: 0x0800, ARP: 0x0806 } as const;
export const BROADCAST_MAC = 0xffff_ffff_ffff;
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

const enc = new TextEncoder();

/** ASCII/UTF-8 text → bytes. */
export function text(s: string): Uint8Array {
  return enc.encode(s);
}

/** "10.42.0.1" → unsigned 32-bit number (throws on bad input: builders are fed constants). */
export function ip4(s: string): number {
  const p = s.split('.');
  if (p.length !== 4) throw new Error(`bad IPv4 address ${s}`);
  let v = 0;
  for (const x of p) {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 0 || n > 255) throw new Error(`bad IPv4 address ${s}`);
    v = v * 256 + n;
  }
  return v;
}

export { ip4ToString };

/** IPv4 multicast group → its Ethernet multicast MAC (01:00:5e + low 23 bits). */
export function multicastMac(ip: number): number {
  return 0x01005e000000 + (ip & 0x7fffff);
}

function writeMac(b: Uint8Array, o: number, mac: number): void {
  const hi = Math.floor(mac / 0x1_0000_0000);
  const lo = mac >>> 0;
  b[o] = (hi >>> 8) & 0xff;
  b[o + 1] = hi & 0xff;
  b[o + 2] = lo >>> 24;
  b[o + 3] = (lo >>> 16) & 0xff;
  b[o + 4] = (lo >>> 8) & 0xff;
  b[o + 5] = lo & 0xff;
}

function w16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

function w32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** One's-complement sum of 16-bit big-endian words over b[start, end), added to `sum` (not folded). */
export function checksumAdd(b: Uint8Array, start: number, end: number, sum = 0): number {
  let s = sum;
  let i = start;
  for (; i + 1 < end; i += 2) s += ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
  if (i < end) s += (b[i] ?? 0) << 8;
  return s;
}

/** Folds a checksumAdd accumulator and complements it: the value to store in a checksum field. */
export function checksumFinish(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/** The Internet checksum (RFC 1071) of b[start, end). A region containing a correct checksum sums to 0. */
export function internetChecksum(b: Uint8Array, start = 0, end = b.length): number {
  return checksumFinish(checksumAdd(b, start, end));
}

function pseudoSum(src: number, dst: number, proto: number, len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
}

/** Layer 2 + 3 addressing of one IPv4 packet. */
export interface Ipv4Header {
  srcMac: number;
  dstMac: number;
  srcIp: number;
  dstIp: number;
  /** Default 64. */
  ttl?: number;
  /** IP identification, default 0. */
  id?: number;
  /** Don't-fragment bit, default true. */
  df?: boolean;
  tos?: number;
}

const ETH = 14;
const IPH = 20;
const MIN_FRAME = 60;

/** Allocates the frame, writes Ethernet + IPv4 header (with checksum); the caller writes the L4 part. */
function ipv4Frame(h: Ipv4Header, proto: number, l4Len: number): Uint8Array {
  const total = IPH + l4Len;
  if (total > 0xffff) throw new Error(`IPv4 packet too long (${total})`);
  const b = new Uint8Array(Math.max(MIN_FRAME, ETH + total));
  writeMac(b, 0, h.dstMac);
  writeMac(b, 6, h.srcMac);
  w16(b, 12, EtherTypes.IPV4);
  b[14] = 0x45;
  b[15] = h.tos ?? 0;
  w16(b, 16, total);
  w16(b, 18, (h.id ?? 0) & 0xffff);
  w16(b, 20, h.df === false ? 0 : 0x4000);
  b[22] = h.ttl ?? 64;
  b[23] = proto;
  w32(b, 26, h.srcIp);
  w32(b, 30, h.dstIp);
  w16(b, 24, internetChecksum(b, ETH, ETH + IPH));
  return b;
}

/** Ethernet + IPv4 + UDP datagram with a correct UDP checksum. */
export function udpFrame(h: Ipv4Header, srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const ulen = 8 + payload.length;
  const b = ipv4Frame(h, 17, ulen);
  const o = ETH + IPH;
  w16(b, o, srcPort);
  w16(b, o + 2, dstPort);
  w16(b, o + 4, ulen);
  b.set(payload, o + 8);
  let c = checksumFinish(checksumAdd(b, o, o + ulen, pseudoSum(h.srcIp, h.dstIp, 17, ulen)));
  if (c === 0) c = 0xffff;
  w16(b, o + 6, c);
  return b;
}

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  /** Default 64240. */
  window?: number;
  /** TCP options (length a multiple of 4). */
  options?: Uint8Array;
  payload?: Uint8Array;
}

/** Ethernet + IPv4 + TCP segment with a correct TCP checksum. */
export function tcpFrame(h: Ipv4Header, t: TcpSegment): Uint8Array {
  const opt = t.options ?? EMPTY;
  if (opt.length % 4 !== 0 || opt.length > 40) throw new Error('TCP options must be 0..40 bytes, 4-aligned');
  const pay = t.payload ?? EMPTY;
  const hl = 20 + opt.length;
  const tlen = hl + pay.length;
  const b = ipv4Frame(h, 6, tlen);
  const o = ETH + IPH;
  w16(b, o, t.srcPort);
  w16(b, o + 2, t.dstPort);
  w32(b, o + 4, t.seq >>> 0);
  w32(b, o + 8, t.ack >>> 0);
  b[o + 12] = (hl / 4) << 4;
  b[o + 13] = t.flags & 0xff;
  w16(b, o + 14, t.window ?? 64240);
  b.set(opt, o + 20);
  b.set(pay, o + hl);
  w16(b, o + 16, checksumFinish(checksumAdd(b, o, o + tlen, pseudoSum(h.srcIp, h.dstIp, 6, tlen))));
  return b;
}

/** Ethernet + IPv4 + ICMP message; `rest` is the 4-byte rest-of-header (id/seq for echo). */
export function icmpFrame(
  h: Ipv4Header,
  type: number,
  code: number,
  rest: number,
  payload: Uint8Array = EMPTY,
): Uint8Array {
  const len = 8 + payload.length;
  const b = ipv4Frame(h, 1, len);
  const o = ETH + IPH;
  b[o] = type;
  b[o + 1] = code;
  w32(b, o + 4, rest >>> 0);
  b.set(payload, o + 8);
  w16(b, o + 2, internetChecksum(b, o, o + len));
  return b;
}

/** Ethernet ARP (RFC 826) frame; a request goes to broadcast unless `dstMac` is given. */
export function arpFrame(
  op: 1 | 2,
  senderMac: number,
  senderIp: number,
  targetMac: number,
  targetIp: number,
  dstMac: number = op === 1 ? BROADCAST_MAC : targetMac,
): Uint8Array {
  const b = new Uint8Array(MIN_FRAME);
  writeMac(b, 0, dstMac);
  writeMac(b, 6, senderMac);
  w16(b, 12, EtherTypes.ARP);
  w16(b, 14, 1);
  w16(b, 16, 0x0800);
  b[18] = 6;
  b[19] = 4;
  w16(b, 20, op);
  writeMac(b, 22, senderMac);
  w32(b, 28, senderIp);
  writeMac(b, 32, targetMac);
  w32(b, 38, targetIp);
  return b;
}

// ---------------------------------------------------------------------------------------------------------
// A tiny growable byte writer for payloads.

export class ByteWriter {
  private buf: Uint8Array;
  len = 0;
  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let c = this.buf.length * 2;
    while (c < this.len + n) c *= 2;
    const nb = new Uint8Array(c);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
  }
  u8(v: number): this {
    this.room(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    this.room(2);
    w16(this.buf, this.len, v);
    this.len += 2;
    return this;
  }
  u24(v: number): this {
    this.room(3);
    this.buf[this.len] = (v >>> 16) & 0xff;
    w16(this.buf, this.len + 1, v);
    this.len += 3;
    return this;
  }
  u32(v: number): this {
    this.room(4);
    w32(this.buf, this.len, v >>> 0);
    this.len += 4;
    return this;
  }
  mac(v: number): this {
    this.room(6);
    writeMac(this.buf, this.len, v);
    this.len += 6;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }
  str(s: string): this {
    return this.bytes(text(s));
  }
  zeros(n: number): this {
    this.room(n);
    this.buf.fill(0, this.len, this.len + n);
    this.len += n;
    return this;
  }
  /** Reserves a big-endian length field of `size` bytes; call the returned function to fill it in. */
  lengthField(size: 1 | 2 | 3): () => void {
    const at = this.len;
    this.zeros(size);
    return () => {
      const v = this.len - at - size;
      if (size === 1) this.buf[at] = v & 0xff;
      else if (size === 2) w16(this.buf, at, v);
      else {
        this.buf[at] = (v >>> 16) & 0xff;
        w16(this.buf, at + 1, v);
      }
    };
  }
  finish(): Uint8Array {
    return this.len === this.buf.length ? this.buf : this.buf.slice(0, this.len);
  }
}

const EMPTY = new Uint8Array(0);

/**
 * A fixed pool of pseudo-random bytes (deterministic) used as opaque encrypted or media payload: slices
 * of it stand in for TLS application data, video chunks and so on without generating bytes per frame.
 */
export const NOISE: Uint8Array = (() => {
  const b = new Uint8Array(1 << 16);
  let x = 0x9e3779b9;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
})();

/** `len` opaque bytes (a view into NOISE, no copy; `len` ≤ 32768) starting at a position from `salt`. */
export function noise(len: number, salt: number): Uint8Array {
  const n = Math.min(len, 32768);
  const at = (salt >>> 0) % (NOISE.length - n);
  return NOISE.subarray(at, at + n);
}

// ---------------------------------------------------------------------------------------------------------
// DHCP (RFC 2131/2132)

export const DhcpType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
} as const;

export type DhcpOption = readonly [code: number, value: Uint8Array];

export interface DhcpMessageSpec {
  op: 1 | 2;
  xid: number;
  secs?: number;
  broadcast?: boolean;
  ciaddr?: number;
  yiaddr?: number;
  siaddr?: number;
  chaddr: number;
  options: readonly DhcpOption[];
}

/** BOOTP/DHCP message with magic cookie and options, padded to the 300-byte BOOTP minimum. */
export function dhcpPayload(m: DhcpMessageSpec): Uint8Array {
  const w = new ByteWriter(320);
  w.u8(m.op)
    .u8(1)
    .u8(6)
    .u8(0)
    .u32(m.xid)
    .u16(m.secs ?? 0)
    .u16(m.broadcast ? 0x8000 : 0);
  w.u32(m.ciaddr ?? 0)
    .u32(m.yiaddr ?? 0)
    .u32(m.siaddr ?? 0)
    .u32(0);
  w.mac(m.chaddr)
    .zeros(10)
    .zeros(64 + 128);
  w.u32(0x63825363);
  for (const [code, v] of m.options) {
    if (v.length > 255) throw new Error(`DHCP option ${code} too long`);
    w.u8(code).u8(v.length).bytes(v);
  }
  w.u8(255);
  if (w.len < 300) w.zeros(300 - w.len);
  return w.finish();
}

export const dhcpOpt = {
  u8: (code: number, v: number): DhcpOption => [code, Uint8Array.of(v)],
  u16: (code: number, v: number): DhcpOption => [code, Uint8Array.of(v >>> 8, v & 0xff)],
  u32: (code: number, v: number): DhcpOption => [code, new ByteWriter(4).u32(v).finish()],
  ip: (code: number, ...ips: number[]): DhcpOption => {
    const w = new ByteWriter(4 * ips.length);
    for (const ip of ips) w.u32(ip);
    return [code, w.finish()];
  },
  str: (code: number, s: string): DhcpOption => [code, text(s)],
  bytes: (code: number, b: readonly number[] | Uint8Array): DhcpOption => [code, Uint8Array.from(b)],
};

export interface DhcpClientSpec {
  type: (typeof DhcpType)[keyof typeof DhcpType];
  xid: number;
  mac: number;
  secs?: number;
  /** Option 55 parameter request list (the DHCP fingerprint). */
  prl: readonly number[];
  hostname?: string | null;
  vendorClass?: string | null;
  /** Option 61: explicit bytes (type first); default 01 + MAC. Null leaves the option out. */
  clientId?: Uint8Array | null;
  /** Option 81 FQDN (flags 0, ASCII name). */
  fqdn?: string | null;
  maxMessageSize?: number | null;
  requestedIp?: number;
  serverId?: number;
  /** Renewal: ciaddr set, no 50/54. */
  ciaddr?: number;
  broadcast?: boolean;
  /** Option order (codes); options not listed follow in the default order. */
  order?: readonly number[];
}

const DEFAULT_CLIENT_ORDER = [53, 61, 50, 54, 57, 12, 81, 60, 55];

/** A DHCP client message (DISCOVER, REQUEST, RELEASE …) with options 53, 61, 50, 54, 57, 12, 81, 60, 55. */
export function dhcpClientPayload(s: DhcpClientSpec): Uint8Array {
  const opts = new Map<number, DhcpOption>();
  opts.set(53, dhcpOpt.u8(53, s.type));
  const cid = s.clientId === undefined ? new ByteWriter(7).u8(1).mac(s.mac).finish() : s.clientId;
  if (cid) opts.set(61, [61, cid]);
  if (s.requestedIp !== undefined) opts.set(50, dhcpOpt.ip(50, s.requestedIp));
  if (s.serverId !== undefined) opts.set(54, dhcpOpt.ip(54, s.serverId));
  if (s.maxMessageSize) opts.set(57, dhcpOpt.u16(57, s.maxMessageSize));
  if (s.hostname) opts.set(12, dhcpOpt.str(12, s.hostname));
  if (s.fqdn) opts.set(81, [81, new ByteWriter().u8(0).u8(0).u8(0).str(s.fqdn).finish()]);
  if (s.vendorClass) opts.set(60, dhcpOpt.str(60, s.vendorClass));
  if (s.type !== DhcpType.RELEASE) opts.set(55, dhcpOpt.bytes(55, s.prl));
  const order = [...(s.order ?? []), ...DEFAULT_CLIENT_ORDER.filter((c) => !(s.order ?? []).includes(c))];
  const list: DhcpOption[] = [];
  for (const c of order) {
    const o = opts.get(c);
    if (o) list.push(o);
  }
  return dhcpPayload({
    op: 1,
    xid: s.xid,
    secs: s.secs ?? 0,
    broadcast: s.broadcast ?? false,
    ciaddr: s.ciaddr ?? 0,
    chaddr: s.mac,
    options: list,
  });
}

export interface DhcpServerSpec {
  type: (typeof DhcpType)[keyof typeof DhcpType];
  xid: number;
  mac: number;
  yiaddr: number;
  ciaddr?: number;
  serverIp: number;
  leaseSeconds: number;
  subnetMask: number;
  router: number;
  dns: readonly number[];
  domain?: string;
  ntp?: number;
  broadcast?: boolean;
}

/** A DHCP server reply (OFFER, ACK, NAK). */
export function dhcpServerPayload(s: DhcpServerSpec): Uint8Array {
  const options: DhcpOption[] = [dhcpOpt.u8(53, s.type), dhcpOpt.ip(54, s.serverIp)];
  if (s.type !== DhcpType.NAK) {
    options.push(
      dhcpOpt.u32(51, s.leaseSeconds),
      dhcpOpt.u32(58, Math.floor(s.leaseSeconds / 2)),
      dhcpOpt.u32(59, Math.floor((s.leaseSeconds * 7) / 8)),
      dhcpOpt.ip(1, s.subnetMask),
      dhcpOpt.ip(3, s.router),
      dhcpOpt.ip(6, ...s.dns),
    );
    if (s.domain) options.push(dhcpOpt.str(15, s.domain));
    if (s.ntp !== undefined) options.push(dhcpOpt.ip(42, s.ntp));
  }
  return dhcpPayload({
    op: 2,
    xid: s.xid,
    broadcast: s.broadcast ?? false,
    ciaddr: s.ciaddr ?? 0,
    yiaddr: s.type === DhcpType.NAK ? 0 : s.yiaddr,
    siaddr: s.serverIp,
    chaddr: s.mac,
    options,
  });
}

// ---------------------------------------------------------------------------------------------------------
// DNS / mDNS (RFC 1035, RFC 6762/6763)

export const RR = { A: 1, CNAME: 5, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, ANY: 255 } as const;

export type DnsRData =
  | { a: number }
  | { aaaa: Uint8Array }
  | { name: string }
  | { srv: { priority: number; weight: number; port: number; target: string } }
  | { txt: readonly string[] };

export interface DnsRecordSpec {
  name: string;
  type: number;
  /** Default 1 (IN). */
  cls?: number;
  /** mDNS cache-flush bit. */
  cacheFlush?: boolean;
  ttl: number;
  data: DnsRData;
}

export interface DnsQuestionSpec {
  name: string;
  type: number;
  /** mDNS QU bit. */
  unicastResponse?: boolean;
}

export interface DnsMessageSpec {
  id: number;
  /** Full 16-bit flags word (QR, opcode, AA, TC, RD, RA, rcode). */
  flags: number;
  questions?: readonly DnsQuestionSpec[];
  answers?: readonly DnsRecordSpec[];
  authority?: readonly DnsRecordSpec[];
  additional?: readonly DnsRecordSpec[];
  /** DNS over TCP: prefix the 2-byte length. */
  tcp?: boolean;
}

export const DnsFlags = {
  QUERY: 0x0100,
  RESPONSE: 0x8180,
  NXDOMAIN: 0x8183,
  MDNS_RESPONSE: 0x8400,
  MDNS_QUERY: 0x0000,
} as const;

function writeName(w: ByteWriter, name: string, table: Map<string, number>, base: number): void {
  const labels = name === '' ? [] : name.split('.');
  for (let i = 0; i < labels.length; i++) {
    const suffix = labels.slice(i).join('.').toLowerCase();
    const at = table.get(suffix);
    if (at !== undefined) {
      w.u16(0xc000 | at);
      return;
    }
    const pos = w.len - base;
    if (pos < 0x3fff) table.set(suffix, pos);
    const lb = text(labels[i] ?? '');
    if (lb.length === 0 || lb.length > 63) throw new Error(`bad DNS label in ${name}`);
    w.u8(lb.length).bytes(lb);
  }
  w.u8(0);
}

/** A DNS or mDNS message with name compression. */
export function dnsPayload(m: DnsMessageSpec): Uint8Array {
  const w = new ByteWriter(512);
  const setLen = m.tcp ? w.lengthField(2) : null;
  const base = w.len;
  const qs = m.questions ?? [];
  const an = m.answers ?? [];
  const ns = m.authority ?? [];
  const ar = m.additional ?? [];
  w.u16(m.id).u16(m.flags).u16(qs.length).u16(an.length).u16(ns.length).u16(ar.length);
  const table = new Map<string, number>();
  for (const q of qs) {
    writeName(w, q.name, table, base);
    w.u16(q.type).u16(1 | (q.unicastResponse ? 0x8000 : 0));
  }
  for (const r of [...an, ...ns, ...ar]) {
    writeName(w, r.name, table, base);
    w.u16(r.type)
      .u16((r.cls ?? 1) | (r.cacheFlush ? 0x8000 : 0))
      .u32(r.ttl);
    const setRd = w.lengthField(2);
    const d = r.data;
    if ('a' in d) w.u32(d.a);
    else if ('aaaa' in d) w.bytes(d.aaaa);
    else if ('name' in d) writeName(w, d.name, table, base);
    else if ('srv' in d) {
      w.u16(d.srv.priority).u16(d.srv.weight).u16(d.srv.port);
      writeName(w, d.srv.target, table, base);
    } else {
      for (const s of d.txt) {
        const b = text(s);
        w.u8(Math.min(255, b.length)).bytes(b.subarray(0, 255));
      }
      if (d.txt.length === 0) w.u8(0);
    }
    setRd();
  }
  setLen?.();
  return w.finish();
}

/** A recursive query for one name. */
export function dnsQuery(id: number, name: string, type: number): Uint8Array {
  return dnsPayload({ id, flags: DnsFlags.QUERY, questions: [{ name, type }] });
}

/** A resolver's answer to `dnsQuery` (rcode 3 = NXDOMAIN when `answers` is null). */
export function dnsResponse(
  id: number,
  name: string,
  type: number,
  answers: readonly DnsRecordSpec[] | null,
): Uint8Array {
  return dnsPayload({
    id,
    flags: answers === null ? DnsFlags.NXDOMAIN : DnsFlags.RESPONSE,
    questions: [{ name, type }],
    answers: answers ?? [],
  });
}

/** "10.42.0.7" → "7.0.42.10.in-addr.arpa". */
export function reverseName(ip: number): string {
  return `${ip & 255}.${(ip >>> 8) & 255}.${(ip >>> 16) & 255}.${ip >>> 24}.in-addr.arpa`;
}

export interface MdnsServiceSpec {
  /** "_hap._tcp" */
  type: string;
  port: number;
  txt?: readonly string[];
}

export interface MdnsAnnounceSpec {
  /** Host name without ".local". */
  hostname: string;
  ip: number;
  /** Service instance name (without the service type), e.g. "Living Room". */
  instance: string;
  services: readonly MdnsServiceSpec[];
}

/**
 * An unsolicited mDNS response announcing a host and its services (RFC 6762 §8.3): for each service the
 * _services._dns-sd._udp PTR, the service PTR → instance, SRV → host, TXT; then the host A record and the
 * reverse PTR.
 */
export function mdnsAnnouncement(s: MdnsAnnounceSpec): Uint8Array {
  const host = `${s.hostname}.local`;
  const answers: DnsRecordSpec[] = [];
  for (const svc of s.services) {
    const type = `${svc.type}.local`;
    const inst = `${s.instance}.${type}`;
    answers.push(
      { name: '_services._dns-sd._udp.local', type: RR.PTR, ttl: 4500, data: { name: type } },
      { name: type, type: RR.PTR, ttl: 4500, data: { name: inst } },
      {
        name: inst,
        type: RR.SRV,
        cacheFlush: true,
        ttl: 120,
        data: { srv: { priority: 0, weight: 0, port: svc.port, target: host } },
      },
      { name: inst, type: RR.TXT, cacheFlush: true, ttl: 4500, data: { txt: svc.txt ?? [] } },
    );
  }
  answers.push(
    { name: host, type: RR.A, cacheFlush: true, ttl: 120, data: { a: s.ip } },
    { name: reverseName(s.ip), type: RR.PTR, cacheFlush: true, ttl: 120, data: { name: host } },
  );
  return dnsPayload({ id: 0, flags: DnsFlags.MDNS_RESPONSE, answers });
}

/** An mDNS query (PTR questions for service types). */
export function mdnsQuery(serviceTypes: readonly string[], unicastResponse = false): Uint8Array {
  return dnsPayload({
    id: 0,
    flags: DnsFlags.MDNS_QUERY,
    questions: serviceTypes.map((t) => ({ name: `${t}.local`, type: RR.PTR, unicastResponse })),
  });
}

// ---------------------------------------------------------------------------------------------------------
// SSDP / UPnP / HTTP

export const SSDP_GROUP = ip4('239.255.255.250');
export const MDNS_GROUP = ip4('224.0.0.251');

function httpHead(startLine: string, headers: readonly (readonly [string, string])[]): string {
  return `${startLine}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

export interface SsdpNotifySpec {
  location: string;
  nt: string;
  usn: string;
  server: string;
  maxAge?: number;
  nts?: 'ssdp:alive' | 'ssdp:byebye';
}

export function ssdpNotify(s: SsdpNotifySpec): Uint8Array {
  return text(
    httpHead('NOTIFY * HTTP/1.1', [
      ['HOST', '239.255.255.250:1900'],
      ['CACHE-CONTROL', `max-age=${s.maxAge ?? 1800}`],
      ['LOCATION', s.location],
      ['NT', s.nt],
      ['NTS', s.nts ?? 'ssdp:alive'],
      ['SERVER', s.server],
      ['USN', s.usn],
    ]),
  );
}

export function ssdpMSearch(st: string, mx: number, userAgent?: string): Uint8Array {
  const h: [string, string][] = [
    ['HOST', '239.255.255.250:1900'],
    ['MAN', '"ssdp:discover"'],
    ['MX', String(mx)],
    ['ST', st],
  ];
  if (userAgent) h.push(['USER-AGENT', userAgent]);
  return text(httpHead('M-SEARCH * HTTP/1.1', h));
}

export interface SsdpResponseSpec {
  st: string;
  usn: string;
  location: string;
  server: string;
  maxAge?: number;
  /** RFC 1123 date. */
  date: string;
}

export function ssdpResponse(s: SsdpResponseSpec): Uint8Array {
  return text(
    httpHead('HTTP/1.1 200 OK', [
      ['CACHE-CONTROL', `max-age=${s.maxAge ?? 1800}`],
      ['DATE', s.date],
      ['EXT', ''],
      ['LOCATION', s.location],
      ['SERVER', s.server],
      ['ST', s.st],
      ['USN', s.usn],
    ]),
  );
}

export interface UpnpDescriptionSpec {
  deviceType: string;
  friendlyName: string;
  manufacturer: string;
  manufacturerUrl: string;
  modelName: string;
  modelNumber: string;
  modelDescription?: string;
  serialNumber: string;
  udn: string;
  firmware: string;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The UPnP device description document (UDA 1.1), firmware in softwareVersion/firmwareVersion. */
export function upnpDescriptionXml(d: UpnpDescriptionSpec): string {
  const e = xmlEscape;
  return (
    '<?xml version="1.0" encoding="utf-8"?>\r\n' +
    '<root xmlns="urn:schemas-upnp-org:device-1-0">\r\n' +
    '<specVersion><major>1</major><minor>0</minor></specVersion>\r\n' +
    '<device>\r\n' +
    `<deviceType>${e(d.deviceType)}</deviceType>\r\n` +
    `<friendlyName>${e(d.friendlyName)}</friendlyName>\r\n` +
    `<manufacturer>${e(d.manufacturer)}</manufacturer>\r\n` +
    `<manufacturerURL>${e(d.manufacturerUrl)}</manufacturerURL>\r\n` +
    `<modelDescription>${e(d.modelDescription ?? d.modelName)}</modelDescription>\r\n` +
    `<modelName>${e(d.modelName)}</modelName>\r\n` +
    `<modelNumber>${e(d.modelNumber)}</modelNumber>\r\n` +
    `<serialNumber>${e(d.serialNumber)}</serialNumber>\r\n` +
    `<UDN>${e(d.udn)}</UDN>\r\n` +
    `<softwareVersion>${e(d.firmware)}</softwareVersion>\r\n` +
    `<firmwareVersion>${e(d.firmware)}</firmwareVersion>\r\n` +
    '</device>\r\n' +
    '</root>\r\n'
  );
}

/** An HTTP/1.1 request head (GET by default) with Host and User-Agent first. */
export function httpRequest(
  host: string,
  path: string,
  userAgent: string | null,
  method = 'GET',
  extra: readonly (readonly [string, string])[] = [],
  body: Uint8Array = EMPTY,
): Uint8Array {
  const h: (readonly [string, string])[] = [['Host', host]];
  if (userAgent) h.push(['User-Agent', userAgent]);
  h.push(['Accept', '*/*'], ...extra);
  if (body.length) h.push(['Content-Length', String(body.length)]);
  h.push(['Connection', 'keep-alive']);
  const head = text(httpHead(`${method} ${path} HTTP/1.1`, h));
  if (!body.length) return head;
  return new ByteWriter(head.length + body.length).bytes(head).bytes(body).finish();
}

/** An HTTP/1.1 response with a body and Content-Length. */
export function httpResponse(
  status: number,
  reason: string,
  headers: readonly (readonly [string, string])[],
  body: string | Uint8Array,
): Uint8Array {
  const b = typeof body === 'string' ? text(body) : body;
  const head = text(
    httpHead(`HTTP/1.1 ${status} ${reason}`, [...headers, ['Content-Length', String(b.length)]]),
  );
  return new ByteWriter(head.length + b.length).bytes(head).bytes(b).finish();
}

/** RFC 1123 date for HTTP headers. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

// ---------------------------------------------------------------------------------------------------------
// TLS (RFC 8446 / 5246): ClientHello per TLS stack family, ServerHello, opaque records

/** A TLS client stack: its ClientHello shape is what JA3/JA4 fingerprint. */
export interface TlsStackProfile {
  name: string;
  recordVersion: number;
  /** Cipher suites in order; GREASE_MARK is replaced by a GREASE value. */
  ciphers: readonly number[];
  /** Extension types in order; GREASE_MARK is replaced by a GREASE value. */
  extensions: readonly number[];
  groups: readonly number[];
  pointFormats: readonly number[];
  sigAlgs: readonly number[];
  alpn: readonly string[];
  /** supported_versions content; empty: TLS 1.2 only (extension left out even if listed). */
  versions: readonly number[];
  /** Session id length sent (32 for TLS 1.3 middlebox compatibility). */
  sessionIdLength: number;
}

export const GREASE_MARK = 0x0a0a;

const SIG_MODERN = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];
const SIG_OPENSSL = [
  0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080a, 0x080b, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501,
  0x0601, 0x0303, 0x0203, 0x0301, 0x0201, 0x0302, 0x0202, 0x0402, 0x0502, 0x0602,
];
const SIG_MBEDTLS = [0x0603, 0x0601, 0x0503, 0x0501, 0x0403, 0x0401, 0x0303, 0x0301, 0x0203, 0x0201];
// Apple stacks really send 0x0805 twice.
const SIG_APPLE = [0x0403, 0x0804, 0x0401, 0x0503, 0x0203, 0x0805, 0x0805, 0x0501, 0x0806, 0x0601, 0x0201];
const G = GREASE_MARK;

/** TLS client families found on IoT devices. JA3/JA4 differ between families, not between devices of one. */
export const TLS_STACKS = {
  /** BoringSSL as in Chrome/Cast/Android TV (GREASE, TLS 1.3, h2). */
  chromium: {
    name: 'chromium',
    recordVersion: 0x0301,
    ciphers: [
      G,
      0x1301,
      0x1302,
      0x1303,
      0xc02b,
      0xc02f,
      0xc02c,
      0xc030,
      0xcca9,
      0xcca8,
      0xc013,
      0xc014,
      0x009c,
      0x009d,
      0x002f,
      0x0035,
    ],
    extensions: [
      G,
      0x0000,
      0x0017,
      0xff01,
      0x000a,
      0x000b,
      0x0023,
      0x0010,
      0x0005,
      0x000d,
      0x0012,
      0x0033,
      0x002d,
      0x002b,
      0x001b,
      0x4469,
      G,
      0x0015,
    ],
    groups: [G, 29, 23, 24],
    pointFormats: [0],
    sigAlgs: SIG_MODERN,
    alpn: ['h2', 'http/1.1'],
    versions: [G, 0x0304, 0x0303],
    sessionIdLength: 32,
  },
  /** Apple Network.framework / SecureTransport (iOS, tvOS). */
  apple: {
    name: 'apple',
    recordVersion: 0x0301,
    ciphers: [
      G,
      0x1301,
      0x1302,
      0x1303,
      0xc02c,
      0xc02b,
      0xcca9,
      0xc030,
      0xc02f,
      0xcca8,
      0xc00a,
      0xc009,
      0xc014,
      0xc013,
      0x009d,
      0x009c,
      0x0035,
      0x002f,
      0xc008,
      0xc012,
      0x000a,
    ],
    extensions: [
      G,
      0x0000,
      0x0017,
      0xff01,
      0x000a,
      0x000b,
      0x0010,
      0x0005,
      0x000d,
      0x0012,
      0x0033,
      0x002d,
      0x002b,
      0x001b,
      G,
      0x0015,
    ],
    groups: [G, 29, 23, 24, 25],
    pointFormats: [0],
    sigAlgs: SIG_APPLE,
    alpn: ['h2', 'http/1.1'],
    versions: [G, 0x0304, 0x0303, 0x0302, 0x0301],
    sessionIdLength: 32,
  },
  /** OpenSSL 1.1.1/3.x default client (embedded Linux: newer cameras, speakers, Raspberry Pi curl/python). */
  openssl: {
    name: 'openssl',
    recordVersion: 0x0301,
    ciphers: [
      0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8, 0xccaa, 0xc02b, 0xc02f, 0x009e, 0xc024,
      0xc028, 0x006b, 0xc023, 0xc027, 0x0067, 0xc00a, 0xc014, 0x0039, 0xc009, 0xc013, 0x0033, 0x009d, 0x009c,
      0x003d, 0x003c, 0x0035, 0x002f, 0x00ff,
    ],
    extensions: [0x0000, 0x000b, 0x000a, 0x0023, 0x0010, 0x0016, 0x0017, 0x000d, 0x002b, 0x002d, 0x0033],
    groups: [29, 23, 30, 25, 24],
    pointFormats: [0, 1, 2],
    sigAlgs: SIG_OPENSSL,
    alpn: ['http/1.1'],
    versions: [0x0304, 0x0303],
    sessionIdLength: 32,
  },
  /** OpenSSL 1.0.x (older camera / NVR firmware): TLS 1.2 only, heartbeat extension. */
  openssl10: {
    name: 'openssl10',
    recordVersion: 0x0301,
    ciphers: [
      0xc030, 0xc02c, 0xc028, 0xc024, 0xc014, 0xc00a, 0x009f, 0x006b, 0x0039, 0x009d, 0x003d, 0x0035, 0xc02f,
      0xc02b, 0xc027, 0xc023, 0xc013, 0xc009, 0x009e, 0x0067, 0x0033, 0x009c, 0x003c, 0x002f, 0x00ff,
    ],
    extensions: [0x0000, 0x000b, 0x000a, 0x0023, 0x000d, 0x000f],
    groups: [23, 25, 28, 27, 24, 26, 22, 14, 13, 11, 12, 9, 10],
    pointFormats: [0, 1, 2],
    sigAlgs: [
      0x0601, 0x0602, 0x0603, 0x0501, 0x0502, 0x0503, 0x0401, 0x0402, 0x0403, 0x0301, 0x0302, 0x0303, 0x0201,
      0x0202, 0x0203,
    ],
    alpn: [],
    versions: [],
    sessionIdLength: 0,
  },
  /** Mbed TLS on ESP32/ESP8266-class MCUs (plugs, bulbs): TLS 1.2, AWS IoT ALPN. */
  mbedtls: {
    name: 'mbedtls',
    recordVersion: 0x0303,
    ciphers: [
      0xc02c, 0xc030, 0x009f, 0xc0ad, 0xc09f, 0xc024, 0xc028, 0x006b, 0xc00a, 0xc014, 0x0039, 0xc0af, 0xc0a3,
      0xc02b, 0xc02f, 0x009e, 0xc0ac, 0xc09e, 0xc023, 0xc027, 0x0067, 0xc009, 0xc013, 0x0033, 0xc0ae, 0xc0a2,
      0x009d, 0xc0a1, 0x003d, 0x0035, 0x009c, 0xc0a0, 0x003c, 0x002f, 0x00ff,
    ],
    extensions: [0x0000, 0x000d, 0x000a, 0x000b, 0x0001, 0x0010, 0x0016, 0x0017],
    groups: [23, 24, 25, 26, 27, 28, 29],
    pointFormats: [0],
    sigAlgs: SIG_MBEDTLS,
    alpn: [],
    versions: [],
    sessionIdLength: 0,
  },
  /** Android/OkHttp-style Java client (Fire OS on Echo, some TV apps). */
  android: {
    name: 'android',
    recordVersion: 0x0301,
    ciphers: [
      0x1301, 0x1302, 0x1303, 0xc02b, 0xc02c, 0xcca9, 0xc02f, 0xc030, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d,
      0x002f, 0x0035,
    ],
    extensions: [
      0xff01, 0x0000, 0x0017, 0x0023, 0x000d, 0x0005, 0x0010, 0x000b, 0x000a, 0x002d, 0x002b, 0x0033, 0x0015,
    ],
    groups: [29, 23, 24],
    pointFormats: [0],
    sigAlgs: [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0201],
    alpn: ['h2', 'http/1.1'],
    versions: [0x0304, 0x0303],
    sessionIdLength: 32,
  },
  /** GnuTLS / WebKit on TV platforms (webOS, Tizen). */
  gnutls: {
    name: 'gnutls',
    recordVersion: 0x0301,
    ciphers: [
      0x1301, 0x1303, 0x1302, 0xc02b, 0xcca9, 0xc02c, 0xc0ad, 0xc00a, 0xc009, 0xc0ac, 0xc02f, 0xcca8, 0xc030,
      0xc014, 0xc013, 0x009c, 0x009d, 0x002f, 0x0035, 0x009e, 0xccaa, 0x009f, 0x0039, 0x0033,
    ],
    extensions: [
      0x0000, 0x0005, 0x0016, 0x0017, 0x000d, 0x002b, 0x002d, 0x0033, 0x000a, 0x000b, 0x0010, 0x001c, 0x0023,
    ],
    groups: [29, 23, 24, 25, 30, 256, 257],
    pointFormats: [0],
    sigAlgs: [
      0x0403, 0x0503, 0x0603, 0x0807, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0808, 0x0203, 0x0201,
    ],
    alpn: ['h2', 'http/1.1'],
    versions: [0x0304, 0x0303, 0x0302, 0x0301],
    sessionIdLength: 32,
  },
} as const satisfies Record<string, TlsStackProfile>;

export type TlsStack = keyof typeof TLS_STACKS;

const GREASE_VALUES = [
  0x0a0a, 0x1a1a, 0x2a2a, 0x3a3a, 0x4a4a, 0x5a5a, 0x6a6a, 0x7a7a, 0x8a8a, 0x9a9a, 0xaaaa, 0xbaba, 0xcaca,
  0xdada, 0xeaea, 0xfafa,
];

export interface ClientHelloSpec {
  stack: TlsStack | TlsStackProfile;
  sni: string | null;
  /** Source of the random, session id, key share and GREASE choice (any number; hashed). */
  salt: number;
  /** Override the stack's ALPN list. */
  alpn?: readonly string[];
}

/** A ClientHello record (record header + handshake) shaped like the given TLS stack. */
export function tlsClientHello(s: ClientHelloSpec): Uint8Array {
  const p: TlsStackProfile = typeof s.stack === 'string' ? TLS_STACKS[s.stack] : s.stack;
  const salt = s.salt >>> 0;
  const g1 = GREASE_VALUES[salt % 16] ?? 0x0a0a;
  const g2 = GREASE_VALUES[(salt >>> 4) % 16] ?? 0x1a1a;
  const g3 = GREASE_VALUES[(salt >>> 8) % 16] ?? 0x2a2a;
  let gi = 0;
  const gExt = (): number => (gi++ === 0 ? g2 : g2 === g3 ? g3 ^ 0x1010 : g3);
  const alpn = s.alpn ?? p.alpn;
  const w = new ByteWriter(600);
  w.u8(22).u16(p.recordVersion);
  const recLen = w.lengthField(2);
  w.u8(1);
  const hsLen = w.lengthField(3);
  w.u16(0x0303).bytes(noise(32, salt * 7 + 1));
  w.u8(p.sessionIdLength).bytes(noise(p.sessionIdLength, salt * 13 + 5));
  w.u16(p.ciphers.length * 2);
  for (const c of p.ciphers) w.u16(c === G ? g1 : c);
  w.u8(1).u8(0);
  const extLen = w.lengthField(2);
  for (const e of p.extensions) {
    if (e === G) {
      w.u16(gExt());
      const l = w.lengthField(2);
      if (gi === 2) w.u8(0);
      l();
      continue;
    }
    if (e === 0x0000 && !s.sni) continue;
    if (e === 0x0010 && alpn.length === 0) continue;
    if (e === 0x002b && p.versions.length === 0) continue;
    if (e === 0x0033 && p.versions.length === 0) continue;
    w.u16(e);
    const l = w.lengthField(2);
    switch (e) {
      case 0x0000: {
        const n = text(s.sni ?? '');
        w.u16(n.length + 3)
          .u8(0)
          .u16(n.length)
          .bytes(n);
        break;
      }
      case 0x000a:
        w.u16(p.groups.length * 2);
        for (const x of p.groups) w.u16(x === G ? g1 : x);
        break;
      case 0x000b:
        w.u8(p.pointFormats.length);
        for (const x of p.pointFormats) w.u8(x);
        break;
      case 0x000d:
        w.u16(p.sigAlgs.length * 2);
        for (const x of p.sigAlgs) w.u16(x);
        break;
      case 0x0010: {
        const lf = w.lengthField(2);
        for (const a of alpn) w.u8(a.length).str(a);
        lf();
        break;
      }
      case 0x0005:
        w.u8(1).u16(0).u16(0);
        break;
      case 0x0001:
        w.u8(4); // max_fragment_length 2^12
        break;
      case 0x000f:
        w.u8(1); // heartbeat peer_allowed_to_send
        break;
      case 0x001b:
        w.u8(2).u16(2);
        break;
      case 0x001c:
        w.u16(0x4001);
        break;
      case 0x002b:
        w.u8(p.versions.length * 2);
        for (const x of p.versions) w.u16(x === G ? g1 : x);
        break;
      case 0x002d:
        w.u8(1).u8(1);
        break;
      case 0x0033: {
        const lf = w.lengthField(2);
        if (p.groups[0] === G) w.u16(g1).u16(1).u8(0);
        w.u16(29)
          .u16(32)
          .bytes(noise(32, salt * 31 + 9));
        lf();
        break;
      }
      case 0x4469:
        w.u16(3).u8(2).str('h2');
        break;
      case 0xff01:
        w.u8(0);
        break;
      case 0x0015:
        w.zeros(Math.max(0, 517 - w.len)); // pad the record to 517 bytes like Chrome
        break;
      default:
        break; // empty-bodied extensions (EMS, session ticket, SCT, encrypt-then-mac …)
    }
    l();
  }
  extLen();
  hsLen();
  recLen();
  return w.finish();
}

/** A ServerHello record (TLS 1.3 style when `tls13`), followed by ChangeCipherSpec and an opaque record. */
export function tlsServerFlight(
  cipher: number,
  tls13: boolean,
  alpn: string | null,
  salt: number,
  certLen: number,
): Uint8Array {
  const w = new ByteWriter(certLen + 200);
  w.u8(22).u16(0x0303);
  const recLen = w.lengthField(2);
  w.u8(2);
  const hsLen = w.lengthField(3);
  w.u16(0x0303).bytes(noise(32, salt * 3 + 11));
  const sid = tls13 ? 32 : 0;
  w.u8(sid).bytes(noise(sid, salt * 5 + 3));
  w.u16(cipher).u8(0);
  const extLen = w.lengthField(2);
  if (tls13) {
    w.u16(0x002b).u16(2).u16(0x0304);
    w.u16(0x0033)
      .u16(36)
      .u16(29)
      .u16(32)
      .bytes(noise(32, salt * 17 + 2));
  } else {
    w.u16(0xff01).u16(1).u8(0);
    w.u16(0x0017).u16(0);
    if (alpn) {
      w.u16(0x0010);
      const l = w.lengthField(2);
      const l2 = w.lengthField(2);
      w.u8(alpn.length).str(alpn);
      l2();
      l();
    }
  }
  extLen();
  hsLen();
  recLen();
  if (tls13) w.u8(20).u16(0x0303).u16(1).u8(1);
  w.bytes(tlsRecord(tls13 ? 23 : 22, certLen, salt));
  return w.finish();
}

/** An opaque TLS record (content type 23 application data by default) of `len` body bytes. */
export function tlsRecord(type: number, len: number, salt: number): Uint8Array {
  const n = Math.max(1, Math.min(len, 16384 + 256));
  return new ByteWriter(n + 5).u8(type).u16(0x0303).u16(n).bytes(noise(n, salt)).finish();
}

/** Client's second flight: ChangeCipherSpec + Finished (opaque). */
export function tlsClientFinish(salt: number): Uint8Array {
  return new ByteWriter(64)
    .u8(20)
    .u16(0x0303)
    .u16(1)
    .u8(1)
    .bytes(tlsRecord(23, 53, salt))
    .finish();
}

// ---------------------------------------------------------------------------------------------------------
// MQTT 3.1.1

function mqttVarint(w: ByteWriter, n: number): void {
  let v = n;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    w.u8(b);
  } while (v > 0);
}

function mqttPacket(first: number, body: Uint8Array): Uint8Array {
  const w = new ByteWriter(body.length + 5);
  w.u8(first);
  mqttVarint(w, body.length);
  return w.bytes(body).finish();
}

function mqttStr(w: ByteWriter, s: string): void {
  const b = text(s);
  w.u16(b.length).bytes(b);
}

export interface MqttConnectSpec {
  clientId: string;
  keepAlive: number;
  username?: string | null;
  password?: string | null;
  cleanSession?: boolean;
  will?: { topic: string; message: string } | null;
}

export function mqttConnect(s: MqttConnectSpec): Uint8Array {
  const w = new ByteWriter(128);
  mqttStr(w, 'MQTT');
  w.u8(4);
  let f = s.cleanSession === false ? 0 : 0x02;
  if (s.will) f |= 0x04 | 0x20;
  if (s.password) f |= 0x40;
  if (s.username) f |= 0x80;
  w.u8(f).u16(s.keepAlive);
  mqttStr(w, s.clientId);
  if (s.will) {
    mqttStr(w, s.will.topic);
    mqttStr(w, s.will.message);
  }
  if (s.username) mqttStr(w, s.username);
  if (s.password) mqttStr(w, s.password);
  return mqttPacket(0x10, w.finish());
}

export const mqttConnack = (): Uint8Array => Uint8Array.of(0x20, 0x02, 0x00, 0x00);
export const mqttPingReq = (): Uint8Array => Uint8Array.of(0xc0, 0x00);
export const mqttPingResp = (): Uint8Array => Uint8Array.of(0xd0, 0x00);

export function mqttPublish(topic: string, payload: string, retain = false): Uint8Array {
  const w = new ByteWriter(64 + payload.length);
  mqttStr(w, topic);
  w.str(payload);
  return mqttPacket(0x30 | (retain ? 1 : 0), w.finish());
}

export function mqttSubscribe(packetId: number, topic: string): Uint8Array {
  const w = new ByteWriter(64);
  w.u16(packetId);
  mqttStr(w, topic);
  w.u8(0);
  return mqttPacket(0x82, w.finish());
}

export const mqttSuback = (packetId: number): Uint8Array =>
  Uint8Array.of(0x90, 0x03, (packetId >>> 8) & 0xff, packetId & 0xff, 0x00);

// ---------------------------------------------------------------------------------------------------------
// NTP (RFC 5905), telnet, SSH, Modbus/TCP, LIFX, Kasa

const NTP_EPOCH_OFFSET = 2_208_988_800;

function ntpTs(w: ByteWriter, unixMicros: number): void {
  if (unixMicros <= 0) {
    w.u32(0).u32(0);
    return;
  }
  const sec = Math.floor(unixMicros / 1e6);
  const frac = Math.floor(((unixMicros - sec * 1e6) / 1e6) * 2 ** 32);
  w.u32(sec + NTP_EPOCH_OFFSET).u32(frac);
}

export interface NtpSpec {
  mode: 3 | 4;
  version?: number;
  stratum?: number;
  poll?: number;
  precision?: number;
  /** Reference id as a 32-bit number (an IPv4 address for stratum ≥ 2). */
  refId?: number;
  refMicros?: number;
  originMicros?: number;
  receiveMicros?: number;
  transmitMicros: number;
}

export function ntpPayload(s: NtpSpec): Uint8Array {
  const w = new ByteWriter(48);
  w.u8(((s.version ?? 4) << 3) | s.mode)
    .u8(s.stratum ?? 0)
    .u8(s.poll ?? 6)
    .u8((s.precision ?? -20) & 0xff);
  w.u32(s.mode === 4 ? 0x00000400 : 0).u32(s.mode === 4 ? 0x00000800 : 0);
  w.u32(s.refId ?? 0);
  ntpTs(w, s.refMicros ?? 0);
  ntpTs(w, s.originMicros ?? 0);
  ntpTs(w, s.receiveMicros ?? 0);
  ntpTs(w, s.transmitMicros);
  return w.finish();
}

/** Telnet server's opening option negotiation (DO ECHO-ish, WILL ECHO, WILL SGA) as busybox telnetd sends. */
export const TELNET_SERVER_HELLO = Uint8Array.of(
  0xff,
  0xfd,
  0x01,
  0xff,
  0xfd,
  0x1f,
  0xff,
  0xfb,
  0x01,
  0xff,
  0xfb,
  0x03,
);
/** Telnet client's reply (WONT ECHO, WILL NAWS, DO ECHO, DO SGA). */
export const TELNET_CLIENT_HELLO = Uint8Array.of(
  0xff,
  0xfc,
  0x01,
  0xff,
  0xfb,
  0x1f,
  0xff,
  0xfd,
  0x01,
  0xff,
  0xfd,
  0x03,
);

export function sshBanner(software: string): Uint8Array {
  return text(`SSH-2.0-${software}\r\n`);
}

export function modbusReadHoldingRequest(
  txId: number,
  unit: number,
  address: number,
  count: number,
): Uint8Array {
  return new ByteWriter(12).u16(txId).u16(0).u16(6).u8(unit).u8(3).u16(address).u16(count).finish();
}

export function modbusReadHoldingResponse(txId: number, unit: number, values: readonly number[]): Uint8Array {
  const w = new ByteWriter(9 + values.length * 2);
  w.u16(txId)
    .u16(0)
    .u16(3 + values.length * 2)
    .u8(unit)
    .u8(3)
    .u8(values.length * 2);
  for (const v of values) w.u16(v);
  return w.finish();
}

/** TPKT + COTP connection request (S7comm on TCP 102). */
export function s7CotpConnectRequest(srcRef: number): Uint8Array {
  const w = new ByteWriter(22);
  w.u8(3).u8(0).u16(22);
  w.u8(17).u8(0xe0).u16(0).u16(srcRef).u8(0);
  w.u8(0xc1).u8(2).u16(0x0100).u8(0xc2).u8(2).u16(0x0101).u8(0xc0).u8(1).u8(0x0a);
  return w.finish();
}

/** LIFX LAN protocol header (36 bytes) + payload: GetService (2), GetColor (101), LightState (107). */
export function lifxPacket(
  type: number,
  source: number,
  target: number,
  sequence: number,
  payload: Uint8Array = EMPTY,
): Uint8Array {
  const size = 36 + payload.length;
  const b = new Uint8Array(size);
  b[0] = size & 0xff;
  b[1] = size >>> 8;
  b[2] = 0x00;
  b[3] = (target === 0 ? 0x20 : 0) | 0x14; // protocol 1024, addressable, tagged for broadcast
  b[4] = source & 0xff;
  b[5] = (source >>> 8) & 0xff;
  b[6] = (source >>> 16) & 0xff;
  b[7] = source >>> 24;
  // target MAC, little-endian order as on the wire (6 bytes + 2 zero)
  const hi = Math.floor(target / 0x1_0000_0000);
  const lo = target >>> 0;
  b[8] = (hi >>> 8) & 0xff;
  b[9] = hi & 0xff;
  b[10] = lo >>> 24;
  b[11] = (lo >>> 16) & 0xff;
  b[12] = (lo >>> 8) & 0xff;
  b[13] = lo & 0xff;
  b[22] = 0x01; // res_required
  b[23] = sequence & 0xff;
  b[32] = type & 0xff;
  b[33] = type >>> 8;
  b.set(payload, 36);
  return b;
}

/** TP-Link Kasa local protocol (TCP 9999): 4-byte length + autokey XOR "encryption" of JSON. */
export function kasaMessage(json: string): Uint8Array {
  const plain = text(json);
  const out = new Uint8Array(4 + plain.length);
  w32(out, 0, plain.length);
  let key = 171;
  for (let i = 0; i < plain.length; i++) {
    const c = (plain[i] ?? 0) ^ key;
    key = c;
    out[4 + i] = c;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// TCP conversation builder

/** One side of a TCP connection: the MAC it sends from, its IP and port, its IP TTL. */
export interface TcpEndpoint {
  mac: number;
  ip: number;
  port: number;
  ttl: number;
}

export type FrameSink = (tsMicros: number, frame: Uint8Array) => void;

const SYN_OPTIONS = Uint8Array.of(0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07, 0x01, 0x01, 0x04, 0x02);
const SYNACK_OPTIONS = Uint8Array.of(0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02, 0x01, 0x03, 0x03, 0x07);
const MSS = 1448;

/**
 * Builds a plausible TCP conversation between a client and a server, frame by frame, moving its own clock
 * forward (`t`, µs). Sequence numbers, ACKs and flags are consistent, so a flow table sees real TCP states.
 */
export class TcpConversation {
  t: number;
  private cSeq: number;
  private sSeq: number;
  private cId: number;
  private sId: number;
  closed = false;
  constructor(
    private readonly sink: FrameSink,
    readonly client: TcpEndpoint,
    readonly server: TcpEndpoint,
    startMicros: number,
    /** Round-trip time, µs. */
    readonly rtt: number,
    salt: number,
  ) {
    this.t = startMicros;
    this.cSeq = (salt * 2654435761) >>> 0;
    this.sSeq = (salt * 40503 + 0x5bd1e995) >>> 0;
    this.cId = (salt * 7919) & 0xffff;
    this.sId = (salt * 104729) & 0xffff;
  }

  private hdr(fromClient: boolean): Ipv4Header {
    const a = fromClient ? this.client : this.server;
    const b = fromClient ? this.server : this.client;
    const id = fromClient ? (this.cId = (this.cId + 1) & 0xffff) : (this.sId = (this.sId + 1) & 0xffff);
    return { srcMac: a.mac, dstMac: b.mac, srcIp: a.ip, dstIp: b.ip, ttl: a.ttl, id };
  }

  /** Emits one segment now from one side and advances that side's sequence number. */
  segment(fromClient: boolean, flags: number, payload: Uint8Array = EMPTY, options?: Uint8Array): this {
    const a = fromClient ? this.client : this.server;
    const b = fromClient ? this.server : this.client;
    const seq = fromClient ? this.cSeq : this.sSeq;
    const ack = flags & TCP_ACK ? (fromClient ? this.sSeq : this.cSeq) : 0;
    const seg: TcpSegment = { srcPort: a.port, dstPort: b.port, seq, ack, flags, payload };
    if (options) seg.options = options;
    if (!(flags & TCP_SYN)) seg.window = fromClient ? 501 : 509;
    this.sink(this.t, tcpFrame(this.hdr(fromClient), seg));
    const adv = payload.length + (flags & (TCP_SYN | TCP_FIN) ? 1 : 0);
    if (fromClient) this.cSeq = (this.cSeq + adv) >>> 0;
    else this.sSeq = (this.sSeq + adv) >>> 0;
    return this;
  }

  /** Advances the clock. */
  wait(micros: number): this {
    this.t += Math.max(1, Math.round(micros));
    return this;
  }

  /** SYN, SYN-ACK, ACK. */
  handshake(): this {
    this.segment(true, TCP_SYN, EMPTY, SYN_OPTIONS).wait(this.rtt / 2);
    this.segment(false, TCP_SYN | TCP_ACK, EMPTY, SYNACK_OPTIONS).wait(this.rtt / 2);
    return this.segment(true, TCP_ACK).wait(40);
  }

  /** A SYN answered by RST-ACK (closed port). */
  refused(): this {
    this.segment(true, TCP_SYN, EMPTY, SYN_OPTIONS).wait(this.rtt / 2);
    this.closed = true;
    return this.segment(false, TCP_RST | TCP_ACK).wait(this.rtt / 2);
  }

  /**
   * Sends `payload` from one side in MSS-sized segments (PSH on the last), the other side ACKing every
   * fourth segment (delayed ACK with receive offload). `gapMicros` spaces the segments (default: 12 µs/KB, a fast link).
   */
  send(fromClient: boolean, payload: Uint8Array, gapMicros = 0): this {
    let off = 0;
    let n = 0;
    while (off < payload.length) {
      const len = Math.min(MSS, payload.length - off);
      const last = off + len >= payload.length;
      this.segment(fromClient, TCP_ACK | (last ? TCP_PSH : 0), payload.subarray(off, off + len));
      off += len;
      n++;
      this.wait(gapMicros || 12 + len / 100);
      if (!last && n % 4 === 0) this.segment(!fromClient, TCP_ACK);
    }
    this.wait(this.rtt / 2);
    return this;
  }

  /** Sends `payload` and then the peer's ACK after half an RTT (request without an immediate answer). */
  sendAcked(fromClient: boolean, payload: Uint8Array): this {
    this.send(fromClient, payload);
    this.segment(!fromClient, TCP_ACK);
    return this.wait(this.rtt / 2);
  }

  /** Request from the client, response from the server (the request's ACK rides on the response). */
  exchange(request: Uint8Array, response: Uint8Array, serverThinkMicros = 0): this {
    this.send(true, request);
    if (serverThinkMicros > 0) this.wait(serverThinkMicros);
    this.send(false, response);
    this.segment(true, TCP_ACK);
    return this.wait(this.rtt / 2);
  }

  /** Orderly close started by one side: FIN-ACK, FIN-ACK, ACK. */
  close(fromClient = true): this {
    if (this.closed) return this;
    this.closed = true;
    this.segment(fromClient, TCP_FIN | TCP_ACK).wait(this.rtt / 2);
    this.segment(!fromClient, TCP_FIN | TCP_ACK).wait(this.rtt / 2);
    return this.segment(fromClient, TCP_ACK);
  }

  /** Abortive close: RST-ACK from one side. */
  reset(fromClient = true): this {
    if (this.closed) return this;
    this.closed = true;
    return this.segment(fromClient, TCP_RST | TCP_ACK);
  }

  /** Sets the clock (never backwards). */
  at(micros: number): this {
    if (micros > this.t) this.t = micros;
    return this;
  }
}

/**
 * True when an Ethernet/IPv4 frame's IPv4 header checksum and its UDP/TCP/ICMP checksum verify (frames
 * that are not IPv4 are accepted as is). For tests and self-checks of the builders.
 */
export function verifyChecksums(frame: Uint8Array): boolean {
  const et = ((frame[12] ?? 0) << 8) | (frame[13] ?? 0);
  if (et !== EtherTypes.IPV4) return true;
  const ihl = ((frame[ETH] ?? 0) & 15) * 4;
  if (internetChecksum(frame, ETH, ETH + ihl) !== 0) return false;
  const total = ((frame[ETH + 2] ?? 0) << 8) | (frame[ETH + 3] ?? 0);
  const proto = frame[ETH + 9] ?? 0;
  const o = ETH + ihl;
  const l4 = total - ihl;
  const rd = (i: number): number =>
    (((frame[i] ?? 0) << 24) |
      ((frame[i + 1] ?? 0) << 16) |
      ((frame[i + 2] ?? 0) << 8) |
      (frame[i + 3] ?? 0)) >>>
    0;
  const src = rd(ETH + 12);
  const dst = rd(ETH + 16);
  if (proto === 1) return internetChecksum(frame, o, o + l4) === 0;
  if (proto === 6 || proto === 17) {
    if (proto === 17 && frame[o + 6] === 0 && frame[o + 7] === 0) return true; // no checksum
    return checksumFinish(checksumAdd(frame, o, o + l4, pseudoSum(src, dst, proto, l4))) === 0;
  }
  return true;
}
