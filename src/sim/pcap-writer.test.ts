import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodePcapHeader, readPcap } from '../wire/pcap/decode.js';
import { createDemoNetwork } from './network.js';
import { framesToPcap, simulateToPcap } from './pcap-writer.js';

const START = Date.UTC(2024, 4, 1, 9, 0, 0);
const dir = mkdtempSync(join(tmpdir(), 'iotsec-sim-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pcap writer', () => {
  it('framesToPcap writes a classic little-endian µs Ethernet pcap that reads back identically', () => {
    const frames = [...createDemoNetwork({ seed: 3, startMs: START }).frames(START + 90_000)];
    expect(frames.length).toBeGreaterThan(100);
    const buf = new Uint8Array(framesToPcap(frames));
    expect(decodePcapHeader(buf)).toMatchObject({
      littleEndian: true,
      nanos: false,
      versionMajor: 2,
      versionMinor: 4,
      linkType: 1,
    });
    const back = [...readPcap(buf)];
    expect(back.length).toBe(frames.length);
    const mismatches = back.filter((r, i) => {
      const f = frames[i];
      return !f || r.tsMicros !== f.tsMicros || r.linkType !== 1 || !Buffer.from(r.data).equals(f.frame);
    });
    expect(mismatches).toHaveLength(0);
  });

  it('simulateToPcap streams a period to a file with its ground truth', async () => {
    const path = join(dir, 'demo.pcap');
    const res = await simulateToPcap(path, {
      seed: 11,
      startMs: START,
      durationMs: 3 * 60_000,
      inject: [{ kind: 'ddos', afterMs: 2 * 60_000 }],
    });
    const bytes = new Uint8Array(readFileSync(path));
    expect(bytes.length).toBe(res.bytes);
    const recs = [...readPcap(bytes, path)];
    expect(recs.length).toBe(res.frames);
    expect(res.groundTruth.map((g) => g.kind)).toEqual(['ddos']);
    const last = recs[recs.length - 1];
    expect(last?.tsMicros).toBeLessThanOrEqual((START + 3 * 60_000) * 1000);
    // Same bytes as generating in memory.
    const net = createDemoNetwork({ seed: 11, startMs: START });
    net.inject('ddos', START + 2 * 60_000);
    const mem = framesToPcap(net.frames(START + 3 * 60_000, 60_000));
    expect(Buffer.from(bytes).equals(mem)).toBe(true);
  }, 60_000);
});
