/**
 * TEST AND BENCH ONLY: the pieces of the bounded-memory ingest check, shared by
 * src/ingest/file-ingest-memory.int.test.ts (128 MB in `npm test`) and bench/ingest.ts (2 GB).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The IoT Sentinel Ethernet captures (microsecond, little-endian pcap, Ethernet), in a stable order: each
 * file's 24-byte header and its complete records (a truncated last record left out), with their count.
 */
export function sentinelEthernetCaptures(
  sharedData: string,
): { header: Buffer; records: Buffer; packets: number }[] {
  const root = join(sharedData, 'iot-sentinel-train');
  const out: { header: Buffer; records: Buffer; packets: number }[] = [];
  for (const dev of readdirSync(root).sort()) {
    const d = join(root, dev);
    if (!statSync(d).isDirectory()) continue;
    for (const f of readdirSync(d).sort()) {
      if (!f.endsWith('.pcap')) continue;
      const b = readFileSync(join(d, f));
      if (b.readUInt32LE(0) !== 0xa1b2c3d4 || b.readUInt32LE(20) !== 1) continue; // µs, LE, Ethernet
      let off = 24;
      let packets = 0;
      while (off + 16 <= b.length) {
        const cap = b.readUInt32LE(off + 8);
        if (off + 16 + cap > b.length) break;
        off += 16 + cap;
        packets++;
      }
      out.push({ header: b.subarray(0, 24), records: b.subarray(24, off), packets });
    }
  }
  return out;
}

/** Those captures concatenated, again and again, into one pcap of at least `bytes` (streamed). */
export function writeBigPcap(
  sharedData: string,
  path: string,
  bytes: number,
): { bytes: number; packets: number } {
  const captures = sentinelEthernetCaptures(sharedData);
  const fd = openSync(path, 'w');
  let written = 0;
  let packets = 0;
  try {
    while (written < bytes) {
      for (const c of captures) {
        if (written === 0) written += writeSync(fd, c.header);
        written += writeSync(fd, c.records);
        packets += c.packets;
        if (written >= bytes) break;
      }
    }
  } finally {
    closeSync(fd);
  }
  return { bytes: written, packets };
}

/** Runs node with `args` in `cwd`, sampling the child's VmHWM (peak resident set) until it exits. */
export async function peakRss(
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; peakMb: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  let peakKb = 0;
  const timer = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      // exited between two samples
    }
  }, 50);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearInterval(timer);
  return { code, peakMb: Math.round(peakKb / 1024), stdout, stderr };
}
