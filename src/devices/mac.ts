import { createRequire } from 'node:module';

/**
 * MAC address facts: normalisation, locally administered (randomized) addresses, and the IEEE registry
 * vendor (MA-L, MA-M and MA-S from the oui-data package, longest prefix first).
 */

const MAC =
  /^([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})$/i;

/** "AA-BB-CC-DD-EE-FF" / "aabb.ccdd.eeff" / "aabbccddeeff" → "aa:bb:cc:dd:ee:ff", or null. */
export function normalizeMac(s: string): string | null {
  const m = MAC.exec(s.replaceAll('.', '').trim());
  return m ? m.slice(1, 7).join(':').toLowerCase() : null;
}

/** The locally administered bit (second-least-significant bit of the first octet): randomized or virtual. */
export function isLocallyAdministered(mac: string): boolean {
  const first = Number.parseInt(mac.slice(0, 2), 16);
  return (first & 0x02) !== 0;
}

export function isMulticastMac(mac: string): boolean {
  return (Number.parseInt(mac.slice(0, 2), 16) & 0x01) !== 0;
}

let registry: Record<string, string> | undefined;
function load(): Record<string, string> {
  registry ??= createRequire(import.meta.url)('oui-data') as Record<string, string>;
  return registry;
}

/** The registered organisation for a MAC (its first line), or null for randomized/unknown addresses. */
export function vendorOf(mac: string): string | null {
  if (isLocallyAdministered(mac)) return null;
  const hex = mac.replaceAll(':', '').toUpperCase();
  const r = load();
  const entry = r[hex.slice(0, 9)] ?? r[hex.slice(0, 7)] ?? r[hex.slice(0, 6)];
  if (!entry) return null;
  return entry.split('\n')[0]?.trim() || null;
}
