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

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The registry as prefix → organisation name (first line only). The package's JSON holds each entry's postal
 * address too: parsed whole it costs ~24 MB of heap in every process. Scanned as bytes instead (one
 * `"PREFIX": "Name\nAddress…"` entry per line), with each name decoded on its own (no string keeps the
 * file alive) and one copy of each name, it costs about 7 MB.
 */
function load(): Map<string, string> {
  if (registry) return registry;
  const buf = readFileSync(createRequire(import.meta.url).resolve('oui-data'));
  const names = new Map<string, string>();
  const out = new Map<string, string>();
  let i = 0;
  while (i < buf.length) {
    const eol = buf.indexOf(0x0a, i);
    const end = eol < 0 ? buf.length : eol;
    const k0 = buf.indexOf(QUOTE, i);
    const k1 = k0 < 0 || k0 >= end ? -1 : buf.indexOf(QUOTE, k0 + 1);
    const v0 = k1 < 0 || k1 >= end ? -1 : buf.indexOf(QUOTE, k1 + 1);
    if (v0 >= 0 && v0 < end && k1 - k0 - 1 >= 6 && k1 - k0 - 1 <= 9) {
      // The value's first line: up to its first escape (\n, normally) or its closing quote.
      let j = v0 + 1;
      while (j < end && buf[j] !== QUOTE && buf[j] !== BACKSLASH) j++;
      let name: string | undefined;
      if (buf[j] === BACKSLASH && buf[j + 1] !== 0x6e) {
        // Another escape inside the name: unescape the whole value.
        let q = j;
        while (q < end && buf[q] !== QUOTE) q += buf[q] === BACKSLASH ? 2 : 1;
        name = (JSON.parse(buf.toString('utf8', v0, q + 1)) as string).split('\n')[0];
      } else name = buf.toString('utf8', v0 + 1, j);
      name = name?.trim();
      if (name) {
        let v = names.get(name);
        if (v === undefined) names.set(name, (v = name));
        out.set(buf.toString('latin1', k0 + 1, k1), v);
      }
    }
    i = end + 1;
  }
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
