/**
 * Datagrams the kernel dropped because a UDP socket's receive buffer was full, from /proc/net/udp and
 * /proc/net/udp6 (Linux; the last column, "drops", counts per socket). Elsewhere, or when /proc cannot be
 * read, the count is null.
 */
import { readFileSync } from 'node:fs';

/** The drops of the sockets bound to `port` (and to `address` unless it is a wildcard) in a /proc/net/udp text. */
export function udpDropsFromProc(text: string, port: number, address?: string): number | null {
  const wantPort = port.toString(16).toUpperCase().padStart(4, '0');
  const wantAddr = address ? procAddress(address) : null;
  let found = false;
  let drops = 0;
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    const local = cols[1];
    if (!local || cols[0] === 'sl') continue;
    const colon = local.lastIndexOf(':');
    if (colon < 0 || local.slice(colon + 1).toUpperCase() !== wantPort) continue;
    if (wantAddr !== null && local.slice(0, colon).toUpperCase() !== wantAddr) continue;
    const d = Number(cols[cols.length - 1]);
    if (Number.isFinite(d)) {
      found = true;
      drops += d;
    }
  }
  return found ? drops : null;
}

/** An IPv4 address as /proc/net/udp writes it (little-endian hex: 127.0.0.1 → 0100007F); null otherwise. */
function procAddress(address: string): string | null {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  if (!m) return null;
  const v = m.slice(1, 5).map(Number);
  if (v.every((x) => x === 0)) return null; // wildcard: any local address
  return v
    .reverse()
    .map((x) => x.toString(16).toUpperCase().padStart(2, '0'))
    .join('');
}

/** Kernel drops of the UDP socket bound to `port` (on `address`), or null when unknown. */
export function udpSocketDrops(port: number, address?: string): number | null {
  let total: number | null = null;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const d = udpDropsFromProc(text, port, file.endsWith('6') ? undefined : address);
    if (d !== null) total = (total ?? 0) + d;
  }
  return total;
}
