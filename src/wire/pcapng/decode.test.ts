import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeError } from '../errors.js';
import { ByteWriter, randomChunks } from '../test-support/data.js';
import { PcapngReader, readPcapng, type PcapngRecord } from './decode.js';

/** Synthetic pcapng builder: blocks written with a given byte order. */
class NgWriter {
  readonly w: ByteWriter;
  constructor(readonly le: boolean) {
    this.w = new ByteWriter(le);
  }
  block(type: number, body: (w: ByteWriter) => void): this {
    const start = this.w.length;
    this.w.u32(type).u32(0);
    body(this.w);
    this.w.pad4();
    const total = this.w.length - start + 4;
    this.w.u32(total);
    this.w.setU32(start + 4, total);
    return this;
  }
  shb(): this {
    return this.block(0x0a0d0d0a, (w) => {
      w.u32(0x1a2b3c4d).u16(1).u16(0).u32(0xffffffff).u32(0xffffffff);
      w.u16(4).u16(5).bytes([104, 101, 108, 108, 111]).pad4().u16(0).u16(0); // shb_hardware + end
    });
  }
  idb(
    linkType: number,
    snaplen: number,
    opts: { tsresol?: number; tsoffset?: bigint; name?: string } = {},
  ): this {
    return this.block(1, (w) => {
      w.u16(linkType).u16(0).u32(snaplen);
      if (opts.name !== undefined) {
        const n = Buffer.from(opts.name);
        w.u16(2).u16(n.length).bytes(n).pad4();
      }
      if (opts.tsresol !== undefined) w.u16(9).u16(1).u8(opts.tsresol).pad4();
      if (opts.tsoffset !== undefined) w.u16(14).u16(8).u64(opts.tsoffset);
      w.u16(0).u16(0);
    });
  }
  epb(iface: number, ts: bigint, data: number[], wireLen = data.length): this {
    return this.block(6, (w) => {
      w.u32(iface)
        .u32(Number(ts >> 32n))
        .u32(Number(ts & 0xffffffffn))
        .u32(data.length)
        .u32(wireLen);
      w.bytes(data).pad4();
      w.u16(1).u16(3).bytes([111, 107, 33]).pad4().u16(0).u16(0); // opt_comment
    });
  }
  spb(wireLen: number, data: number[]): this {
    return this.block(3, (w) => {
      w.u32(wireLen).bytes(data).pad4();
    });
  }
  nrb(): this {
    return this.block(4, (w) => {
      const v4 = [192, 168, 1, 10, ...Buffer.from('cam.local\0'), ...Buffer.from('cam\0')];
      w.u16(1).u16(v4.length).bytes(v4).pad4();
      const v6 = [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1, ...Buffer.from('v6host\0')];
      w.u16(2).u16(v6.length).bytes(v6).pad4();
      w.u16(0).u16(0);
    });
  }
  finish(): Uint8Array {
    return this.w.finish();
  }
}

function sample(le: boolean): Uint8Array {
  return new NgWriter(le)
    .shb()
    .idb(1, 65535, { name: 'eth0' })
    .idb(101, 128, { tsresol: 9, tsoffset: 10n })
    .epb(0, 1_600_000_000_123_456n, [1, 2, 3, 4, 5])
    .block(0xbad, (w) => w.u32(1).u32(2)) // unknown block type: skipped
    .epb(1, 1_600_000_000_123_456_789n, [0x45, 0, 0, 20], 1500)
    .nrb()
    .spb(9, [9, 8, 7, 6, 5, 4, 3, 2, 1])
    .block(5, (w) => w.u32(0).u32(0).u32(0)) // ISB: skipped
    .finish();
}

function drainChunks(chunks: Uint8Array[]): PcapngRecord[] {
  const r = new PcapngReader();
  const out: PcapngRecord[] = [];
  for (const c of chunks) {
    r.push(c);
    for (let rec = r.next(); rec; rec = r.next()) out.push(rec);
  }
  r.end();
  for (let rec = r.next(); rec; rec = r.next()) out.push(rec);
  return out;
}

const sum = (rs: PcapngRecord[]): string[] =>
  rs.map(
    (r) =>
      `${r.offset}/${r.iface}/${r.linkType}/${r.tsMicros}/${r.capLen}/${r.wireLen}/${Buffer.from(r.data).toString('hex')}`,
  );

describe('pcapng', () => {
  for (const le of [true, false]) {
    it(`reads a ${le ? 'little' : 'big'}-endian section with two interfaces, EPB, SPB, NRB and unknown blocks`, () => {
      const bytes = sample(le);
      const r = new PcapngReader();
      r.push(bytes);
      r.end();
      const recs: PcapngRecord[] = [];
      for (let rec = r.next(); rec; rec = r.next()) recs.push(rec);
      expect(r.section).toMatchObject({ littleEndian: le, versionMajor: 1, sectionLength: -1, index: 0 });
      expect(r.interfaces).toHaveLength(2);
      expect(r.interfaces[0]).toMatchObject({ linkType: 1, snaplen: 65535, name: 'eth0', tsresolExp: 6 });
      expect(r.interfaces[1]).toMatchObject({
        linkType: 101,
        tsresolBase: 10,
        tsresolExp: 9,
        tsOffsetSec: 10,
      });
      expect(recs).toHaveLength(3);
      expect(recs[0]).toMatchObject({ iface: 0, linkType: 1, tsMicros: 1_600_000_000_123_456, capLen: 5 });
      // ns resolution + 10 s offset, exact integer conversion of a 64-bit timestamp
      expect(recs[1]).toMatchObject({
        iface: 1,
        linkType: 101,
        tsMicros: 1_600_000_010_123_456,
        capLen: 4,
        wireLen: 1500,
      });
      // SPB: interface 0, previous timestamp, captured length = min(original length, block, snaplen)
      expect(recs[2]).toMatchObject({
        iface: 0,
        linkType: 1,
        tsMicros: recs[1]?.tsMicros,
        capLen: 9,
        wireLen: 9,
      });
      expect(r.names).toEqual([
        { ip: '192.168.1.10', names: ['cam.local', 'cam'] },
        { ip: '2001:db8::1', names: ['v6host'] },
      ]);
      expect(r.skippedBlocks).toBe(2);
      for (let seed = 1; seed < 15; seed++) {
        expect(sum(drainChunks(randomChunks(bytes, seed, seed * 5)))).toEqual(sum(recs));
      }
    });
  }

  it('handles if_tsresol powers of two and coarse powers of ten', () => {
    const bytes = new NgWriter(true)
      .shb()
      .idb(1, 0, { tsresol: 0x80 | 10 }) // 2^-10 s
      .idb(1, 0, { tsresol: 3 }) // ms
      .epb(0, 1024n * 5n + 512n, [1])
      .epb(1, 1_700_000_000_001n, [1])
      .finish();
    const recs = [...readPcapng(bytes)];
    expect(recs.map((r) => r.tsMicros)).toEqual([5_500_000, 1_700_000_000_001_000]);
  });

  it('SPB captured length is bounded by interface 0 snaplen', () => {
    const bytes = new NgWriter(true).shb().idb(1, 4).spb(8, [1, 2, 3, 4, 5, 6, 7, 8]).finish();
    const [rec] = [...readPcapng(bytes)];
    expect(rec).toMatchObject({ capLen: 4, wireLen: 8 });
    expect(Array.from(rec?.data ?? [])).toEqual([1, 2, 3, 4]);
  });

  it('supports several sections with different byte orders; interfaces reset per section', () => {
    const a = new NgWriter(true).shb().idb(1, 0).epb(0, 1n, [1]).finish();
    const b = new NgWriter(false).shb().idb(105, 0).epb(0, 2n, [2, 2]).finish();
    const both = new Uint8Array(a.length + b.length);
    both.set(a);
    both.set(b, a.length);
    const r = new PcapngReader();
    r.push(both);
    const first = r.next();
    expect(first).toMatchObject({ linkType: 1, tsMicros: 1, offset: a.length - 48 });
    const second = r.next();
    expect(second).toMatchObject({ linkType: 105, tsMicros: 2, offset: a.length + b.length - 48 });
    expect(r.section).toMatchObject({ index: 1, littleEndian: false, offset: a.length });
    expect(r.interfaces).toHaveLength(1);
  });

  it('checks the block total length at both ends', () => {
    const bytes = sample(true);
    const r = new PcapngReader();
    const bad = bytes.slice();
    // corrupt the trailing length of the SHB
    const shbLen = new DataView(bad.buffer).getUint32(4, true);
    new DataView(bad.buffer).setUint32(shbLen - 4, shbLen + 4, true);
    r.push(bad);
    expect(() => r.next()).toThrow(
      expect.objectContaining({ kind: 'malformed', offset: shbLen - 4 }) as Error,
    );
    const r2 = new PcapngReader();
    const bad2 = bytes.slice();
    new DataView(bad2.buffer).setUint32(4, 13, true);
    r2.push(bad2);
    expect(() => r2.next()).toThrow(expect.objectContaining({ kind: 'malformed' }) as Error);
  });

  it('rejects packets for undeclared interfaces, non-pcapng data and huge blocks', () => {
    const noIdb = new NgWriter(true).shb().epb(3, 1n, [1]).finish();
    expect(() => [...readPcapng(noIdb)]).toThrow(expect.objectContaining({ kind: 'malformed' }) as Error);
    expect(() => [...readPcapng(new Uint8Array(32).fill(1))]).toThrow(DecodeError);
    const big = new NgWriter(true).shb().finish();
    const w = new ByteWriter(true)
      .bytes(big)
      .u32(6)
      .u32(64 * 1024 * 1024)
      .u32(0);
    expect(() => [...readPcapng(w.finish())]).toThrow(expect.objectContaining({ kind: 'limit' }) as Error);
  });

  it('reports a stream ending mid-block after end()', () => {
    const bytes = sample(false);
    const r = new PcapngReader();
    r.push(bytes.subarray(0, bytes.length - 3));
    r.end();
    const got: unknown[] = [];
    expect(() => {
      for (let rec = r.next(); rec; rec = r.next()) got.push(rec);
    }).toThrow(expect.objectContaining({ kind: 'truncated' }) as Error);
    expect(got).toHaveLength(3); // the last block (ISB) is the cut one
  });

  it('fuzz: random bytes, bit flips and truncations only raise DecodeError', () => {
    const drain = (b: Uint8Array, c: number): void => {
      const r = new PcapngReader();
      try {
        for (let o = 0; o < b.length; o += c) {
          r.push(b.subarray(o, o + c));
          for (let rec = r.next(); rec; rec = r.next());
        }
        r.end();
        for (let rec = r.next(); rec; rec = r.next());
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    };
    const s = sample(true);
    const prefix = s.subarray(0, 12);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 40 }),
        (b, withShb, c) => {
          const x = withShb ? new Uint8Array([...prefix, ...b]) : b;
          drain(x, c);
        },
      ),
      { numRuns: 300 },
    );
    for (const le of [true, false]) {
      const base = sample(le);
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: base.length * 8 - 1 }),
          fc.integer({ min: 1, max: 64 }),
          (bit, c) => {
            const m = base.slice();
            m[bit >> 3] = (m[bit >> 3] ?? 0) ^ (1 << (bit & 7));
            drain(m, c);
          },
        ),
        { numRuns: 400 },
      );
      for (let n = 0; n <= base.length; n++) drain(base.subarray(0, n), 16);
    }
  });
});
