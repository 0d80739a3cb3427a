import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GradientBoostingClassifier } from '../gradient-boosting.js';
import type { Matrix } from '../matrix.js';
import { RandomForestClassifier } from '../random-forest.js';
import { Rng } from '../random.js';
import { blobs, moons } from '../test-support/synthetic.js';
import { accumulateTree, type FlatTree } from './flat-tree.js';
import { PackedForest } from './packed-forest.js';

/** The reference: every tree walked node by node, in order. */
function walk(trees: readonly FlatTree[], X: Matrix): Float64Array {
  const out = new Float64Array(X.nRows * (trees[0]?.width ?? 1));
  for (const t of trees) accumulateTree(t, X, out);
  return out;
}

function packed(trees: readonly FlatTree[], X: Matrix): Float64Array {
  const out = new Float64Array(X.nRows * (trees[0]?.width ?? 1));
  PackedForest.fromTrees(trees).accumulate(X, out);
  return out;
}

/** Exact equality, bit for bit (distinguishes -0 and compares NaN). */
function sameBits(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function treesOf(m: RandomForestClassifier | GradientBoostingClassifier): FlatTree[] {
  return (m as unknown as { trees: FlatTree[] }).trees;
}

/** A hand-built tree: nodes as [feature, threshold, left, right, ...values] (feature -1 for a leaf). */
function tree(width: number, nodes: number[][]): FlatTree {
  const n = nodes.length;
  const t = {
    nNodes: n,
    width,
    feature: new Int32Array(n),
    threshold: new Float64Array(n),
    left: new Int32Array(n),
    right: new Int32Array(n),
    value: new Float32Array(n * width),
  };
  nodes.forEach(([f, th, l, r, ...v], i) => {
    t.feature[i] = f as number;
    t.threshold[i] = th as number;
    t.left[i] = l as number;
    t.right[i] = r as number;
    v.forEach((x, k) => (t.value[i * width + k] = x));
  });
  return t;
}

describe('PackedForest', () => {
  it('matches walking the trees bit for bit on seeded random forests', () => {
    for (const [d, K] of [
      [blobs({ nRows: 3000, nClasses: 3, nFeatures: 12, nInformative: 4, sep: 0.8, seed: 3 }), 3],
      [blobs({ nRows: 2000, nClasses: 5, nFeatures: 6, nInformative: 6, sep: 0.5, seed: 4 }), 5],
      [moons(1500, 0.3, 5), 2],
    ] as const) {
      const rf = new RandomForestClassifier({ nEstimators: 15, seed: 7 }).fit(d.X, d.y);
      const trees = treesOf(rf);
      expect(trees[0]?.width).toBe(K);
      // Training rows plus fresh rows from a wider spread.
      const rng = new Rng(11);
      const extra = Float64Array.from({ length: 500 * d.X.nCols }, () => rng.normal() * 3);
      for (const X of [d.X, { data: extra, nRows: 500, nCols: d.X.nCols }]) {
        expect(sameBits(packed(trees, X), walk(trees, X))).toBe(true);
      }
    }
  });

  it('handles single-leaf trees, leaves next to splits, Float32 rows, NaN and tiny batches', () => {
    const trees = [
      // A single leaf.
      tree(2, [[-1, 0, -1, -1, 0.25, 0.75]]),
      // Root split with a leaf on the left and a deeper subtree on the right (odd-depth leaves).
      tree(2, [
        [0, 0.5, 1, 2, 0.5, 0.5],
        [-1, 0, -1, -1, 1, 0],
        [1, -1, 3, 4, 0.3, 0.7],
        [-1, 0, -1, -1, 0.1, 0.9],
        [2, 2, 5, 6, 0.6, 0.4],
        [-1, 0, -1, -1, 0.2, 0.8],
        [-1, 0, -1, -1, 0.9, 0.1],
      ]),
      // Nodes numbered breadth first (children not right after their parent).
      tree(2, [
        [2, 0, 1, 2, 0.5, 0.5],
        [1, 0.25, 3, 4, 0.5, 0.5],
        [-1, 0, -1, -1, 0.4, 0.6],
        [-1, 0, -1, -1, 0.7, 0.3],
        [-1, 0, -1, -1, 0.05, 0.95],
      ]),
    ];
    const rows = [
      [0, 0, 0],
      [0.5, -1, 2],
      [0.6, -1, 2],
      [0.6, -1.5, 2.5],
      [1, 0.25, -3],
      [NaN, 0, 1],
      [1, NaN, NaN],
      [-0, 0.3, 0],
    ];
    const data = Float64Array.from(rows.flat());
    for (let n = 0; n <= rows.length; n++) {
      const X = { data: data.subarray(0, n * 3), nRows: n, nCols: 3 };
      expect(sameBits(packed(trees, X), walk(trees, X))).toBe(true);
      const X32 = { data: Float32Array.from(X.data), nRows: n, nCols: 3 };
      expect(sameBits(packed(trees, X32), walk(trees, X32))).toBe(true);
    }
  });

  it('also packs regression trees (width 1, gradient boosting)', () => {
    const d = blobs({ nRows: 1200, nClasses: 2, nFeatures: 8, nInformative: 3, sep: 1, seed: 8 });
    const gb = new GradientBoostingClassifier({ nEstimators: 20, maxDepth: 5, seed: 1 }).fit(d.X, d.y);
    const trees = treesOf(gb);
    expect(sameBits(packed(trees, d.X), walk(trees, d.X))).toBe(true);
  });

  it('predicts exactly what a saved random forest (format 1, tree-walking predict) recorded', () => {
    const fx = JSON.parse(
      readFileSync(new URL('./fixtures/random-forest-v1-iris.json', import.meta.url), 'utf8'),
    ) as {
      model: unknown;
      rows: number[];
      proba: number[];
    };
    const rf = RandomForestClassifier.fromJSON(fx.model);
    const X = { data: Float64Array.from(fx.rows), nRows: fx.rows.length / 4, nCols: 4 };
    expect(Array.from(rf.predictProba(X))).toEqual(fx.proba);
    // And the artifact is written back unchanged.
    expect(rf.toJSON()).toEqual(fx.model);
  });
});
