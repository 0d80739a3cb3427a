import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from './random.js';

describe('Rng', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 8 }, () => a.uint32());
    expect(Array.from({ length: 8 }, () => b.uint32())).toEqual(sa);
    expect(Array.from({ length: 8 }, () => c.uint32())).not.toEqual(sa);
  });

  it('float is in [0, 1) with mean near 1/2', () => {
    const r = new Rng(1);
    let s = 0;
    for (let i = 0; i < 20000; i++) {
      const v = r.float();
      expect(v >= 0 && v < 1).toBe(true);
      s += v;
    }
    expect(s / 20000).toBeCloseTo(0.5, 1);
  });

  it('int(n) stays in range and covers it evenly', () => {
    const r = new Rng(7);
    const counts = new Int32Array(5);
    for (let i = 0; i < 50000; i++) counts[r.int(5)]! += 1;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(500);
  });

  it('shuffle is a permutation', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: 200 }), (seed, n) => {
        const a = Int32Array.from({ length: n }, (_, i) => i);
        new Rng(seed).shuffle(a);
        expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
      }),
      { numRuns: 50 },
    );
  });

  it('sampleWithoutReplacement returns k distinct values in range (both algorithms)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 1, max: 500 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (seed, n, frac) => {
          const k = Math.floor(frac * n);
          const s = new Rng(seed).sampleWithoutReplacement(n, k);
          expect(s.length).toBe(k);
          expect(new Set(s).size).toBe(k);
          for (const v of s) expect(v >= 0 && v < n).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
    expect(() => new Rng(1).sampleWithoutReplacement(3, 4)).toThrow(RangeError);
  });

  it('normal has mean ~0 and variance ~1', () => {
    const r = new Rng(3);
    let s = 0;
    let s2 = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const v = r.normal();
      s += v;
      s2 += v * v;
    }
    expect(s / n).toBeCloseTo(0, 1);
    expect(s2 / n).toBeCloseTo(1, 1);
  });
});
