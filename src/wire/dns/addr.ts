/**
 * Address text helpers shared by the app-layer decoders and the flow table. (Candidates for a future
 * src/wire/addr.ts; kept here so this folder stays self-contained.)
 */

/** Dotted quad of an unsigned 32-bit IPv4 address. */
export function ipv4ToString(v: number): string {
  return `${(v >>> 24) & 0xff}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/** Dotted quad of 4 bytes at `off`. */
export function ipv4BytesToString(b: Uint8Array, off: number): string {
  return `${b[off] ?? 0}.${b[off + 1] ?? 0}.${b[off + 2] ?? 0}.${b[off + 3] ?? 0}`;
}

const words6 = new Int32Array(8);

/** RFC 5952 text of the 16-byte IPv6 address at `off` (longest zero run compressed, lower-case hex). */
export function ipv6ToString(b: Uint8Array, off: number): string {
  const w = words6;
  for (let i = 0; i < 8; i++) w[i] = ((b[off + 2 * i] ?? 0) << 8) | (b[off + 2 * i + 1] ?? 0);
  // IPv4-mapped ::ffff:a.b.c.d
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${ipv4BytesToString(b, off + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += '::';
      i += bestLen - 1;
      continue;
    }
    if (s.length > 0 && !s.endsWith(':')) s += ':';
    s += (w[i] ?? 0).toString(16);
  }
  return s;
}

const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const hex2 = (v: number): string => HEX2[v & 0xff] as string;

/** MAC text by 48-bit value: a capture holds few distinct MACs, and the flow table and observations ask for
 * the same ones per packet. Bounded (cleared when full) because MACs are attacker-controlled. */
const macCache = new Map<number, string>();
const MAC_CACHE_MAX = 4096;

/** Colon-separated lower-case MAC of a 48-bit integer, or null when negative (absent). */
export function macToString(mac: number): string | null {
  if (mac < 0) return null;
  let s = macCache.get(mac);
  if (s !== undefined) return s;
  const hi = Math.floor(mac / 0x1_0000_0000);
  const lo = mac >>> 0;
  s = `${hex2(hi >>> 8)}:${hex2(hi)}:${hex2(lo >>> 24)}:${hex2(lo >>> 16)}:${hex2(lo >>> 8)}:${hex2(lo)}`;
  if (macCache.size >= MAC_CACHE_MAX) macCache.clear();
  macCache.set(mac, s);
  return s;
}

/** Colon-separated lower-case hex of bytes (MAC addresses, client ids). */
export function hexColon(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (i ? ':' : '') + (b[i] ?? 0).toString(16).padStart(2, '0');
  return s;
}
