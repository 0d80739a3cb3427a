import { describe, expect, it } from 'vitest';
import type { Matrix } from '../matrix.js';
import { Rng } from '../random.js';
import { buildReference, driftedFeatures, featureDrift, parseReference } from './drift.js';
import { RecentRows, Reservoir } from './reservoir.js';
import { ModelStats } from './stats.js';

function sample(n: number, seed: number, shift = 0): Matrix {
  const rng = new Rng(seed);
  const data = new Float64Array(n * 3);
  for (let r = 0; r < n; r++) {
    // normal-ish, uniform, and mostly-zero columns
    data[r * 3] = rng.float() + rng.float() + rng.float() + shift;
    data[r * 3 + 1] = rng.uniform(0, 10) + shift * 3;
    data[r * 3 + 2] = rng.float() < 0.8 ? 0 : rng.uniform(1, 5) + shift;
  }
  return { data, nRows: n, nCols: 3 };
}

describe('drift (PSI against the training reference)', () => {
  const names = ['a', 'b', 'c'];
  const reference = buildReference(names, sample(5000, 1));

  it('stores a compact quantile reference that round-trips through JSON', () => {
    expect(reference.quantiles).toHaveLength(3);
    expect(reference.quantiles[0]).toHaveLength(101);
    expect(parseReference(JSON.parse(JSON.stringify(reference)))).toEqual(reference);
    expect(parseReference({ features: ['a'], quantiles: [] })).toBeNull();
    expect(parseReference(null)).toBeNull();
  });

  it('does not flag inputs from the training distribution', () => {
    const recent = new RecentRows(3, 2000);
    recent.addMatrix(sample(1000, 7));
    const d = featureDrift(reference, recent);
    expect(Object.keys(d)).toEqual(names);
    for (const v of Object.values(d)) expect(v).toBeLessThan(0.1);
    expect(driftedFeatures(d, 0.2)).toEqual([]);
  });

  it('flags shifted inputs, worst first', () => {
    const recent = new RecentRows(3, 2000);
    recent.addMatrix(sample(1000, 9, 1.5));
    const d = featureDrift(reference, recent);
    const drifted = driftedFeatures(d, 0.2);
    expect(drifted.map(([f]) => f)).toContain('a');
    expect(drifted.map(([f]) => f)).toContain('b');
    expect(drifted[0]![1]).toBeGreaterThanOrEqual(drifted[drifted.length - 1]![1]);
  });

  it('keeps only the most recent rows', () => {
    const recent = new RecentRows(3, 100);
    recent.addMatrix(sample(1000, 3, 5));
    recent.addMatrix(sample(100, 4));
    expect(recent.size).toBe(100);
    expect(driftedFeatures(featureDrift(reference, recent), 0.2)).toEqual([]);
  });
});

describe('serving statistics', () => {
  it('a bounded latency reservoir gives p50/p99 close to the truth', () => {
    const r = new Reservoir(512, 3);
    for (let i = 1; i <= 100_000; i++) r.add(i % 1000);
    expect(r.count).toBe(100_000);
    expect(Math.abs((r.quantile(0.5) ?? 0) - 500)).toBeLessThan(60);
    expect(r.quantile(0.99)).toBeGreaterThan(940);
  });

  it('windows count predictions and feedback accuracy, then reset', () => {
    const s = new ModelStats('m', new Date(0));
    s.recordPrediction(sample(10, 1), 2);
    s.recordPrediction(sample(5, 2), 4);
    s.recordFeedback('camera', 'camera');
    s.recordFeedback(1, '1');
    s.recordFeedback('camera', 'plug');
    const w = s.snapshot(new Date(60_000));
    expect(w.predictions).toBe(15);
    expect(w.labelled).toBe(3);
    expect(w.accuracy).toBeCloseTo(2 / 3);
    expect(w.latencyP50Ms).toBe(3);
    expect(s.hasActivity).toBe(false);
    expect(s.recentRows?.size).toBe(15);
    expect(s.snapshot(new Date(120_000)).windowStart).toEqual(new Date(60_000));
  });
});
