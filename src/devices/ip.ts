import { parseIp } from '../wire/addr.js';

/**
 * Both answers by address text, memoised: ingest asks them several times per flow (writer, detectors,
 * destination profiles) about the few addresses a network has. Bounded (cleared when full) because
 * addresses are attacker-controlled.
 */
const LOCAL = 1;
const SPECIAL = 2;
const classes = new Map<string, number>();
const MAX_CLASSES = 65_536;

function classOf(ip: string): number {
  let c = classes.get(ip);
  if (c === undefined) {
    c = (localIp(ip) ? LOCAL : 0) | (specialIp(ip) ? SPECIAL : 0);
    if (classes.size >= MAX_CLASSES) classes.clear();
    classes.set(ip, c);
  }
  return c;
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

function localIp(ip: string): boolean {
  const p = parseIp(ip);
  if (!p) return false;
  if (p.version === 4) {
    const a = p.ip4 >>> 24;
    const b = (p.ip4 >>> 16) & 0xff;
    return (
      a === 10 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      a === 127
    );
  }
  const first = p.bytes[0] ?? 0;
  const second = p.bytes[1] ?? 0;
  if ((first & 0xfe) === 0xfc) return true; // fc00::/7
  if (first === 0xfe && (second & 0xc0) === 0x80) return true; // fe80::/10
  return p.bytes.every((x, i) => (i === 15 ? x === 1 : x === 0)); // ::1
}

function specialIp(ip: string): boolean {
  const p = parseIp(ip);
  if (!p) return true;
  if (p.version === 4) {
    const a = p.ip4 >>> 24;
    return p.ip4 === 0 || p.ip4 >>> 0 === 0xffffffff || (a >= 224 && a <= 239) || (p.ip4 & 0xff) === 0xff;
  }
  return p.bytes[0] === 0xff || p.bytes.every((x) => x === 0);
}
