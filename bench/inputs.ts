import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Benchmark inputs built from the shared real captures (never committed): the IoT Sentinel device-setup
 * captures concatenated into one Ethernet pcap, repeated until it holds at least `minPackets` packets.
 */
export function buildIotPcap(
  sharedData: string,
  outDir: string,
  minPackets = 1_170_000,
): { path: string; packets: number; bytes: number } {
  const path = join(outDir, `iot-${minPackets}.pcap`);
  const meta = `${path}.json`;
  if (existsSync(path) && existsSync(meta))
    return JSON.parse(readFileSync(meta, 'utf8')) as { path: string; packets: number; bytes: number };
  const root = join(sharedData, 'iot-sentinel-train');
  const files: string[] = [];
  for (const dev of readdirSync(root).sort()) {
    const d = join(root, dev);
    if (!statSync(d).isDirectory()) continue;
    for (const f of readdirSync(d).sort()) if (f.endsWith('.pcap')) files.push(join(d, f));
  }
  const fd = openSync(path, 'w');
  let packets = 0;
  let bytes = 0;
  let wroteHeader = false;
  try {
    while (packets < minPackets) {
      for (const f of files) {
        const b = readFileSync(f);
        if (b.readUInt32LE(0) !== 0xa1b2c3d4 || b.readUInt32LE(20) !== 1) continue; // µs, little-endian, Ethernet
        if (!wroteHeader) {
          writeSync(fd, b.subarray(0, 24));
          bytes += 24;
          wroteHeader = true;
        }
        let off = 24;
        while (off + 16 <= b.length) {
          const cap = b.readUInt32LE(off + 8);
          if (off + 16 + cap > b.length) break;
          off += 16 + cap;
          packets++;
        }
        writeSync(fd, b.subarray(24, off));
        bytes += off - 24;
      }
    }
  } finally {
    closeSync(fd);
  }
  const info = { path, packets, bytes };
  writeFileSyncJson(meta, info);
  return info;
}

function writeFileSyncJson(p: string, v: unknown) {
  const fd = openSync(p, 'w');
  writeSync(fd, JSON.stringify(v));
  closeSync(fd);
}
