/**
 * Address text and parsing for the wire decoders, the flow table and everything above them. The formatters
 * are on hot paths (flow export, observations): no per-call arrays, and MAC text is cached.
 */

/** Dotted quad of an unsigned 32-bit IPv4 address. */
export function ipv4ToString(v: number): string {
  return `${(v >>> 24) & 0xff}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/**
 * ipv4ToString memoised by address: a capture has few distinct addresses and the flow table and the
 * observations ask for the same ones again and again. A direct-mapped table (a slot per hash of the
 * address, a miss takes the slot over), so it is bounded whatever the traffic and a stream of new addresses
 * (a flow exporter's internet peers) costs only their strings: a Map cleared when full grew and rehashed its
 * table all the time then. `v` may be signed or unsigned (the same 32 bits).
 */
export function ipv4Text(v: number): string {
  const k = v | 0;
  const slot = Math.imul(k, 0x9e3779b1) >>> (32 - IP4_BITS);
  if (ip4Keys[slot] === k && ip4Texts[slot] !== '') return ip4Texts[slot] as string;
  const s = ipv4ToString(k >>> 0);
  ip4Keys[slot] = k;
  ip4Texts[slot] = s;
  return s;
}

const IP4_BITS = 13;
const ip4Keys = new Int32Array(1 << IP4_BITS);
/** '' marks an empty slot (no address text is empty). */
const ip4Texts: string[] = new Array<string>(1 << IP4_BITS).fill('');

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

/**
 * MAC text by 48-bit value: a capture holds few distinct MACs, and the flow table and observations ask for
 * the same ones per packet. Direct-mapped (MAC_SLOTS entries, each holding its value, so a hit is exact) and
 * so bounded, because MACs are attacker-controlled. Not a Map: a 48-bit key is a heap number to allocate and
 * hash as a double on every lookup.
 */
const MAC_BITS = 12;
const MAC_SLOTS = 1 << MAC_BITS;
const macKeys = new Float64Array(MAC_SLOTS).fill(NaN);
const macTexts: string[] = new Array<string>(MAC_SLOTS).fill('');

/** Colon-separated lower-case MAC of a 48-bit integer ("aa:bb:cc:dd:ee:ff"). */
export function macToString(mac: number): string {
  const hi = Math.floor(mac / 0x1_0000_0000);
  const lo = mac >>> 0;
  const slot = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> (32 - MAC_BITS);
  if (macKeys[slot] === mac) return macTexts[slot] as string;
  const s = `${hex2(hi >>> 8)}:${hex2(hi)}:${hex2(lo >>> 24)}:${hex2(lo >>> 16)}:${hex2(lo >>> 8)}:${hex2(lo)}`;
  macKeys[slot] = mac;
  macTexts[slot] = s;
  return s;
}

/** MAC text, or null when the value is negative (PacketInfo's "no MAC"). */
export function macOrNull(mac: number): string | null {
  return mac < 0 ? null : macToString(mac);
}

/** Colon-separated lower-case hex of bytes (MAC addresses, client ids). */
export function hexColon(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (i ? ':' : '') + (b[i] ?? 0).toString(16).padStart(2, '0');
  return s;
}

/** Same as ipv4ToString (the name the packet decoder's users know). */
export const ip4ToString = ipv4ToString;

/** RFC 5952 text of the 16 bytes at `offset` (default 0). */
export function ip6ToString(bytes: Uint8Array, offset = 0): string {
  return ipv6ToString(bytes, offset);
}

/** "aa:bb:cc:dd:ee:ff", "aa-bb-…" or "aabb.ccdd.eeff" → 48-bit number, or null when not a MAC. */
export function parseMac(s: string): number | null {
  const hex = s.trim().toLowerCase();
  let digits: string;
  if (/^[0-9a-f]{1,2}([:-])[0-9a-f]{1,2}(\1[0-9a-f]{1,2}){4}$/.test(hex)) {
    digits = hex
      .split(/[:-]/)
      .map((p) => p.padStart(2, '0'))
      .join('');
  } else if (/^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/.test(hex)) {
    digits = hex.replaceAll('.', '');
  } else if (/^[0-9a-f]{12}$/.test(hex)) {
    digits = hex;
  } else {
    return null;
  }
  return parseInt(digits, 16);
}

export type ParsedIp = { version: 4; ip4: number } | { version: 6; bytes: Uint8Array };

/**
 * Parse a dotted IPv4 address (four decimal octets ≤ 255, no leading zeros, nothing around) → unsigned
 * 32-bit number, or null. Read character by character, without a regex or an object: ingest asks about
 * several addresses per flow, and a flow exporter's peers are mostly new ones.
 */
export function parseIp4(s: string): number | null {
  const len = s.length;
  if (len < 7 || len > 15) return null;
  let n = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < len; i++) {
    const ch = s.charCodeAt(i);
    if (ch === 0x2e) {
      if (digits === 0 || dots === 3) return null;
      n = n * 256 + octet;
      dots++;
      octet = 0;
      digits = 0;
    } else if (ch >= 0x30 && ch <= 0x39) {
      if (digits === 1 && octet === 0) return null; // leading zero
      octet = octet * 10 + (ch - 0x30);
      if (++digits > 3 || octet > 255) return null;
    } else return null;
  }
  if (dots !== 3 || digits === 0) return null;
  return n * 256 + octet;
}

/** Parse an IPv6 address (with :: and an optional trailing dotted IPv4) → 16 bytes, or null. */
export function parseIp6(s: string): Uint8Array | null {
  let str = s;
  const pct = str.indexOf('%');
  if (pct >= 0) str = str.slice(0, pct);
  if (!/^[0-9a-fA-F:.]+$/.test(str)) return null;
  const out = new Uint8Array(16);
  const dbl = str.indexOf('::');
  if (dbl !== str.lastIndexOf('::')) return null;
  const parseGroups = (part: string): number[] | null => {
    if (part === '') return [];
    const groups: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const it = items[i] ?? '';
      if (it.includes('.')) {
        if (i !== items.length - 1) return null;
        const v4 = parseIp4(it);
        if (v4 === null) return null;
        groups.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return null;
        groups.push(parseInt(it, 16));
      }
    }
    return groups;
  };
  let groups: number[];
  if (dbl >= 0) {
    const head = parseGroups(str.slice(0, dbl));
    const tail = parseGroups(str.slice(dbl + 2));
    if (head === null || tail === null || head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseGroups(str);
    if (all === null || all.length !== 8) return null;
    groups = all;
  }
  groups.forEach((v, i) => {
    out[2 * i] = v >>> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

/** Parse an IPv4 or IPv6 address, or null when it is neither. */
export function parseIp(s: string): ParsedIp | null {
  const t = s.trim();
  if (t.includes(':')) {
    const bytes = parseIp6(t);
    return bytes ? { version: 6, bytes } : null;
  }
  const ip4 = parseIp4(t);
  return ip4 === null ? null : { version: 4, ip4 };
}
