/**
 * Classic pcap output (microsecond timestamps, little-endian, LINKTYPE_ETHERNET) for simulated frames:
 * an in-memory encoder, a streaming writer with back-pressure, and `simulateToPcap` which writes a whole
 * simulated period to a file in bounded memory (one simulated minute at a time).
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { DemoNetworkOptions, GroundTruth, IncidentKind, SimFrame } from './network.js';
import { createDemoNetwork } from './network.js';

export const PCAP_SNAPLEN = 262_144;
export const LINKTYPE_ETHERNET = 1;

/** The 24-byte global header: magic a1b2c3d4 (LE), version 2.4, snaplen, link type. */
export function pcapGlobalHeader(snaplen = PCAP_SNAPLEN, linkType = LINKTYPE_ETHERNET): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(0xa1b2c3d4, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeInt32LE(0, 8);
  b.writeUInt32LE(0, 12);
  b.writeUInt32LE(snaplen, 16);
  b.writeUInt32LE(linkType, 20);
  return b;
}

/** One record: 16-byte header (seconds, microseconds, caplen, wire length) + frame. */
export function pcapRecord(f: SimFrame): Buffer {
  const b = Buffer.alloc(16 + f.frame.length);
  const sec = Math.floor(f.tsMicros / 1e6);
  b.writeUInt32LE(sec >>> 0, 0);
  b.writeUInt32LE(f.tsMicros - sec * 1e6, 4);
  b.writeUInt32LE(f.frame.length, 8);
  b.writeUInt32LE(f.frame.length, 12);
  b.set(f.frame, 16);
  return b;
}

/** A complete pcap file in memory (for small captures and tests). */
export function framesToPcap(frames: Iterable<SimFrame>): Buffer {
  const parts: Buffer[] = [pcapGlobalHeader()];
  for (const f of frames) parts.push(pcapRecord(f));
  return Buffer.concat(parts);
}

/** Writes pcap records to a stream, waiting for 'drain' when the stream's buffer is full. */
export class PcapWriter {
  frames = 0;
  bytes = 0;
  private started = false;
  constructor(private readonly out: Writable) {}

  private async put(b: Buffer): Promise<void> {
    this.bytes += b.length;
    if (!this.out.write(b)) await once(this.out, 'drain');
  }

  async write(f: SimFrame): Promise<void> {
    if (!this.started) {
      this.started = true;
      await this.put(pcapGlobalHeader());
    }
    this.frames++;
    await this.put(pcapRecord(f));
  }

  /** Writes many frames as few large chunks (at most ~1 MiB each). */
  async writeAll(frames: readonly SimFrame[]): Promise<void> {
    if (!this.started) {
      this.started = true;
      await this.put(pcapGlobalHeader());
    }
    let parts: Buffer[] = [];
    let size = 0;
    for (const f of frames) {
      const r = pcapRecord(f);
      parts.push(r);
      size += r.length;
      this.frames++;
      if (size >= 1 << 20) {
        await this.put(Buffer.concat(parts, size));
        parts = [];
        size = 0;
      }
    }
    if (size > 0) await this.put(Buffer.concat(parts, size));
  }

  /** Writes the header if nothing was written, then ends the stream and waits until it is flushed. */
  async close(): Promise<void> {
    if (!this.started) {
      this.started = true;
      await this.put(pcapGlobalHeader());
    }
    this.out.end();
    await once(this.out, 'finish');
  }
}

export interface SimulateToPcapOptions extends DemoNetworkOptions {
  durationMs: number;
  /** Incidents to inject: kind and offset from startMs. */
  inject?: readonly { kind: IncidentKind; afterMs: number }[];
}

export interface SimulateToPcapResult {
  frames: number;
  bytes: number;
  groundTruth: GroundTruth[];
}

/** Simulates `durationMs` from `startMs` and writes every frame to a pcap file at `path`. */
export async function simulateToPcap(
  path: string,
  opts: SimulateToPcapOptions,
): Promise<SimulateToPcapResult> {
  const net = createDemoNetwork(opts);
  for (const i of opts.inject ?? []) net.inject(i.kind, opts.startMs + i.afterMs);
  const out = createWriteStream(path);
  const w = new PcapWriter(out);
  const end = opts.startMs + opts.durationMs;
  try {
    for (let t = opts.startMs; t < end;) {
      t = Math.min(end, t + 60_000);
      await w.writeAll(net.nextBatch(t));
    }
    await w.close();
  } catch (e) {
    out.destroy();
    throw e;
  }
  return { frames: w.frames, bytes: w.bytes, groundTruth: net.groundTruth() };
}
