/**
 * Value helpers shared by the log and collector sources: strict time/number parsing, address validation and
 * normalisation (RFC 5952 IPv6 text, lower-case MACs), capped strings and the Community ID of a text 5-tuple.
 * Nothing here throws on bad input: invalid values come back as null.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ipv6ToString } from '../../wire/addr.js';
import { communityId } from '../../flows/community-id.js';

/** Longest string kept from attacker-controlled input (hostnames, user agents, labels …). */
export const MAX_VALUE_CHARS = 1024;

export function capStr(s: string, max = MAX_VALUE_CHARS): string {
  return s.length > max ? s.slice(0, max) : s;
}

const EPOCH_RE = /^(\d{1,12})(?:\.(\d{1,12}))?$/;

/** "1547127288.026074" (seconds since the epoch) → microseconds; null when not a plain decimal. */
export function epochTextToMicros(s: string): number | null {
  const m = EPOCH_RE.exec(s);
  if (!m) return null;
  const sec = Number(m[1]);
  const frac = m[2] ?? '';
  const us = frac ? Number(frac.padEnd(6, '0').slice(0, 6)) : 0;
  return sec * 1_000_000 + us;
}

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,12}))?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** ISO 8601 / RFC 3339 time ("2019-01-10T14:34:38.026074Z", Suricata's "…+0000") → µs; null when invalid. */
export function isoToMicros(s: string): number | null {
  const m = ISO_RE.exec(s);
  if (!m) return null;
  const [y, mo, d, h, mi, se] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return null;
  const ms = Date.UTC(y, mo - 1, d, h, mi, se);
  if (!Number.isFinite(ms)) return null;
  const frac = m[7] ?? '';
  let us = ms * 1000 + (frac ? Number(frac.padEnd(6, '0').slice(0, 6)) : 0);
  const tz = m[8];
  if (tz && tz !== 'Z' && tz !== 'z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return null;
    us -= sign * (oh * 60 + om) * 60_000_000;
  }
  return us;
}

/** A number of seconds (JSON number) → µs, null when not finite or negative. */
export function secondsToMicros(v: number): number | null {
  if (!Number.isFinite(v) || v < 0 || v > 1e11) return null;
  return Math.round(v * 1_000_000);
}

/** Time in any of the forms logs use: epoch seconds as a number or text, or ISO 8601 text. */
export function anyTimeToMicros(v: unknown): number | null {
  if (typeof v === 'number') return secondsToMicros(v);
  if (typeof v === 'string') return epochTextToMicros(v) ?? isoToMicros(v);
  return null;
}

/** Non-negative safe integer from text ("123") or a JSON number; null otherwise. */
export function toCount(v: unknown): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : null;
  if (typeof v === 'string' && /^\d{1,15}$/.test(v)) return Number(v);
  return null;
}

export function toPort(v: unknown): number | null {
  const n = toCount(v);
  return n !== null && n <= 65535 ? n : null;
}

export interface ParsedIp {
  /** Canonical text: dotted quad, or RFC 5952 IPv6. */
  text: string;
  /** 4 or 16 bytes. */
  bytes: Uint8Array;
}

function parseV4(s: string, out: Uint8Array, at: number): boolean {
  const p = s.split('.');
  if (p.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const x = p[i] ?? '';
    if (!/^\d{1,3}$/.test(x)) return false;
    const v = Number(x);
    if (v > 255) return false;
    out[at + i] = v;
  }
  return true;
}

/** Validates and normalises an IPv4/IPv6 address text (zone ids and IPv4-mapped forms accepted). */
export function parseIp(raw: string): ParsedIp | null {
  if (raw.length > 64) return null;
  if (isIPv4(raw)) {
    const b = new Uint8Array(4);
    if (!parseV4(raw, b, 0)) return null;
    return { text: `${b[0]}.${b[1]}.${b[2]}.${b[3]}`, bytes: b };
  }
  const s = raw.split('%')[0] ?? '';
  if (!isIPv6(s)) return null;
  const b = new Uint8Array(16);
  let head = s;
  let v4tail: string | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    v4tail = s.slice(lastColon + 1);
    head = s.slice(0, lastColon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const totalWords = v4tail ? 6 : 8;
  const [l = '', r] = head.split('::');
  const left = l ? l.split(':') : [];
  const right = r === undefined ? [] : r ? r.split(':') : [];
  if (r === undefined && left.length !== totalWords) return null;
  const words = [
    ...left,
    ...new Array<string>(Math.max(0, totalWords - left.length - right.length)).fill('0'),
    ...right,
  ];
  if (words.length !== totalWords) return null;
  for (let i = 0; i < totalWords; i++) {
    const w = words[i] ?? '';
    if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return null;
    const v = parseInt(w, 16);
    b[2 * i] = v >> 8;
    b[2 * i + 1] = v & 0xff;
  }
  if (v4tail && !parseV4(v4tail, b, 12)) return null;
  return { text: ipv6ToString(b, 0), bytes: b };
}

const MAC_RE = /^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(?:\1[0-9a-fA-F]{2}){4}$/;

/** "AA-BB-CC-DD-EE-FF" / "aa:bb:…" → "aa:bb:cc:dd:ee:ff"; null when not a MAC-48. */
export function normalizeMac(raw: string): string | null {
  if (!MAC_RE.test(raw)) return null;
  return raw.toLowerCase().replace(/-/g, ':');
}

/** Community ID v1 of a flow given as validated addresses (ICMP: ports are type and code). */
export function communityIdOf(
  src: ParsedIp,
  dst: ParsedIp,
  proto: number,
  srcPort: number | null,
  dstPort: number | null,
  seed = 0,
): string {
  return communityId({
    srcIp: src.bytes,
    dstIp: dst.bytes,
    proto,
    srcPort: srcPort ?? undefined,
    dstPort: dstPort ?? undefined,
    seed,
  });
}

/** Transport names used by Zeek ("tcp", "udp", "icmp") and Suricata ("TCP", "IPv6-ICMP", "47") → number. */
export function protoNumber(name: string, v6: boolean): number | null {
  switch (name.toLowerCase()) {
    case 'tcp':
      return 6;
    case 'udp':
      return 17;
    case 'icmp':
      return v6 ? 58 : 1;
    case 'ipv6-icmp':
    case 'icmpv6':
    case 'icmp6':
      return 58;
    case 'sctp':
      return 132;
    case 'gre':
      return 47;
    default: {
      const n = toCount(name);
      return n !== null && n <= 255 ? n : null;
    }
  }
}
