import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { sentinelEthernetCaptures } from '../src/test-support/big-capture.js';

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
  const captures = sentinelEthernetCaptures(sharedData);
  const fd = openSync(path, 'w');
  let packets = 0;
  let bytes = 0;
  try {
    while (packets < minPackets) {
      for (const c of captures) {
        if (bytes === 0) bytes += writeSync(fd, c.header);
        bytes += writeSync(fd, c.records);
        packets += c.packets;
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
