import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeError } from '../errors.js';
import { ByteWriter } from '../test-support/data.js';
import { TemplateCache } from '../flowexport/cache.js';
import { decodeFlowExport } from '../flowexport/decode.js';
import { decodeNetflow5 } from './decode.js';

function v5(
  seq: number,
  n: number,
  engineId = 3,
  times: { sysUptime: number; first: number; last: number } = {
    sysUptime: 3_600_000,
    first: 3_590_000,
    last: 3_599_500,
  },
): Uint8Array {
  const w = new ByteWriter();
  w.u16(5)
    .u16(n)
    .u32(times.sysUptime)
    .u32(1_700_000_000)
    .u32(500_000_000)
    .u32(seq)
    .u8(1)
    .u8(engineId)
    .u16(0x4000 | 100);
  for (let i = 0; i < n; i++) {
    w.bytes([10, 0, 0, i + 1])
      .bytes([8, 8, 8, 8])
      .bytes([10, 0, 0, 254]);
    w.u16(2)
      .u16(3)
      .u32(10 + i)
      .u32(1000 + i)
      .u32(times.first)
      .u32(times.last);
    w.u16(40000 + i)
      .u16(53)
      .u8(0)
      .u8(0x1b)
      .u8(17)
      .u8(0x20)
      .u16(64512)
      .u16(15169)
      .u8(24)
      .u8(8)
      .u16(0);
  }
  return w.finish();
}

describe('NetFlow v5', () => {
  it('keeps times a little after the export (clock skew) and drops times after it (softflowd -r)', () => {
    const skew = decodeNetflow5(v5(1, 1, 3, { sysUptime: 1000, first: 1000, last: 31_000 }), 'E');
    expect(skew.records[0]).toMatchObject({ startMs: 1_700_000_000_000, endMs: 1_700_000_030_000 });
    // softflowd 1.1.0 reading a pcap: sysUptime 0, first/last = packet time less its own start, cut to 32 bits.
    const sfd = decodeNetflow5(v5(2, 1, 3, { sysUptime: 0, first: 1_219_542_480, last: 1_219_545_923 }), 'E');
    expect(sfd.records[0]).toMatchObject({ startMs: null, endMs: null, exportTimeSec: 1_700_000_000 });
  });

  it('decodes header and 48-byte records', () => {
    const r = decodeNetflow5(v5(1000, 2), '192.0.2.9');
    expect(r.header).toMatchObject({
      version: 5,
      count: 2,
      sysUptimeMs: 3_600_000,
      unixSecs: 1_700_000_000,
      unixNsecs: 500_000_000,
      flowSequence: 1000,
      engineType: 1,
      engineId: 3,
      samplingMode: 1,
      samplingInterval: 100,
    });
    expect(r.records).toHaveLength(2);
    expect(r.records[1]).toMatchObject({
      version: 5,
      exporter: '192.0.2.9',
      domainId: 0x103,
      ipVersion: 4,
      srcAddr: '10.0.0.2',
      dstAddr: '8.8.8.8',
      nextHop: '10.0.0.254',
      inputIf: 2,
      outputIf: 3,
      packets: 11,
      octets: 1001,
      startMs: 1_700_000_000_000 - 10_000,
      endMs: 1_700_000_000_000 - 500,
      srcPort: 40001,
      dstPort: 53,
      tcpFlags: 0x1b,
      protocol: 17,
      tos: 0x20,
      srcAs: 64512,
      dstAs: 15169,
      srcMask: 24,
      dstMask: 8,
    });
  });

  it('tracks flow_sequence gaps per engine through the cache and via decodeFlowExport', () => {
    const cache = new TemplateCache();
    expect(decodeFlowExport(v5(100, 3), 'X', cache).sequenceGap).toBe(false);
    expect(decodeFlowExport(v5(103, 1), 'X', cache).sequenceGap).toBe(false);
    expect(decodeFlowExport(v5(110, 1), 'X', cache).sequenceGap).toBe(true);
    expect(decodeFlowExport(v5(0, 1, 9), 'X', cache).sequenceGap).toBe(false);
    expect(cache.peek('v5', 'X', 0x103)).toMatchObject({ sequenceGaps: 1, missing: 6 });
  });

  it('rejects truncated datagrams, other versions and absurd counts', () => {
    const b = v5(1, 2);
    expect(() => decodeNetflow5(b.subarray(0, b.length - 1))).toThrow(
      expect.objectContaining({ kind: 'truncated' }) as Error,
    );
    expect(() => decodeNetflow5(b.subarray(0, 10))).toThrow(DecodeError);
    const bad = b.slice();
    bad[1] = 7;
    expect(() => decodeNetflow5(bad)).toThrow(expect.objectContaining({ kind: 'unsupported' }) as Error);
    const many = b.slice();
    many[2] = 1;
    expect(() => decodeNetflow5(many)).toThrow(expect.objectContaining({ kind: 'limit' }) as Error);
    expect(() => decodeFlowExport(Uint8Array.from([0, 7, 0, 0]), 'X', new TemplateCache())).toThrow(
      DecodeError,
    );
  });

  it('fuzz: random and mutated datagrams only raise DecodeError', () => {
    const run = (x: Uint8Array): void => {
      try {
        decodeNetflow5(x, 'F', new TemplateCache());
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (b, fix) => {
        const x = b.slice();
        if (fix && x.length > 2) {
          x[0] = 0;
          x[1] = 5;
        }
        run(x);
      }),
      { numRuns: 1000 },
    );
    const base = v5(1, 3);
    for (let n = 0; n <= base.length; n++) run(base.subarray(0, n));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: base.length * 8 - 1 }), (bit) => {
        const m = base.slice();
        m[bit >> 3] = (m[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        run(m);
      }),
      { numRuns: 500 },
    );
  });
});
