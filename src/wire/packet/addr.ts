/**
 * Address formatting and parsing helpers. These allocate strings: use them off the hot path (logging,
 * output, inventory), never per packet inside decodePacket.
 */

/** A 48-bit MAC held in a number → "aa:bb:cc:dd:ee:ff" (lower case). */
export function macToString(n: number): string {
  let s = '';
  for (let i = 5; i >= 0; i--) {
    const b = Math.floor(n / 2 ** (8 * i)) % 256;
    s += (b < 16 ? '0' : '') + b.toString(16) + (i > 0 ? ':' : '');
  }
  return s;
}

/** An unsigned 32-bit IPv4 address → dotted quad. */
export function ip4ToString(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** The 16 bytes at `offset` → RFC 5952 text (lower case, longest zero run ≥ 2 groups compressed, IPv4-mapped as ::ffff:a.b.c.d). */
export function ip6ToString(bytes: Uint8Array, offset = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(((bytes[offset + 2 * i] ?? 0) << 8) | (bytes[offset + 2 * i + 1] ?? 0));
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    const v4 = (((g[6] ?? 0) << 16) | (g[7] ?? 0)) >>> 0;
    return `::ffff:${ip4ToString(v4)}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  const hex = (i: number): string => (g[i] ?? 0).toString(16);
  if (bestStart < 0) return g.map((_, i) => hex(i)).join(':');
  const head = g.slice(0, bestStart).map((_, i) => hex(i));
  const tail = g.slice(bestStart + bestLen).map((_, i) => hex(bestStart + bestLen + i));
  return `${head.join(':')}::${tail.join(':')}`;
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

/** Parse a dotted IPv4 address → unsigned 32-bit number, or null. */
export function parseIp4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i] ?? '';
    if (part.length > 1 && part.startsWith('0')) return null;
    const v = Number(part);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n;
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
