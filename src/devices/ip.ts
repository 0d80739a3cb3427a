import { parseIp, parseIp4 } from '../wire/addr.js';

/**
 * Both answers by address text: ingest asks them several times per flow (writer, detectors, destination
 * profiles). Plain dotted quads are read on the spot; other text (IPv6) is memoised, bounded (cleared when
 * full) because addresses are attacker-controlled.
 */
const LOCAL = 1;
const SPECIAL = 2;
const classes = new Map<string, number>();
const MAX_CLASSES = 65_536;

function classOf(ip: string): number {
  // A plain dotted quad is classified faster than a memo of every internet peer can be looked up.
  const v4 = parseIp4(ip);
  if (v4 !== null) return ip4Class(v4);
  let c = classes.get(ip);
  if (c === undefined) {
    c = classify(ip);
    if (classes.size >= MAX_CLASSES) classes.clear();
    classes.set(ip, c);
  }
  return c;
}

const ip4Class = (ip4: number): number => (localIp4(ip4) ? LOCAL : 0) | (specialIp4(ip4) ? SPECIAL : 0);

/** IPv6, and IPv4 with spaces around. */
function classify(ip: string): number {
  const p = parseIp(ip);
  if (!p) return SPECIAL; // not an address: never a device, never a peer
  if (p.version === 4) return ip4Class(p.ip4);
  return (localIp6(p.bytes) ? LOCAL : 0) | (specialIp6(p.bytes) ? SPECIAL : 0);
}

/**
 * Is this address on a local network (where the devices we inventory live)? RFC 1918, CGNAT 100.64/10,
 * link-local, loopback, IPv6 ULA fc00::/7 and link-local fe80::/10. Internet peers are never devices.
 */
export function isLocalIp(ip: string): boolean {
  return (classOf(ip) & LOCAL) !== 0;
}

/** Broadcast, multicast and unspecified addresses: never a device's own address. */
export function isSpecialIp(ip: string): boolean {
  return (classOf(ip) & SPECIAL) !== 0;
}

/** A device's own address: local and not broadcast, multicast or unspecified. */
export function isDeviceIp(ip: string): boolean {
  return classOf(ip) === LOCAL;
}

/** An internet peer: a public unicast address (neither local nor special). */
export function isPublicIp(ip: string): boolean {
  return classOf(ip) === 0;
}

function localIp4(ip4: number): boolean {
  const a = ip4 >>> 24;
  const b = (ip4 >>> 16) & 0xff;
  return (
    a === 10 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    a === 127
  );
}

function localIp6(bytes: Uint8Array): boolean {
  const first = bytes[0] ?? 0;
  const second = bytes[1] ?? 0;
  if ((first & 0xfe) === 0xfc) return true; // fc00::/7
  if (first === 0xfe && (second & 0xc0) === 0x80) return true; // fe80::/10
  return bytes.every((x, i) => (i === 15 ? x === 1 : x === 0)); // ::1
}

function specialIp4(ip4: number): boolean {
  const a = ip4 >>> 24;
  return ip4 === 0 || ip4 >>> 0 === 0xffffffff || (a >= 224 && a <= 239) || (ip4 & 0xff) === 0xff;
}

function specialIp6(bytes: Uint8Array): boolean {
  return bytes[0] === 0xff || bytes.every((x) => x === 0);
}
