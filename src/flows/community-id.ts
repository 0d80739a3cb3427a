/**
 * Community ID flow hashing, version 1 (https://github.com/corelight/community-id-spec).
 * "1:" + base64(SHA-1(seed(2) saddr daddr proto(1) pad(1) sport(2) dport(2))) with the endpoints ordered so
 * both directions hash the same; ICMP/ICMPv6 type/code are mapped to port equivalents.
 */
import { hash } from 'node:crypto';

const ICMP4_COUNTERPART: Record<number, number> = {
  8: 0, // echo → echo reply
  0: 8,
  13: 14, // timestamp
  14: 13,
  15: 16, // information
  16: 15,
  10: 9, // router solicitation ↔ advertisement
  9: 10,
  17: 18, // address mask
  18: 17,
};

const ICMP6_COUNTERPART: Record<number, number> = {
  128: 129, // echo
  129: 128,
  133: 134, // router solicitation ↔ advertisement
  134: 133,
  135: 136, // neighbor solicitation ↔ advertisement
  136: 135,
  130: 131, // multicast listener query ↔ report
  131: 130,
  139: 140, // node information query ↔ response
  140: 139,
  144: 145, // home agent address discovery
  145: 144,
};

/**
 * ICMP port equivalents packed in one number (no allocation): bits 0–7 dport, 8–15 sport, bit 16 one-way.
 * Two-way messages: sport = type, dport = counterpart type. One-way: sport = type, dport = code.
 */
export function icmpPortEquivalents(type: number, code: number, v6: boolean): number {
  const cp = (v6 ? ICMP6_COUNTERPART : ICMP4_COUNTERPART)[type];
  if (cp === undefined) return 0x10000 | ((type & 0xff) << 8) | (code & 0xff);
  return ((type & 0xff) << 8) | cp;
}

export interface CommunityIdInput {
  /** 4 or 16 bytes each. */
  srcIp: Uint8Array;
  dstIp: Uint8Array;
  proto: number;
  /** Ports for TCP/UDP/SCTP; ICMP type and code for ICMP/ICMPv6 (srcPort = type, dstPort = code). */
  srcPort?: number;
  dstPort?: number;
  seed?: number;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

const PORT_PROTOS = new Set([6, 17, 132]);

/** Community ID v1 string, e.g. "1:LQU9qZlK+B5F3KDmev6m5PMibrg=". */
export function communityId(input: CommunityIdInput): string {
  const { proto } = input;
  let saddr = input.srcIp;
  let daddr = input.dstIp;
  let sport = -1;
  let dport = -1;
  let oneWay = false;
  if (proto === 1 || proto === 58) {
    const eq = icmpPortEquivalents(input.srcPort ?? 0, input.dstPort ?? 0, proto === 58);
    sport = (eq >> 8) & 0xff;
    dport = eq & 0xff;
    oneWay = (eq & 0x10000) !== 0;
  } else if (PORT_PROTOS.has(proto) && input.srcPort !== undefined && input.dstPort !== undefined) {
    sport = input.srcPort;
    dport = input.dstPort;
  }
  const hasPorts = sport >= 0 && dport >= 0;
  const cmp = compareBytes(saddr, daddr);
  const ordered = oneWay || cmp < 0 || (cmp === 0 && hasPorts && sport < dport);
  if (!ordered) {
    [saddr, daddr] = [daddr, saddr];
    [sport, dport] = [dport, sport];
  }
  const seed = input.seed ?? 0;
  const buf = new Uint8Array(2 + saddr.length + daddr.length + 2 + (hasPorts ? 4 : 0));
  let o = 0;
  buf[o++] = (seed >> 8) & 0xff;
  buf[o++] = seed & 0xff;
  buf.set(saddr, o);
  o += saddr.length;
  buf.set(daddr, o);
  o += daddr.length;
  buf[o++] = proto & 0xff;
  buf[o++] = 0;
  if (hasPorts) {
    buf[o++] = (sport >> 8) & 0xff;
    buf[o++] = sport & 0xff;
    buf[o++] = (dport >> 8) & 0xff;
    buf[o++] = dport & 0xff;
  }
  return `1:${hash('sha1', buf, 'base64')}`;
}

const V4_PORTS = new Uint8Array(16);
const V4_NO_PORTS = new Uint8Array(12);

/**
 * communityIdV4 results by their hash input: 5-tuples recur (NTP, mDNS, SSDP and other fixed-port services,
 * a device reconnecting from the same port) and SHA-1 plus base64 cost far more than comparing four words.
 * Direct-mapped, each entry verified word by word, so a hit is exact; bounded (V4_MEMO_SLOTS entries).
 */
const V4_MEMO_SLOTS = 16384;
const v4MemoKeys = new Int32Array(V4_MEMO_SLOTS * 4);
const v4MemoValues: (string | null)[] = new Array<string | null>(V4_MEMO_SLOTS).fill(null);

/**
 * communityId for IPv4 addresses given as unsigned 32-bit numbers, without allocating the input (the flow
 * table's path): the same string communityId returns for their 4-byte forms.
 */
export function communityIdV4(
  srcIp: number,
  dstIp: number,
  proto: number,
  srcPort?: number,
  dstPort?: number,
  seed = 0,
): string {
  let saddr = srcIp >>> 0;
  let daddr = dstIp >>> 0;
  let sport = -1;
  let dport = -1;
  let oneWay = false;
  if (proto === 1 || proto === 58) {
    const eq = icmpPortEquivalents(srcPort ?? 0, dstPort ?? 0, proto === 58);
    sport = (eq >> 8) & 0xff;
    dport = eq & 0xff;
    oneWay = (eq & 0x10000) !== 0;
  } else if (PORT_PROTOS.has(proto) && srcPort !== undefined && dstPort !== undefined) {
    sport = srcPort;
    dport = dstPort;
  }
  const hasPorts = sport >= 0 && dport >= 0;
  const ordered = oneWay || saddr < daddr || (saddr === daddr && hasPorts && sport < dport);
  if (!ordered) {
    [saddr, daddr] = [daddr, saddr];
    [sport, dport] = [dport, sport];
  }
  // The hash input as four words: the memo key.
  const w0 = saddr | 0;
  const w1 = daddr | 0;
  const w2 = ((seed & 0xffff) << 16) | ((proto & 0xff) << 8) | (hasPorts ? 1 : 0);
  const w3 = hasPorts ? ((sport & 0xffff) << 16) | (dport & 0xffff) : 0;
  let h = Math.imul(w0 ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ w1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ w2, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15) ^ w3, 0x2c1b3c6d);
  const slot = (h ^ (h >>> 16)) & (V4_MEMO_SLOTS - 1);
  const k = slot * 4;
  const known = v4MemoValues[slot];
  if (
    known !== null &&
    known !== undefined &&
    v4MemoKeys[k] === w0 &&
    v4MemoKeys[k + 1] === w1 &&
    v4MemoKeys[k + 2] === w2 &&
    v4MemoKeys[k + 3] === w3
  )
    return known;
  const buf = hasPorts ? V4_PORTS : V4_NO_PORTS;
  buf[0] = (seed >> 8) & 0xff;
  buf[1] = seed & 0xff;
  buf[2] = saddr >>> 24;
  buf[3] = (saddr >>> 16) & 0xff;
  buf[4] = (saddr >>> 8) & 0xff;
  buf[5] = saddr & 0xff;
  buf[6] = daddr >>> 24;
  buf[7] = (daddr >>> 16) & 0xff;
  buf[8] = (daddr >>> 8) & 0xff;
  buf[9] = daddr & 0xff;
  buf[10] = proto & 0xff;
  buf[11] = 0;
  if (hasPorts) {
    buf[12] = (sport >> 8) & 0xff;
    buf[13] = sport & 0xff;
    buf[14] = (dport >> 8) & 0xff;
    buf[15] = dport & 0xff;
  }
  const id = `1:${hash('sha1', buf, 'base64')}`;
  v4MemoKeys[k] = w0;
  v4MemoKeys[k + 1] = w1;
  v4MemoKeys[k + 2] = w2;
  v4MemoKeys[k + 3] = w3;
  v4MemoValues[slot] = id;
  return id;
}

/** Parses dotted-quad or IPv6 text into bytes (for callers holding strings; tests). */
export function ipTextToBytes(ip: string): Uint8Array {
  if (ip.includes(':')) {
    const [head = '', tail = ''] = ip.split('::');
    const h = head ? head.split(':') : [];
    const t = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
    const words = [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
    const out = new Uint8Array(16);
    words.forEach((w, i) => {
      const v = parseInt(w, 16);
      out[2 * i] = v >> 8;
      out[2 * i + 1] = v & 0xff;
    });
    return out;
  }
  return Uint8Array.from(ip.split('.').map(Number));
}
