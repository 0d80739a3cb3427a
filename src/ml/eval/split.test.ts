import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMlError } from '../errors.js';
import { crossValidate } from './cv.js';
import {
  groupKFold,
  groupShuffleSplit,
  kFold,
  stratifiedGroupKFold,
  stratifiedKFold,
  stratifiedSplit,
  type Split,
} from './split.js';

function assertPartition(s: Split, n: number): void {
  const all = [...s.train, ...s.test].sort((a, b) => a - b);
  expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
}

function groupsOf(idx: Int32Array, groups: ArrayLike<number | string>): Set<number | string> {
  return new Set(Array.from(idx, (i) => groups[i] as number | string));
}

describe('splits', () => {
  it('stratifiedSplit keeps class shares and partitions the rows', () => {
    const y = Int32Array.from({ length: 1000 }, (_, i) => (i < 900 ? 0 : i < 980 ? 1 : 2));
    const s = stratifiedSplit(y, { testSize: 0.25, seed: 1 });
    assertPartition(s, 1000);
    expect(s.test.length).toBe(250);
    const count = (idx: Int32Array, k: number): number => Array.from(idx).filter((i) => y[i] === k).length;
    expect(count(s.test, 0)).toBe(225);
    expect(count(s.test, 1)).toBe(20);
    expect(count(s.test, 2)).toBe(5);
  });

  it('stratifiedSplit refuses more classes than a side can hold', () => {
    try {
      stratifiedSplit([0, 1, 2, 3, 4], { testSize: 0.2 });
      expect.unreachable();
    } catch (e) {
      expect(isMlError(e) && e.code).toBe('ML_TOO_MANY_CLASSES');
    }
  });

  it('group splits and group K-folds never share a group between train and test', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 30, maxLength: 200 }),
        fc.integer({ min: 0, max: 1000 }),
        (groups, seed) => {
          const nGroups = new Set(groups).size;
          fc.pre(nGroups >= 3);
          const y = groups.map((g, i) => (g + i) % 3);
          const splits: Split[] = [
            groupShuffleSplit(groups, { testSize: 0.3, seed }),
            ...groupKFold(groups, 3),
            ...stratifiedGroupKFold(y, groups, 3, { shuffle: true, seed }),
          ];
          for (const s of splits) {
            assertPartition(s, groups.length);
            const tr = groupsOf(s.train, groups);
            for (const g of groupsOf(s.test, groups)) expect(tr.has(g)).toBe(false);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('K-fold variants put every row in exactly one test fold', () => {
    const y = Int32Array.from({ length: 103 }, (_, i) => i % 4);
    const groups = Array.from({ length: 103 }, (_, i) => `capture-${i % 10}`);
    for (const folds of [
      kFold(103, 5, { shuffle: true, seed: 2 }),
      stratifiedKFold(y, 5, { shuffle: true, seed: 2 }),
      groupKFold(groups, 5),
      stratifiedGroupKFold(y, groups, 5),
    ]) {
      expect(folds.length).toBe(5);
      const seen = new Int32Array(103);
      for (const f of folds) {
        assertPartition(f, 103);
        for (const i of f.test) seen[i]! += 1;
      }
      expect(Array.from(seen).every((c) => c === 1)).toBe(true);
    }
  });

  it('stratifiedKFold spreads each class evenly', () => {
    const y = Int32Array.from({ length: 150 }, (_, i) => Math.floor(i / 50));
    for (const f of stratifiedKFold(y, 5)) {
      for (let k = 0; k < 3; k++) expect(Array.from(f.test).filter((i) => y[i] === k).length).toBe(10);
    }
  });

  it('groupKFold balances fold sizes like scikit-learn (largest group first to the smallest fold)', () => {
    // Group sizes 5, 4, 3, 2, 1 into 2 folds: 5 → f0, 4 → f1, 3 → f1 (4<5), 2 → f0, 1 → f0 or f1 (7 vs 7: first).
    const groups = [
      ...Array(5).fill('a'),
      ...Array(4).fill('b'),
      ...Array(3).fill('c'),
      ...Array(2).fill('d'),
      'e',
    ];
    const folds = groupKFold(groups, 2);
    expect(folds.map((f) => f.test.length).sort()).toEqual([7, 8]);
  });

  it('rejects more folds than groups', () => {
    expect(() => groupKFold(['a', 'a', 'b'], 3)).toThrow(/nSplits/);
  });

  it('crossValidate collects per-fold scores and out-of-fold predictions', () => {
    const y = Int32Array.from({ length: 40 }, (_, i) => i % 2);
    const X = { data: Float64Array.from(y), nRows: 40, nCols: 1 };
    const res = crossValidate(X, y, stratifiedKFold(y, 4), () => ({
      predict: (Xt) => Int32Array.from({ length: Xt.nRows }, (_, i) => (Xt.data[i]! > 0.5 ? 1 : 0)),
    }));
    expect(res.folds.length).toBe(4);
    expect(res.meanAccuracy).toBe(1);
    expect(Array.from(res.outOfFold)).toEqual(Array.from(y));
    expect(res.report.macroF1).toBe(1);
  });
});
