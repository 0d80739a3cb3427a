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

/** RFC 5952 text of the 16-byte IPv6 address at `off` (longest zero run compressed, lower-case hex). */
export function ipv6ToString(b: Uint8Array, off: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((b[off + 2 * i] ?? 0) << 8) | (b[off + 2 * i + 1] ?? 0));
  // IPv4-mapped ::ffff:a.b.c.d
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${ipv4BytesToString(b, off + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

/** Colon-separated lower-case MAC of a 48-bit integer, or null when negative (absent). */
export function macToString(mac: number): string | null {
  if (mac < 0) return null;
  let s = '';
  for (let i = 5; i >= 0; i--) {
    const byte = Math.floor(mac / 2 ** (8 * i)) & 0xff;
    s += (i === 5 ? '' : ':') + byte.toString(16).padStart(2, '0');
  }
  return s;
}

/** Colon-separated lower-case hex of bytes (MAC addresses, client ids). */
export function hexColon(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (i ? ':' : '') + (b[i] ?? 0).toString(16).padStart(2, '0');
  return s;
}
