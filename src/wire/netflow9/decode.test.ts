import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeError } from '../errors.js';
import { ByteWriter, dataPath, hasData, udpPayloads } from '../test-support/data.js';
import { TemplateCache } from '../flowexport/cache.js';
import { decodeNetflow9, decodePendingNetflow9 } from './decode.js';

function v9(
  seq: number,
  sourceId: number,
  flowsets: Uint8Array[],
  sysUptime = 100_000,
  unixSecs = 1_700_000_000,
): Uint8Array {
  const w = new ByteWriter();
  w.u16(9).u16(flowsets.length).u32(sysUptime).u32(unixSecs).u32(seq).u32(sourceId);
  for (const f of flowsets) w.bytes(f);
  return w.finish();
}

function flowset(id: number, body: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter();
  w.u16(id).u16(0);
  body(w);
  w.pad4();
  w.setU16(2, w.length);
  return w.finish();
}

const TEMPLATE = flowset(0, (w) => {
  w.u16(260).u16(9);
  for (const [id, len] of [
    [8, 4],
    [12, 4],
    [7, 2],
    [11, 2],
    [4, 1],
    [1, 4],
    [2, 4],
    [22, 4],
    [21, 4],
  ])
    w.u16(id ?? 0).u16(len ?? 0);
});
const DATA = flowset(260, (w) => {
  w.bytes([10, 1, 1, 1, 10, 2, 2, 2]).u16(5353).u16(53).u8(17).u32(1234).u32(3).u32(90_000).u32(99_000);
});

describe('NetFlow v9 synthetic', () => {
  it('template + data with sysUptime-relative first/last switched; padding tolerated', () => {
    const cache = new TemplateCache();
    const r = decodeNetflow9(v9(1, 42, [TEMPLATE, DATA]), '192.0.2.1', cache);
    expect(r.errors).toEqual([]);
    expect(r.records).toHaveLength(1);
    expect(r.records[0]).toMatchObject({
      version: 9,
      domainId: 42,
      srcAddr: '10.1.1.1',
      dstAddr: '10.2.2.2',
      srcPort: 5353,
      dstPort: 53,
      protocol: 17,
      octets: 1234,
      packets: 3,
      // unixSecs*1000 - (sysUptime - switched)
      startMs: 1_700_000_000_000 - 10_000,
      endMs: 1_700_000_000_000 - 1_000,
    });
    expect(r.records[0]?.extra).toEqual(
      new Map([
        [22, 90_000],
        [21, 99_000],
      ]),
    );
  });

  it('drops switched times that lie after the export (beyond a minute of skew), keeps the rest', () => {
    // sysUptime 95 s: first switched (90 s) is before the export, last switched (99 s) 4 s after it.
    const skewed = decodeNetflow9(v9(1, 42, [TEMPLATE, DATA], 95_000), 'E', new TemplateCache());
    expect(skewed.records[0]).toMatchObject({ startMs: 1_700_000_000_000 - 5_000, endMs: 1_700_000_004_000 });
    // sysUptime 0 (softflowd -r): both would be 90–99 s after the export.
    const r = decodeNetflow9(v9(1, 42, [TEMPLATE, DATA], 0), 'E', new TemplateCache());
    expect(r.records[0]).toMatchObject({ startMs: null, endMs: null });
    expect(r.records[0]?.extra).toEqual(
      new Map([
        [22, 90_000],
        [21, 99_000],
      ]),
    );
  });

  it('unknown template → pending, retried later; sequence gaps counted per source id', () => {
    const cache = new TemplateCache();
    const r = decodeNetflow9(v9(10, 1, [DATA]), 'E', cache);
    expect(r.pendingSets).toHaveLength(1);
    const p = r.pendingSets[0];
    if (!p) return;
    expect(decodePendingNetflow9(p, cache)).toBeNull();
    expect(decodeNetflow9(v9(11, 1, [TEMPLATE]), 'E', cache).header.sequenceGap).toBe(false);
    expect(decodePendingNetflow9(p, cache)?.records[0]?.srcPort).toBe(5353);
    expect(decodeNetflow9(v9(15, 1, []), 'E', cache).header.sequenceGap).toBe(true);
    expect(decodeNetflow9(v9(0, 2, []), 'E', cache).header.sequenceGap).toBe(false); // other source id
    expect(cache.peek('v9', 'E', 1)).toMatchObject({ sequenceGaps: 1, missing: 3 });
  });

  it('options template and options data', () => {
    const cache = new TemplateCache();
    const ot = flowset(1, (w) => w.u16(300).u16(4).u16(8).u16(1).u16(4).u16(34).u16(4).u16(35).u16(1));
    const od = flowset(300, (w) => w.u32(0x0a000001).u32(100).u8(2));
    const r = decodeNetflow9(v9(1, 0, [ot, od]), 'E', cache);
    expect(r.options).toEqual([
      {
        version: 9,
        exporter: 'E',
        domainId: 0,
        templateId: 300,
        scope: { 1: 0x0a000001 },
        values: { 34: 100, 35: 2 },
      },
    ]);
    expect(r.records).toEqual([]);
  });

  it('bad flowsets are reported; bad headers throw', () => {
    const cache = new TemplateCache();
    const bad = v9(1, 0, [Uint8Array.from([0, 0, 0, 200])]);
    expect(decodeNetflow9(bad, 'E', cache).errors[0]).toMatchObject({ kind: 'truncated' });
    const zero = flowset(0, (w) => w.u16(300).u16(1).u16(8).u16(0));
    expect(decodeNetflow9(v9(1, 0, [zero]), 'E', cache).errors[0]).toMatchObject({ kind: 'malformed' });
    expect(() => decodeNetflow9(new Uint8Array(10), 'E', cache)).toThrow(DecodeError);
    expect(() => decodeNetflow9(v9(1, 0, []).fill(1, 0, 2), 'E', cache)).toThrow(
      expect.objectContaining({ kind: 'unsupported' }) as Error,
    );
  });

  const real = hasData('pmacct-flow-exports')
    ? udpPayloads(dataPath('pmacct-flow-exports', '101-NFv9-CISCO-cust_primitives', 'traffic-00.pcap')).map(
        (d) => d.payload,
      )
    : [];
  it('fuzz: random bytes, bit flips and truncations of real datagrams only raise DecodeError', () => {
    const run = (b: Uint8Array, cache: TemplateCache): void => {
      try {
        decodeNetflow9(b, 'F', cache);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    };
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 200 }), (b) => {
        const x = b.slice();
        x[0] = 0;
        x[1] = 9;
        run(x, new TemplateCache());
      }),
      { numRuns: 1000 },
    );
    const samples = [v9(1, 0, [TEMPLATE, DATA]), ...real.slice(0, 4)];
    const cache = new TemplateCache();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: samples.length - 1 }), fc.nat(), (k, bit) => {
        const s = samples[k] ?? new Uint8Array(0);
        const m = s.slice();
        const at = (bit >> 3) % m.length;
        m[at] = (m[at] ?? 0) ^ (1 << (bit & 7));
        run(m, cache);
      }),
      { numRuns: 1500 },
    );
    for (const s of samples.slice(0, 2))
      for (let n = 0; n <= s.length; n++) run(s.subarray(0, n), new TemplateCache());
  });
});
