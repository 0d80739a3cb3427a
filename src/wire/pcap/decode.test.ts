import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeError } from '../errors.js';
import {
  ByteWriter,
  dataPath,
  hasData,
  listFiles,
  missingMessage,
  randomChunks,
  readBytes,
} from '../test-support/data.js';
import { decodePcapHeader, PcapReader, readPcap, type PcapRecord } from './decode.js';

/** Build a classic pcap file. */
function buildPcap(opts: {
  le: boolean;
  nanos: boolean;
  linkType?: number;
  snaplen?: number;
  packets: { sec: number; frac: number; data: number[]; wireLen?: number }[];
}): Uint8Array {
  const w = new ByteWriter(opts.le);
  w.u32(opts.nanos ? 0xa1b23c4d : 0xa1b2c3d4)
    .u16(2)
    .u16(4)
    .u32(0)
    .u32(0);
  w.u32(opts.snaplen ?? 65535).u32(opts.linkType ?? 1);
  for (const p of opts.packets) {
    w.u32(p.sec)
      .u32(p.frac)
      .u32(p.data.length)
      .u32(p.wireLen ?? p.data.length)
      .bytes(p.data);
  }
  return w.finish();
}

function readChunked(chunks: Uint8Array[]): PcapRecord[] {
  const r = new PcapReader();
  const out: PcapRecord[] = [];
  for (const c of chunks) {
    r.push(c);
    for (let rec = r.next(); rec; rec = r.next()) out.push(rec);
  }
  r.end();
  for (let rec = r.next(); rec; rec = r.next()) out.push(rec);
  return out;
}

function summary(recs: PcapRecord[]): string[] {
  return recs.map(
    (r) => `${r.offset}/${r.tsMicros}/${r.capLen}/${r.wireLen}/${Buffer.from(r.data).toString('hex')}`,
  );
}

describe('pcap: synthetic files', () => {
  const packets = [
    { sec: 1_600_000_000, frac: 123_456, data: [1, 2, 3, 4, 5] },
    { sec: 1_600_000_001, frac: 999_999, data: [], wireLen: 60 },
    { sec: 1_600_000_002, frac: 7, data: Array.from({ length: 300 }, (_, i) => i & 255) },
  ];
  for (const le of [true, false]) {
    for (const nanos of [false, true]) {
      it(`reads ${le ? 'little' : 'big'}-endian ${nanos ? 'ns' : 'µs'} files`, () => {
        const bytes = buildPcap({
          le,
          nanos,
          linkType: 113,
          snaplen: 262144,
          packets: packets.map((p) => ({ ...p, frac: nanos ? p.frac * 1000 + 999 : p.frac })),
        });
        const h = decodePcapHeader(bytes);
        expect(h).toMatchObject({ littleEndian: le, nanos, linkType: 113, snaplen: 262144, versionMajor: 2 });
        const recs = [...readPcap(bytes)];
        expect(recs.map((r) => r.tsMicros)).toEqual([
          1_600_000_000_123_456, 1_600_000_001_999_999, 1_600_000_002_000_007,
        ]);
        expect(recs.map((r) => r.capLen)).toEqual([5, 0, 300]);
        expect(recs[1]?.wireLen).toBe(60);
        expect(recs.map((r) => r.offset)).toEqual([24, 24 + 16 + 5, 24 + 32 + 5]);
        expect(recs.every((r) => r.linkType === 113 && r.iface === 0)).toBe(true);
        expect(Array.from(recs[0]?.data ?? [])).toEqual([1, 2, 3, 4, 5]);
        for (let seed = 1; seed < 20; seed++) {
          expect(summary(readChunked(randomChunks(bytes, seed, 1 + seed * 7)))).toEqual(summary(recs));
        }
      });
    }
  }

  it('returns data as a view into the pushed chunk (no copy) when the record fits', () => {
    const bytes = buildPcap({ le: true, nanos: false, packets: [{ sec: 1, frac: 0, data: [9, 9] }] });
    const rec = [...readPcap(bytes)][0];
    expect(rec?.data.buffer).toBe(bytes.buffer);
  });

  it('rejects a corrupt record header with the absolute offset', () => {
    const bytes = buildPcap({
      le: true,
      nanos: false,
      packets: [
        { sec: 1, frac: 0, data: [1] },
        { sec: 2, frac: 0, data: [2] },
      ],
    });
    new DataView(bytes.buffer).setUint32(24 + 17 + 8, 0x7fffffff, true);
    const r = new PcapReader({ source: 'x.pcap' });
    r.push(bytes);
    expect(r.next()?.offset).toBe(24);
    try {
      r.next();
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      expect(e).toMatchObject({ kind: 'malformed', decoder: 'pcap', offset: 41 });
      expect(String((e as Error).message)).toContain('x.pcap');
      expect(String((e as Error).message)).toContain('at byte 41');
    }
    expect(() => r.next()).toThrow(DecodeError); // stays failed
  });

  it('reports a stream that ends mid-record once end() is called', () => {
    const bytes = buildPcap({ le: false, nanos: false, packets: [{ sec: 1, frac: 0, data: [1, 2, 3] }] });
    const r = new PcapReader();
    r.push(bytes.subarray(0, bytes.length - 1));
    expect(r.next()).toBeNull();
    r.end();
    expect(() => r.next()).toThrow(expect.objectContaining({ kind: 'truncated', offset: 24 }) as DecodeError);
    expect(r.next()).toBeNull();
  });

  it('rejects bad magic and unsupported versions', () => {
    expect(() => decodePcapHeader(new Uint8Array(24))).toThrow(
      expect.objectContaining({ kind: 'malformed' }) as Error,
    );
    const b = buildPcap({ le: true, nanos: false, packets: [] });
    new DataView(b.buffer).setUint16(4, 3, true);
    expect(() => decodePcapHeader(b)).toThrow(expect.objectContaining({ kind: 'unsupported' }) as Error);
    expect(() => decodePcapHeader(b.subarray(0, 10))).toThrow(
      expect.objectContaining({ kind: 'truncated' }) as Error,
    );
  });

  it('reads the global header when it is pushed; a bad one is still reported by next()', () => {
    const bytes = buildPcap({ le: true, nanos: false, packets: [{ sec: 1, frac: 0, data: [7] }] });
    const r = new PcapReader();
    r.push(bytes.subarray(0, 10));
    expect(r.header).toBeNull();
    r.push(bytes.subarray(10, 24));
    expect(r.header?.littleEndian).toBe(true);
    r.push(bytes.subarray(24));
    expect(r.next()?.data).toEqual(new Uint8Array([7]));

    const bad = new PcapReader();
    expect(() => bad.push(new Uint8Array(40))).not.toThrow();
    expect(bad.header).toBeNull();
    expect(() => bad.next()).toThrow(expect.objectContaining({ kind: 'malformed', offset: 0 }) as Error);
  });

  it('resumes from a checkpoint offset with the saved header', () => {
    const bytes = buildPcap({
      le: true,
      nanos: false,
      packets: [1, 2, 3].map((i) => ({ sec: i, frac: 0, data: [i, i] })),
    });
    const r = new PcapReader();
    r.push(bytes);
    r.next();
    const checkpoint = r.offset;
    const header = r.header;
    expect(header).not.toBeNull();
    if (!header) return;
    const r2 = new PcapReader({ resume: { header, offset: checkpoint } });
    r2.push(bytes.subarray(checkpoint));
    const rest = [r2.next(), r2.next(), r2.next()];
    expect(rest.map((x) => x?.tsMicros)).toEqual([2_000_000, 3_000_000, undefined]);
    expect(rest[0]?.offset).toBe(checkpoint);
  });
});

const HAVE = hasData();
describe.skipIf(!HAVE)('pcap: real captures', () => {
  it.skipIf(!HAVE)(`(data at ${HAVE ? dataPath() : missingMessage()})`, () => undefined);

  it('reads every pcap in the shared data (whole-buffer) and matches known packet counts', () => {
    const files = [
      ...listFiles(dataPath('iot-sentinel-train'), '.pcap'),
      ...listFiles(dataPath('zeek-btest-traces'), '.pcap'),
      ...listFiles(dataPath('moniotr-sample'), '.pcap'),
      ...listFiles(dataPath('iot23-dev'), '.pcap'),
      ...listFiles(dataPath('pmacct-flow-exports'), '.pcap'),
    ];
    expect(files.length).toBeGreaterThan(380);
    const counts = new Map<string, number>();
    const truncatedAt = new Map<string, number>();
    for (const f of files) {
      const r = new PcapReader({ source: f });
      r.push(readBytes(f));
      r.end();
      let n = 0;
      try {
        for (let rec = r.next(); rec; rec = r.next()) {
          expect(rec.capLen).toBe(rec.data.length);
          n++;
        }
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
        truncatedAt.set(f, (e as DecodeError).offset ?? -1);
      }
      counts.set(f.slice(dataPath().length + 1), n);
    }
    expect(counts.get('iot23-dev/CTU-Honeypot-Capture-4-1/2018-09-14-13-40-25-Philips-Hue-Bridge.pcap')).toBe(
      8573,
    );
    expect(counts.get('moniotr-sample/yi_camera_sample.pcap')).toBe(1631);
    // SOURCE.md: the 42-1 pcap is cut off mid-packet: 24,484 readable packets, then a truncation error.
    const cut = 'iot23-dev/CTU-IoT-Malware-Capture-42-1/2019-01-10-14-34-38-192.168.1.197.pcap';
    expect(counts.get(cut)).toBe(24484);
    expect([...truncatedAt.keys()].map((k) => k.slice(dataPath().length + 1))).toEqual([cut]);
  });

  it('gives identical records for random chunk sizes (including 1-byte chunks)', () => {
    const files = [
      dataPath('moniotr-sample', 'yi_camera_sample.pcap'),
      dataPath('zeek-btest-traces', 'Traces', 'dns53.pcap'),
      dataPath('pmacct-flow-exports', '112-IPFIXv10-CISCO-options-map-reassignment', 'traffic-00.pcap'),
      ...listFiles(dataPath('iot-sentinel-train', 'Aria'), '.pcap').slice(0, 2),
    ];
    for (const f of files) {
      const bytes = readBytes(f);
      const whole = summary([...readPcap(bytes)]);
      expect(summary(readChunked(randomChunks(bytes, 42, 5000)))).toEqual(whole);
      expect(summary(readChunked(randomChunks(bytes, 7, 70)))).toEqual(whole);
    }
    const small = readBytes(dataPath('zeek-btest-traces', 'Traces', 'arp-who-has.pcap'));
    expect(summary(readChunked(randomChunks(small, 1, 1)))).toEqual(summary([...readPcap(small)]));
  });
});

describe('pcap: fuzz', () => {
  const drain = (bytes: Uint8Array, chunk: number): void => {
    const r = new PcapReader();
    try {
      for (let o = 0; o < bytes.length; o += chunk) {
        r.push(bytes.subarray(o, o + chunk));
        for (let rec = r.next(); rec; rec = r.next());
      }
      r.end();
      for (let rec = r.next(); rec; rec = r.next());
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
  };
  const sample = buildPcap({
    le: true,
    nanos: false,
    packets: [1, 2, 3, 4].map((i) => ({ sec: i, frac: i, data: Array.from({ length: i * 10 }, () => i) })),
  });

  it('random bytes only ever raise DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.integer({ min: 1, max: 64 }), (b, c) => drain(b, c)),
      { numRuns: 300 },
    );
  });

  it('bit-flipped and truncated files only ever raise DecodeError', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: sample.length * 8 - 1 }),
        fc.integer({ min: 1, max: 50 }),
        (bit, c) => {
          const m = sample.slice();
          m[bit >> 3] = (m[bit >> 3] ?? 0) ^ (1 << (bit & 7));
          drain(m, c);
        },
      ),
      { numRuns: 500 },
    );
    for (let n = 0; n <= sample.length; n++) drain(sample.subarray(0, n), 13);
  });

  /** Records and the error (kind, offset, message) of reading `bytes` in chunks of `chunk` bytes. */
  const outcome = (bytes: Uint8Array, chunk: number): string[] => {
    const r = new PcapReader();
    const out: string[] = [];
    try {
      for (let o = 0; o < bytes.length; o += chunk) {
        r.push(bytes.subarray(o, o + chunk));
        for (let rec = r.next(); rec; rec = r.next()) out.push(...summary([rec]));
      }
      r.end();
      for (let rec = r.next(); rec; rec = r.next()) out.push(...summary([rec]));
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      out.push(`${e.kind}@${e.offset}: ${e.message}`);
    }
    out.push(`offset ${r.offset}`);
    return out;
  };

  it('the header read on push gives the same records and errors for any chunking', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: sample.length * 8 - 1 }),
        fc.integer({ min: 0, max: sample.length }),
        fc.integer({ min: 1, max: 40 }),
        (bit, len, c) => {
          const m = sample.slice(0, len);
          if (bit >> 3 < len) m[bit >> 3] = (m[bit >> 3] ?? 0) ^ (1 << (bit & 7));
          expect(outcome(m, c)).toEqual(outcome(m, Math.max(1, m.length)));
        },
      ),
      { numRuns: 500 },
    );
  });
});
