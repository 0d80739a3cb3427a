import { describe, expect, it } from 'vitest';
import { crossValidate } from './eval/cv.js';
import { stratifiedKFold, stratifiedSplit } from './eval/split.js';
import { accuracy, classificationReport } from './eval/metrics.js';
import { featureSetSignature } from './features/feature-set.js';
import { takeInt32, takeRows } from './matrix.js';
import { RandomForestClassifier, resolveMaxFeatures } from './random-forest.js';
import { iris } from './test-support/iris.js';
import { blobs, moons, xor } from './test-support/synthetic.js';
import { isMlError } from './errors.js';
import { treeDepth, treeFromJson } from './tree/flat-tree.js';

describe('RandomForestClassifier', () => {
  const { X, y } = iris();

  it('reaches >= 0.93 accuracy in 5-fold stratified CV on iris, and OOB agrees with CV', () => {
    const folds = stratifiedKFold(y, 5, { shuffle: true, seed: 11 });
    const cv = crossValidate(X, y, folds, (Xt, yt) =>
      new RandomForestClassifier({ nEstimators: 100, seed: 3 }).fit(Xt, yt),
    );
    expect(cv.meanAccuracy).toBeGreaterThanOrEqual(0.93);
    const rf = new RandomForestClassifier({ nEstimators: 200, seed: 3, oobScore: true }).fit(X, y);
    expect(rf.oobScore).not.toBeNull();
    expect(Math.abs((rf.oobScore ?? 0) - cv.meanAccuracy)).toBeLessThan(0.05);
  });

  it('importances sum to 1 and rank petal features and an informative feature above noise', () => {
    const rf = new RandomForestClassifier({ nEstimators: 100, seed: 1 }).fit(X, y);
    const imp = rf.featureImportances;
    expect(imp.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    // Petal length/width dominate iris.
    expect(Math.min(imp[2]!, imp[3]!)).toBeGreaterThan(Math.max(imp[0]!, imp[1]!));
    const d = blobs({ nRows: 600, nClasses: 2, nFeatures: 6, nInformative: 1, sep: 2, seed: 5 });
    const imp2 = new RandomForestClassifier({ nEstimators: 50, seed: 2 }).fit(d.X, d.y).featureImportances;
    for (let c = 1; c < 6; c++) expect(imp2[0]!).toBeGreaterThan(imp2[c]!);
  });

  it('learns XOR and moons (non-linear)', () => {
    for (const d of [xor(1200, 4, 2), moons(1200, 0.15, 4)]) {
      const s = stratifiedSplit(d.y, { testSize: 0.3, seed: 1 });
      const rf = new RandomForestClassifier({ nEstimators: 50, seed: 1, maxFeatures: null }).fit(
        takeRows(d.X, s.train),
        takeInt32(d.y, s.train),
      );
      expect(accuracy(takeInt32(d.y, s.test), rf.predict(takeRows(d.X, s.test)))).toBeGreaterThan(0.93);
    }
  });

  it('is deterministic: same seed gives identical JSON, other seed differs', () => {
    const a = JSON.stringify(new RandomForestClassifier({ nEstimators: 10, seed: 9 }).fit(X, y).toJSON());
    const b = JSON.stringify(new RandomForestClassifier({ nEstimators: 10, seed: 9 }).fit(X, y).toJSON());
    const c = JSON.stringify(new RandomForestClassifier({ nEstimators: 10, seed: 10 }).fit(X, y).toJSON());
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });

  it('round-trips through JSON with identical probabilities and keeps the feature set', () => {
    const fs = featureSetSignature({
      name: 'iris',
      version: 1,
      features: ['a', 'b', 'c', 'd'].map((name) => ({ name, description: name })),
    });
    const rf = new RandomForestClassifier({ nEstimators: 20, seed: 1 }).fit(X, y, { featureSet: fs });
    const back = RandomForestClassifier.fromJSON(JSON.parse(JSON.stringify(rf.toJSON())));
    expect(Array.from(back.predictProba(X))).toEqual(Array.from(rf.predictProba(X)));
    expect(back.featureSetSignature).toEqual(fs);
    expect(Array.from(back.featureImportances)).toEqual(Array.from(rf.featureImportances));
  });

  it('probabilities are rows summing to 1 and predict maps back to the original labels', () => {
    const labels = Int32Array.from(y, (v) => [10, 20, -5][v]!);
    const rf = new RandomForestClassifier({ nEstimators: 15, seed: 1 }).fit(X, labels);
    expect(Array.from(rf.classes)).toEqual([-5, 10, 20]);
    const p = rf.predictProba(X);
    for (let r = 0; r < X.nRows; r++) expect(p[3 * r]! + p[3 * r + 1]! + p[3 * r + 2]!).toBeCloseTo(1, 5);
    expect(accuracy(labels, rf.predict(X))).toBeGreaterThan(0.97);
  });

  it('class weights shift predictions toward the minority class on imbalanced data', () => {
    // Overlapping classes, 95% / 5%.
    const d = blobs({ nRows: 2000, nClasses: 2, nFeatures: 4, nInformative: 2, sep: 0.8, seed: 8 });
    const keep: number[] = [];
    let minority = 0;
    for (let i = 0; i < d.y.length; i++) {
      if (d.y[i] === 0) keep.push(i);
      else if (minority++ % 19 === 0) keep.push(i);
    }
    const Xi = takeRows(d.X, keep);
    const yi = takeInt32(d.y, keep);
    const opts = { nEstimators: 40, seed: 2, minSamplesLeaf: 10 };
    const plain = new RandomForestClassifier(opts).fit(Xi, yi).predict(Xi);
    const balanced = new RandomForestClassifier({ ...opts, classWeight: 'balanced' }).fit(Xi, yi).predict(Xi);
    const mapped = new RandomForestClassifier({ ...opts, classWeight: { 0: 1, 1: 30 } })
      .fit(Xi, yi)
      .predict(Xi);
    const ones = (p: Int32Array): number => p.reduce((a, b) => a + b, 0);
    expect(ones(balanced)).toBeGreaterThan(ones(plain) * 1.5);
    expect(ones(mapped)).toBeGreaterThan(ones(plain) * 1.5);
    const recall = (p: Int32Array): number => classificationReport(yi, p).perClass[1]!.recall;
    expect(recall(balanced)).toBeGreaterThan(recall(plain));
  });

  it('honours maxDepth, minSamplesLeaf and the maxFeatures forms', () => {
    const rf = new RandomForestClassifier({ nEstimators: 5, maxDepth: 2, seed: 1 }).fit(X, y);
    const trees = rf.toJSON().data.trees.map((t) => treeFromJson(t, 4));
    expect(trees.length).toBe(5);
    for (const t of trees) expect(treeDepth(t)).toBeLessThanOrEqual(2);
    expect(accuracy(y, rf.predict(X))).toBeGreaterThan(0.85);
    // One full tree on all rows and features fits its training set.
    const full = new RandomForestClassifier({
      nEstimators: 1,
      bootstrap: false,
      maxFeatures: null,
      seed: 1,
    }).fit(X, y);
    expect(accuracy(y, full.predict(X))).toBeGreaterThan(0.99);
    const leafy = new RandomForestClassifier({
      nEstimators: 1,
      bootstrap: false,
      maxFeatures: null,
      minSamplesLeaf: 20,
      seed: 1,
    }).fit(X, y);
    const t = treeFromJson(leafy.toJSON().data.trees[0], 4);
    expect(t.nNodes).toBeLessThan(20);
    expect(resolveMaxFeatures('sqrt', 30)).toBe(5);
    expect(resolveMaxFeatures('log2', 30)).toBe(4);
    expect(resolveMaxFeatures(0.5, 30)).toBe(15);
    expect(resolveMaxFeatures(7, 30)).toBe(7);
    expect(resolveMaxFeatures(null, 30)).toBe(30);
    expect(() => resolveMaxFeatures(31, 30)).toThrow(/maxFeatures/);
  });

  it('rejects bad input with stable codes', () => {
    const rf = new RandomForestClassifier({ nEstimators: 2 });
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return isMlError(e) ? e.code : 'other';
      }
      return undefined;
    };
    expect(code(() => rf.predict(X))).toBe('ML_NOT_FITTED');
    expect(code(() => rf.fit(X, new Int32Array(150)))).toBe('ML_SINGLE_CLASS');
    expect(code(() => rf.fit(X, y.subarray(0, 10)))).toBe('ML_LENGTH_MISMATCH');
    const bad = Float64Array.from(X.data);
    bad[4 * 7 + 2] = NaN;
    expect(code(() => rf.fit({ data: bad, nRows: 150, nCols: 4 }, y))).toBe('ML_INVALID_INPUT');
    expect(code(() => rf.fit({ data: new Float64Array(0), nRows: 0, nCols: 4 }, new Int32Array(0)))).toBe(
      'ML_EMPTY_DATA',
    );
    expect(code(() => new RandomForestClassifier({ nEstimators: 0 }))).toBe('ML_INVALID_PARAM');
    expect(code(() => new RandomForestClassifier({ bootstrap: false, oobScore: true }))).toBe(
      'ML_INVALID_PARAM',
    );
    rf.fit(X, y);
    expect(code(() => rf.predict({ data: new Float64Array(3), nRows: 1, nCols: 3 }))).toBe(
      'ML_LENGTH_MISMATCH',
    );
    expect(code(() => RandomForestClassifier.fromJSON({ format: 'x' }))).toBe('ML_BAD_MODEL');
  });
});
