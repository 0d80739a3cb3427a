import { describe, expect, it } from 'vitest';
import { crossValidate } from './eval/cv.js';
import { accuracy } from './eval/metrics.js';
import { stratifiedKFold, stratifiedSplit } from './eval/split.js';
import { isMlError } from './errors.js';
import { GradientBoostingClassifier } from './gradient-boosting.js';
import { takeInt32, takeRows, fromRows } from './matrix.js';
import { RandomForestClassifier } from './random-forest.js';
import { Rng } from './random.js';
import { iris } from './test-support/iris.js';
import { blobs, moons, xor } from './test-support/synthetic.js';

describe('GradientBoostingClassifier', () => {
  it('matches the xgboost leaf formula on a one-split stump', () => {
    // base margin 0 (prior 0.5), g = p - y = ±0.5, h = 0.25; left w = -G/H = -2, right +2 (lambda 0, eta 1).
    const X = fromRows([[0], [1], [2], [3]]);
    const y = Int32Array.from([0, 0, 1, 1]);
    const m = new GradientBoostingClassifier({
      nEstimators: 1,
      maxDepth: 1,
      learningRate: 1,
      lambda: 0,
      minChildWeight: 0,
    }).fit(X, y);
    const p = m.predictProba(X);
    const s2 = 1 / (1 + Math.exp(-2));
    expect(p[1]).toBeCloseTo(1 - s2, 6);
    expect(p[7]).toBeCloseTo(s2, 6);
    expect(Array.from(m.predict(X))).toEqual([0, 0, 1, 1]);
  });

  it('is within 1 point of the random forest on iris CV and a 3-class synthetic set', () => {
    const { X, y } = iris();
    const folds = stratifiedKFold(y, 5, { shuffle: true, seed: 11 });
    const gb = crossValidate(X, y, folds, (Xt, yt) =>
      new GradientBoostingClassifier({ nEstimators: 50, learningRate: 0.3, seed: 1 }).fit(Xt, yt),
    );
    const rf = crossValidate(X, y, folds, (Xt, yt) =>
      new RandomForestClassifier({ nEstimators: 100, seed: 1 }).fit(Xt, yt),
    );
    expect(gb.meanAccuracy).toBeGreaterThanOrEqual(0.93);
    expect(gb.meanAccuracy).toBeGreaterThanOrEqual(rf.meanAccuracy - 0.01);

    const d = blobs({ nRows: 3000, nClasses: 3, nFeatures: 12, nInformative: 4, sep: 1.5, seed: 21 });
    const s = stratifiedSplit(d.y, { testSize: 0.3, seed: 2 });
    const [Xtr, ytr, Xte, yte] = [
      takeRows(d.X, s.train),
      takeInt32(d.y, s.train),
      takeRows(d.X, s.test),
      takeInt32(d.y, s.test),
    ];
    const gAcc = accuracy(
      yte,
      new GradientBoostingClassifier({ nEstimators: 100, learningRate: 0.1, maxDepth: 4, seed: 1 })
        .fit(Xtr, ytr)
        .predict(Xte),
    );
    const rAcc = accuracy(
      yte,
      new RandomForestClassifier({ nEstimators: 100, seed: 1 }).fit(Xtr, ytr).predict(Xte),
    );
    expect(gAcc).toBeGreaterThanOrEqual(rAcc - 0.01);
  });

  it('learns binary XOR and moons', () => {
    for (const d of [xor(1200, 5), moons(1200, 0.15, 5)]) {
      const s = stratifiedSplit(d.y, { testSize: 0.3, seed: 3 });
      const m = new GradientBoostingClassifier({
        nEstimators: 60,
        learningRate: 0.2,
        maxDepth: 4,
        seed: 1,
      }).fit(takeRows(d.X, s.train), takeInt32(d.y, s.train));
      expect(m.classes.length).toBe(2);
      expect(accuracy(takeInt32(d.y, s.test), m.predict(takeRows(d.X, s.test)))).toBeGreaterThan(0.93);
    }
  });

  it('early stopping stops and keeps the best round', () => {
    const d = blobs({ nRows: 1500, nClasses: 3, nFeatures: 10, nInformative: 3, sep: 0.8, seed: 4 });
    const m = new GradientBoostingClassifier({
      nEstimators: 500,
      learningRate: 0.3,
      earlyStoppingRounds: 5,
      validationFraction: 0.2,
      seed: 1,
    }).fit(d.X, d.y);
    expect(m.evalHistory.length).toBeLessThan(500);
    expect(m.evalHistory.length).toBe(m.bestIteration + 1 + 5);
    expect(m.nRounds).toBe(m.bestIteration + 1);
    const best = Math.min(...m.evalHistory);
    expect(m.evalHistory[m.bestIteration]).toBe(best);
  });

  it('ranks an informative feature first by gain, importances sum to 1', () => {
    const d = blobs({ nRows: 800, nClasses: 2, nFeatures: 6, nInformative: 1, sep: 2, seed: 6 });
    const m = new GradientBoostingClassifier({ nEstimators: 30, maxDepth: 3, seed: 1 }).fit(d.X, d.y);
    for (const type of ['gain', 'total_gain', 'weight'] as const) {
      const imp = m.featureImportances(type);
      expect(imp.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
      if (type !== 'weight') for (let c = 1; c < 6; c++) expect(imp[0]!).toBeGreaterThan(imp[c]!);
    }
  });

  it('is deterministic (with subsampling) and round-trips through JSON', () => {
    const { X, y } = iris();
    const opts = { nEstimators: 20, subsample: 0.8, colsampleByTree: 0.75, seed: 7 };
    const a = new GradientBoostingClassifier(opts).fit(X, y);
    const b = new GradientBoostingClassifier(opts).fit(X, y);
    expect(JSON.stringify(a.toJSON())).toBe(JSON.stringify(b.toJSON()));
    const back = GradientBoostingClassifier.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    expect(Array.from(back.predictProba(X))).toEqual(Array.from(a.predictProba(X)));
    expect(Array.from(back.featureImportances())).toEqual(Array.from(a.featureImportances()));
    const p = a.predictProba(X);
    for (let r = 0; r < 150; r++) expect(p[3 * r]! + p[3 * r + 1]! + p[3 * r + 2]!).toBeCloseTo(1, 5);
  });

  it('grows the same trees from the sparse and the dense histogram layouts (one-hot, constant, subsampled)', () => {
    // Flow-like features: 6 one-hot columns, 2 mostly-zero counts, a constant, 2 dense noise columns.
    const rng = new Rng(12);
    const n = 1500;
    const nCols = 11;
    const data = new Float64Array(n * nCols);
    const y = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      const cat = rng.int(6);
      const o = r * nCols;
      data[o + cat] = 1;
      data[o + 6] = rng.float() < 0.85 ? 0 : Math.round(rng.uniform(1, 5000));
      data[o + 7] = rng.float() < 0.9 ? 0 : rng.int(40);
      data[o + 8] = 7;
      data[o + 9] = rng.normal();
      data[o + 10] = rng.normal();
      const score =
        (cat === 2 || cat === 4 ? 1.5 : -0.5) + ((data[o + 6] as number) > 2500 ? 1 : 0) + 0.3 * rng.normal();
      y[r] = score > 0.5 ? 1 : cat === 5 ? 2 : 0;
    }
    const X = { data, nRows: n, nCols };
    for (const opts of [
      { nEstimators: 25, maxDepth: 4, seed: 3 },
      { nEstimators: 25, maxDepth: 4, seed: 3, subsample: 0.7, colsampleByTree: 0.6 },
    ]) {
      const fit = (histogramLayout: 'auto' | 'dense' | 'sparse') =>
        new GradientBoostingClassifier(opts).fit(X, y, { histogramLayout });
      const [dense, sparse, auto] = [fit('dense'), fit('sparse'), fit('auto')];
      const pd = dense.predictProba(X);
      const ps = sparse.predictProba(X);
      for (let i = 0; i < pd.length; i++) expect(Math.abs(pd[i]! - ps[i]!)).toBeLessThan(1e-5);
      expect(Array.from(sparse.predict(X))).toEqual(Array.from(dense.predict(X)));
      // This set is mostly zeros: 'auto' picks the sparse layout.
      expect(JSON.stringify(auto.toJSON())).toBe(JSON.stringify(sparse.toJSON()));
      expect(accuracy(y, sparse.predict(X))).toBeGreaterThan(0.85);
    }
  });

  it('rejects bad input with stable codes', () => {
    const { X, y } = iris();
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return isMlError(e) ? e.code : 'other';
      }
      return undefined;
    };
    expect(code(() => new GradientBoostingClassifier({ learningRate: 0 }))).toBe('ML_INVALID_PARAM');
    expect(code(() => new GradientBoostingClassifier({ maxBins: 300 }))).toBe('ML_INVALID_PARAM');
    expect(code(() => new GradientBoostingClassifier().fit(X, new Int32Array(150).fill(2)))).toBe(
      'ML_SINGLE_CLASS',
    );
    expect(code(() => new GradientBoostingClassifier().predict(X))).toBe('ML_NOT_FITTED');
    expect(
      code(() =>
        new GradientBoostingClassifier({ nEstimators: 2 }).fit(X, y, {
          evalSet: { X, y: Int32Array.from(y, () => 9) },
        }),
      ),
    ).toBe('ML_INVALID_INPUT');
  });
});
