import { describe, expect, it } from 'vitest';
import { binColumnMajor, binOf, edgesFromSorted, fitBinEdges } from '../binning.js';
import { fromRows } from '../matrix.js';
import { Rng } from '../random.js';
import { buildCart } from './cart.js';
import { accumulateTree, leafOf } from './flat-tree.js';

describe('binning', () => {
  it('uses midpoints between distinct values when they fit, so bins are exact CART thresholds', () => {
    const e = edgesFromSorted(Float64Array.of(1, 1, 2, 4, 4, 4), 256);
    expect(Array.from(e)).toEqual([1.5, 3]);
    expect(binOf(e, 1)).toBe(0);
    expect(binOf(e, 1.5)).toBe(0);
    expect(binOf(e, 2)).toBe(1);
    expect(binOf(e, 100)).toBe(2);
  });

  it('caps continuous features at maxBins with roughly equal counts', () => {
    const rng = new Rng(1);
    const v = Float64Array.from({ length: 10000 }, () => rng.normal()).sort();
    const e = edgesFromSorted(v, 16);
    expect(e.length).toBeLessThanOrEqual(15);
    const counts = new Int32Array(e.length + 1);
    for (const x of v) counts[binOf(e, x)]! += 1;
    for (const c of counts) expect(Math.abs(c - 625)).toBeLessThan(80);
  });
});

describe('buildCart', () => {
  const X = fromRows([[0], [1], [2], [3], [10], [11], [12], [13]]);
  const y = Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1]);
  const edges = fitBinEdges(X, 256);
  const binned = binColumnMajor(X, edges);
  const params = {
    maxFeatures: 1,
    maxDepth: 10,
    minSamplesSplit: 2,
    minSamplesLeaf: 1,
    minImpurityDecrease: 0,
  };
  const rows = Int32Array.from({ length: 8 }, (_, i) => i);

  it('finds the separating threshold in one split with pure leaves', () => {
    const { tree, importances } = buildCart(
      { binned, nRows: 8, nCols: 1, edges, y, nClasses: 2, rows, weight: new Float64Array(8).fill(1) },
      params,
      new Rng(1),
    );
    expect(tree.nNodes).toBe(3);
    expect(tree.feature[0]).toBe(0);
    expect(tree.threshold[0]).toBe(6.5);
    expect(Array.from(tree.value.subarray(2, 6))).toEqual([1, 0, 0, 1]);
    // Weighted impurity decrease at the root: 8·0.5 − 0 − 0 = 4.
    expect(importances[0]).toBeCloseTo(4, 12);
    const out = new Float64Array(16);
    accumulateTree(tree, X, out);
    expect(Array.from(out.filter((_, i) => i % 2 === 1))).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(leafOf(tree, X, 7)).toBe(2);
  });

  it('uses sample weights in leaf distributions and ignores zero-weight rows', () => {
    const yMixed = Int32Array.from([0, 1, 0, 1, 0, 1, 0, 1]);
    const weight = Float64Array.from([3, 1, 3, 1, 0, 0, 0, 0]);
    const { tree } = buildCart(
      {
        binned,
        nRows: 8,
        nCols: 1,
        edges,
        y: yMixed,
        nClasses: 2,
        rows: Int32Array.from([0, 1, 2, 3]),
        weight,
      },
      { ...params, maxDepth: 0 },
      new Rng(1),
    );
    expect(tree.nNodes).toBe(1);
    expect(tree.value[0]).toBeCloseTo(0.75, 6);
    expect(tree.value[1]).toBeCloseTo(0.25, 6);
  });

  it('respects minSamplesLeaf', () => {
    const { tree } = buildCart(
      {
        binned,
        nRows: 8,
        nCols: 1,
        edges,
        y: Int32Array.from([0, 1, 1, 1, 1, 1, 1, 1]),
        nClasses: 2,
        rows,
        weight: new Float64Array(8).fill(1),
      },
      { ...params, minSamplesLeaf: 3 },
      new Rng(1),
    );
    // The only pure split (row 0 alone) is forbidden; every leaf holds >= 3 rows.
    for (let i = 0; i < tree.nNodes; i++) {
      if (tree.feature[i] !== -1) continue;
      let n = 0;
      for (let r = 0; r < 8; r++) if (leafOf(tree, X, r) === i) n++;
      expect(n).toBeGreaterThanOrEqual(3);
    }
  });
});
