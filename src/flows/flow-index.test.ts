import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareIp6, FlowIndex, Key6, KT_IPV6, word32, type FlowKey } from './flow-index.js';

class K implements FlowKey {
  k6: Key6 | null = null;
  constructor(
    public ka: number,
    public kb: number,
    public kp: number,
    public kt: number,
  ) {}
}

const v6 = (w: number[]): K => {
  const k = new K(w[0] ?? 0, w[4] ?? 0, 0x1234_0050, 1 | KT_IPV6);
  k.k6 = new Key6(w[1] ?? 0, w[2] ?? 0, w[3] ?? 0, w[5] ?? 0, w[6] ?? 0, w[7] ?? 0);
  return k;
};
const get = (ix: FlowIndex<K>, k: FlowKey): K | null => {
  const w = k.k6 ?? new Key6(0, 0, 0, 0, 0, 0);
  return ix.get(k.ka, w.a1, w.a2, w.a3, k.kb, w.b1, w.b2, w.b3, k.kp, k.kt);
};

describe('word32 / compareIp6', () => {
  it('reads big-endian words and orders addresses as their bytes do', () => {
    const b = Uint8Array.from([0xfe, 0x80, 0, 1, ...new Array<number>(12).fill(0), 0x20, 1, 0, 0]);
    expect(word32(b, 0) >>> 0).toBe(0xfe800001);
    expect(word32(b, 16)).toBe(0x20010000);
    expect(word32(b, 18)).toBe(0); // past the end reads as zero bytes
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (d) => {
        let bytes = 0;
        for (let i = 0; i < 16 && bytes === 0; i++) bytes = (d[i] ?? 0) - (d[16 + i] ?? 0);
        expect(Math.sign(compareIp6(d, 0, 16))).toBe(Math.sign(bytes));
      }),
    );
  });
});

describe('FlowIndex', () => {
  it('tells IPv4 and IPv6 keys with the same words apart', () => {
    const ix = new FlowIndex<K>();
    const a = new K(0x0a000001, 0x0a000002, 0x1234_0050, 1);
    const b = v6([0x0a000001, 0, 0, 0, 0x0a000002, 0, 0, 0]);
    ix.set(a);
    expect(get(ix, b)).toBeNull();
    ix.set(b);
    expect(get(ix, a)).toBe(a);
    expect(get(ix, b)).toBe(b);
    expect(get(ix, v6([0x0a000001, 0, 0, 1, 0x0a000002, 0, 0, 0]))).toBeNull();
    ix.delete(a);
    expect(get(ix, a)).toBeNull();
    expect(get(ix, b)).toBe(b);
    expect(ix.size).toBe(1);
  });

  it('keeps every flow through growth and deletions', () => {
    const ix = new FlowIndex<K>();
    const ks = Array.from({ length: 20_000 }, (_, i) =>
      i % 2 ? new K(i, 7, 0x1000_0035, 2) : v6([1, 2, 3, i, 4, 5, 6, 7]),
    );
    for (const k of ks) ix.set(k);
    for (let i = 0; i < ks.length; i += 3) ix.delete(ks[i] as K);
    ks.forEach((k, i) => expect(get(ix, k)).toBe(i % 3 ? k : null));
    expect(ix.size).toBe(ks.length - Math.ceil(ks.length / 3));
  });

  it('behaves as a Map through inserts and deletes (fuzz)', () => {
    // Few distinct words, so probe runs collide and deletions shift entries back.
    const word = fc.integer({ min: -2, max: 2 });
    const key = fc
      .tuple(fc.boolean(), fc.array(word, { minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 3 }))
      .map(([six, w, p]) => (six ? v6(w) : new K(w[0] ?? 0, w[4] ?? 0, p, 1)));
    const op = fc.tuple(fc.boolean(), key);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 3000 }), (ops) => {
        const ix = new FlowIndex<K>();
        const model = new Map<string, K>();
        const id = (k: FlowKey) => JSON.stringify([k.ka, k.kb, k.kp, k.kt, k.k6]);
        for (const [add, k] of ops) {
          const had = model.get(id(k));
          if (add && !had) {
            ix.set(k);
            model.set(id(k), k);
          } else if (!add && had) {
            ix.delete(had);
            model.delete(id(k));
          }
          expect(get(ix, k)).toBe(model.get(id(k)) ?? null);
        }
        expect(ix.size).toBe(model.size);
        for (const k of model.values()) expect(get(ix, k)).toBe(k);
      }),
      { numRuns: 50 },
    );
  });
});
