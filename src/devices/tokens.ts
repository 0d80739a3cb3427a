/**
 * Type-level tokens of identifying signals, with whatever names ONE physical unit dropped: a device's own
 * MAC or IP inside a host name or DNS query, serial-number-like hex runs, reverse lookups (.arpa) and
 * link-local names. What remains (registered domains, product words, vendor classes) describes a kind of
 * device, so the model learns types rather than units.
 */

/** FNV-1a 32-bit. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function bucketOf(token: string, buckets: number): number {
  return fnv1a(token) % buckets;
}

const TWO_LEVEL_SUFFIX = /^(co|com|net|org|gov|edu|ac|ne|or)$/;

/** The registered domain (eTLD+1, approximated): "a.b.tplinkcloud.com" → "tplinkcloud.com". */
export function registeredDomain(name: string): string | null {
  const labels = name.toLowerCase().replace(/\.$/, '').split('.').filter(Boolean);
  if (labels.length < 2) return null;
  const tld = labels[labels.length - 1] as string;
  const second = labels[labels.length - 2] as string;
  if (/^\d+$/.test(tld)) return null; // an IP address
  if (labels.length >= 3 && tld.length === 2 && TWO_LEVEL_SUFFIX.test(second))
    return labels.slice(-3).join('.');
  return `${second}.${tld}`;
}

/** Hex digits of a MAC ("aa:bb:…" → "aabb…"), for spotting names built from it. */
const macHex = (mac: string | null): string | null => (mac ? mac.replaceAll(':', '').toLowerCase() : null);

/** True when a name refers to one unit: contains its MAC (or the last 3 bytes of it) or its IP. */
export function isUnitSpecific(name: string, mac: string | null, ip: string | null): boolean {
  const n = name.toLowerCase();
  const hex = macHex(mac);
  const flat = n.replace(/[^0-9a-f]/g, '');
  if (hex && (flat.includes(hex.slice(6)) || n.includes(hex))) return true;
  if (ip && (n.includes(ip) || n.includes(ip.replaceAll('.', '-')))) return true;
  return false;
}

/** A DNS query name as a type-level token (its registered domain), or null when it must not be used. */
export function dnsToken(name: string, mac: string | null, ip: string | null): string | null {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (n.endsWith('.arpa') || n.endsWith('.local') || !n.includes('.')) return null;
  if (isUnitSpecific(n, mac, ip)) return null;
  return registeredDomain(n);
}

/**
 * Word tokens of a free-text value (host name, user agent, server header, vendor class): lower-case
 * alphanumeric runs, without serial-like runs (4+ hex characters with a digit, pure numbers of 4+ digits)
 * and without anything built from the unit's MAC or IP.
 */
export function wordTokens(value: string, mac: string | null, ip: string | null): string[] {
  if (isUnitSpecific(value, mac, ip)) {
    const hex = macHex(mac);
    if (hex) value = value.toLowerCase().replaceAll(hex.slice(6), ' ');
  }
  const out = new Set<string>();
  for (const t of value.toLowerCase().split(/[^a-z0-9]+/)) {
    if (t.length < 2 || t.length > 32) continue;
    if (/^\d{4,}$/.test(t)) continue;
    if (t.length >= 4 && /^[0-9a-f]+$/.test(t) && /\d/.test(t)) continue;
    out.add(t);
  }
  return [...out];
}
