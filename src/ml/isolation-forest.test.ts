import { describe, expect, it } from 'vitest';
import { isMlError } from './errors.js';
import { rocAuc } from './eval/metrics.js';
import { averagePathLength, IsolationForest } from './isolation-forest.js';
import { plantedOutliers } from './test-support/synthetic.js';

describe('averagePathLength (c(n), scikit-learn values)', () => {
  it('matches scikit-learn _average_path_length', () => {
    expect(averagePathLength(0)).toBe(0);
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    // 2 (ln 2 + γ) - 4/3
    expect(averagePathLength(3)).toBeCloseTo(2 * (Math.log(2) + 0.5772156649015329) - 4 / 3, 12);
    expect(averagePathLength(256)).toBeCloseTo(10.2448, 4);
    expect(averagePathLength(100000)).toBeCloseTo(
      2 * (Math.log(99999) + 0.5772156649015329) - 2 * 0.99999,
      10,
    );
  });
});

describe('IsolationForest', () => {
  const d = plantedOutliers(2000, 40, 6, 11);

  it('scores planted outliers above inliers (AUC >= 0.95) and flags them with contamination auto', () => {
    const f = new IsolationForest({ seed: 1 }).fit(d.X);
    const s = f.scoreSamples(d.X);
    expect(rocAuc(d.y, s)).toBeGreaterThanOrEqual(0.95);
    let minOut = Infinity;
    let meanIn = 0;
    for (let i = 0; i < d.y.length; i++) {
      if (d.y[i] === 1) minOut = Math.min(minOut, s[i]!);
      else meanIn += s[i]! / 2000;
    }
    expect(minOut).toBeGreaterThan(meanIn);
    expect(minOut).toBeGreaterThan(0.5);
    const pred = f.predict(d.X);
    for (let i = 2000; i < 2040; i++) expect(pred[i]).toBe(1);
    expect(f.threshold).toBe(0.5);
    for (const v of s) expect(v > 0 && v <= 1).toBe(true);
  });

  it('contamination fraction sets the threshold at the training quantile', () => {
    const f = new IsolationForest({ seed: 2, contamination: 0.02 }).fit(d.X);
    const flagged = f.predict(d.X).reduce((a, b) => a + b, 0);
    expect(Math.abs(flagged - 0.02 * 2040)).toBeLessThanOrEqual(2);
    const dec = f.decisionFunction(d.X);
    expect(dec.filter((v) => v < 0).length).toBe(flagged);
  });

  it('gives exactly 0.5 to every row of constant data (path = c(maxSamples)), like scikit-learn', () => {
    const X = { data: new Float64Array(300 * 3).fill(7), nRows: 300, nCols: 3 };
    const f = new IsolationForest({ seed: 1, nEstimators: 10 }).fit(X);
    expect(f.maxSamples).toBe(256);
    for (const v of f.scoreSamples(X)) expect(v).toBeCloseTo(0.5, 6);
  });

  it('uses maxSamples = min(256, n) and depth ceil(log2(maxSamples))', () => {
    const small = plantedOutliers(100, 0, 2, 3);
    const f = new IsolationForest({ seed: 1, nEstimators: 5 }).fit(small.X);
    expect(f.maxSamples).toBe(100);
    const g = new IsolationForest({ seed: 1, nEstimators: 5, maxSamples: 0.5 }).fit(small.X);
    expect(g.maxSamples).toBe(50);
  });

  it('is deterministic and round-trips through JSON', () => {
    const a = new IsolationForest({ seed: 5, nEstimators: 20 }).fit(d.X);
    const b = new IsolationForest({ seed: 5, nEstimators: 20 }).fit(d.X);
    expect(JSON.stringify(a.toJSON())).toBe(JSON.stringify(b.toJSON()));
    const back = IsolationForest.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    expect(Array.from(back.scoreSamples(d.X))).toEqual(Array.from(a.scoreSamples(d.X)));
  });

  it('rejects bad parameters and input', () => {
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return isMlError(e) ? e.code : 'other';
      }
      return undefined;
    };
    expect(code(() => new IsolationForest({ contamination: 0.7 }))).toBe('ML_INVALID_PARAM');
    expect(code(() => new IsolationForest().scoreSamples(d.X))).toBe('ML_NOT_FITTED');
    const bad = Float64Array.from(d.X.data);
    bad[13] = Infinity;
    expect(code(() => new IsolationForest().fit({ ...d.X, data: bad }))).toBe('ML_INVALID_INPUT');
  });
});
