import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../wire/errors.js';
import { PacketInfo } from '../wire/packet/types.js';
import {
  emitObservations,
  extractObservations,
  ObservationAggregator,
  type Observation,
} from './observations.js';
import {
  DNS_MDNS,
  DNS_PLAIN,
  MEMO_BUDGET_BYTES,
  MEMO_MAX_BYTES,
  PayloadCache,
  sameBytes,
} from './payload-cache.js';
import { mutated } from './test-support/fuzz.js';

/** A DNS query for "a.b" (id 1, RD). */
const query = Uint8Array.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x61, 1, 0x62, 0, 0, 1, 0, 1]);

function dnsPacket(frame: Uint8Array, ts: number): PacketInfo {
  const p = new PacketInfo();
  p.ipVersion = 4;
  p.ipProto = 17;
  p.srcIp4 = 0xc0a80105;
  p.srcPort = 40000;
  p.dstPort = 53;
  p.hasL2 = true;
  p.srcMac = 0x001122334455;
  p.data = frame;
  p.payloadOffset = 0;
  p.payloadLength = frame.length;
  p.tsMicros = ts;
  return p;
}

describe('PayloadCache', () => {
  it('decodes a payload once per key and rethrows a cached DecodeError', () => {
    const c = new PayloadCache();
    const a = c.dns(query, 0, query.length, DNS_PLAIN);
    expect(c.dns(query, 0, query.length, DNS_PLAIN)).toBe(a);
    expect(a.questions).toEqual(['a.b']);
    const cut = query.subarray(0, 15);
    let first: unknown;
    try {
      c.dns(cut, 0, cut.length, DNS_PLAIN);
    } catch (e) {
      first = e;
    }
    expect(first).toBeInstanceOf(DecodeError);
    expect(() => c.dns(cut, 0, cut.length, DNS_PLAIN)).toThrow(first as Error);
  });

  it('reuses a result for the same payload bytes in a later packet (verified byte for byte)', () => {
    const c = new PayloadCache();
    const a = c.dns(query, 0, query.length, DNS_PLAIN);
    c.clear();
    // Another buffer, another offset, another message id: the same question, the same (shared) summary.
    const again = Uint8Array.from([9, 9, 9, ...query]);
    again[3] = 0x77;
    expect(c.dns(again, 3, query.length, DNS_PLAIN)).toBe(a);
    // One byte different: decoded afresh.
    const other = Uint8Array.from(query);
    other[13] = 0x63;
    c.clear();
    const b = c.dns(other, 0, other.length, DNS_PLAIN);
    expect(b).not.toBe(a);
    expect(b.questions).toEqual(['c.b']);
    // mDNS mode is another key.
    c.clear();
    expect(c.dns(query, 0, query.length, DNS_MDNS)).not.toBe(a);
    // A memoised DecodeError is thrown again for the same bytes.
    const cut = query.subarray(0, 15);
    c.clear();
    let first: unknown;
    try {
      c.dns(cut, 0, cut.length, DNS_PLAIN);
    } catch (e) {
      first = e;
    }
    c.clear();
    expect(() => c.dns(Uint8Array.from(cut), 0, cut.length, DNS_PLAIN)).toThrow(first as Error);
  });

  it('stays exact when its key bytes reach the budget and it starts afresh', () => {
    const n = 3000;
    // More key bytes than the budget: the memo fills up and is emptied at least once.
    expect(n * (MEMO_MAX_BYTES - 2)).toBeGreaterThan(MEMO_BUDGET_BYTES);
    const payloads = Array.from({ length: n }, (_, i) => {
      const p = new Uint8Array(MEMO_MAX_BYTES);
      p.set(query);
      p[MEMO_MAX_BYTES - 2] = i >> 8;
      p[MEMO_MAX_BYTES - 1] = i & 0xff;
      return p;
    });
    const c = new PayloadCache();
    const seen = new Map<Uint8Array, unknown>();
    for (let round = 0; round < 2; round++)
      for (const p of payloads) {
        c.clear();
        const s = c.dns(p, 0, p.length, DNS_PLAIN);
        expect(s.questions).toEqual(['a.b']);
        // A later sighting gets the first one's (shared) result or a fresh, equal decode.
        if (seen.has(p)) expect(s).toEqual(seen.get(p));
        else seen.set(p, s);
      }
  });

  it('gives the same answers as decoding every payload afresh (fuzz)', () => {
    const memo = new PayloadCache();
    const seeds = [query, Uint8Array.from([...query.subarray(0, 12), 3, 0x77, 0x77, 0x77, 0, 0, 1, 0, 1])];
    fc.assert(
      fc.property(fc.array(mutated(seeds), { minLength: 1, maxLength: 20 }), (payloads) => {
        for (const p of payloads) {
          memo.clear();
          const run = (c: PayloadCache) => {
            try {
              return c.dns(p, 0, p.length, DNS_PLAIN);
            } catch (e) {
              if (e instanceof DecodeError) return e.kind;
              throw e;
            }
          };
          expect(run(memo)).toEqual(run(new PayloadCache()));
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('sameBytes', () => {
  const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const naive = (a: Uint8Array, ao: number, b: Uint8Array, bo: number, n: number): boolean => {
    for (let i = 0; i < n; i++) if (a[ao + i] !== b[bo + i]) return false;
    return true;
  };
  /** Eight-byte words whose doubles are +0, -0, NaNs or equal-looking values: the cases doubles get wrong. */
  const tricky = fc.constantFrom(
    [0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0x80],
    [0, 0, 0, 0, 0, 0, 0xf8, 0x7f],
    [1, 0, 0, 0, 0, 0, 0xf8, 0x7f],
    [0, 0, 0, 0, 0, 0, 0xf8, 0xff],
    [0, 0, 0, 0, 0, 0, 0xf0, 0x7f],
    [0, 0, 0, 0, 0, 0, 0xf0, 0x3f],
  );
  const bytes = fc
    .array(fc.oneof(tricky, fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 9 })), {
      maxLength: 12,
    })
    .map((parts) => Uint8Array.from(parts.flat()));

  it('says whether two byte ranges are equal, exactly, whatever the words are as doubles (fuzz)', () => {
    fc.assert(
      fc.property(bytes, bytes, fc.nat({ max: 7 }), fc.nat({ max: 7 }), fc.nat(), (x, y, pa, pb, at) => {
        // b starts as a copy of a's range (most pairs are equal or nearly), then bytes of y overwrite part.
        const n = x.length;
        const a = new Uint8Array(pa + n);
        a.set(x, pa);
        const b = new Uint8Array(pb + n);
        b.set(x, pb);
        const from = n === 0 ? 0 : at % n;
        b.set(y.subarray(0, n - from), pb + from);
        expect(sameBytes(view(a), pa, view(b), pb, n)).toBe(naive(a, pa, b, pb, n));
        expect(sameBytes(view(a), pa, view(a), pa, n)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('tells +0 from -0 and compares NaNs by their bits', () => {
    const z = new Uint8Array(8);
    const nz = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0x80]);
    const nan = Uint8Array.from([0, 0, 0, 0, 0, 0, 0xf8, 0x7f]);
    const nan2 = Uint8Array.from([1, 0, 0, 0, 0, 0, 0xf8, 0x7f]);
    expect(sameBytes(view(z), 0, view(nz), 0, 8)).toBe(false);
    expect(sameBytes(view(z), 0, view(Uint8Array.from(z)), 0, 8)).toBe(true);
    expect(sameBytes(view(nan), 0, view(Uint8Array.from(nan)), 0, 8)).toBe(true);
    expect(sameBytes(view(nan), 0, view(nan2), 0, 8)).toBe(false);
  });
});

describe('ObservationAggregator', () => {
  it('folds identical sightings into one with count and first/last times, in stream order of the latest', () => {
    const agg = new ObservationAggregator();
    const other = Uint8Array.from(query);
    other[13] = 0x63; // "c.b"
    for (const [frame, ts] of [
      [query, 30],
      [other, 10],
      [query, 20],
      [query, 40],
      [other, 35],
    ] as const)
      emitObservations(dnsPacket(frame, ts), frame, agg);
    expect(agg.size).toBe(2);
    expect(agg.sightings).toBe(5);
    const out = agg.take();
    const base = { kind: 'dns_query' as const, mac: '00:11:22:33:44:55', ip: '192.168.1.5' };
    expect(out).toEqual<Observation[]>([
      // In stream order of each one's latest sighting (a.b at 40 came before c.b at 35).
      { ...base, value: 'a.b', tsMicros: 40, count: 3, firstMicros: 20 },
      { ...base, value: 'c.b', tsMicros: 35, count: 2, firstMicros: 10 },
    ]);
    expect(agg.size).toBe(0);
    // The per-packet API gives the same observation without aggregation.
    expect(extractObservations(dnsPacket(query, 5))).toEqual([{ ...base, value: 'a.b', tsMicros: 5 }]);
  });
});
