import { readFileSync } from 'node:fs';
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

let registry: Map<string, string> | undefined;

/**
 * The registry as prefix → organisation name (first line only). The package's JSON holds each entry's postal
 * address too: parsed whole it costs ~24 MB of heap in every process; read line by line (one entry per
 * line) and keeping one copy of each name, about a fifth of that.
 */
function load(): Map<string, string> {
  if (registry) return registry;
  const text = readFileSync(createRequire(import.meta.url).resolve('oui-data'), 'utf8');
  const names = new Map<string, string>();
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^\s*"([0-9A-F]{6,9})"\s*:\s*("(?:[^"\\]|\\.)*")/gm)) {
    const name = (JSON.parse(m[2] as string) as string).split('\n')[0]?.trim();
    if (!name) continue;
    let v = names.get(name);
    if (v === undefined) names.set(name, (v = name));
    out.set(m[1] as string, v);
  }
  // RegExp's legacy statics (RegExp.input, $1…) keep the last subject alive: point them at a short string.
  /x/.exec('x');
  registry = out;
  return out;
}

/** The registered organisation for a MAC (its first line), or null for randomized/unknown addresses. */
export function vendorOf(mac: string): string | null {
  if (isLocallyAdministered(mac)) return null;
  const hex = mac.replaceAll(':', '').toUpperCase();
  const r = load();
  return r.get(hex.slice(0, 9)) ?? r.get(hex.slice(0, 7)) ?? r.get(hex.slice(0, 6)) ?? null;
}
