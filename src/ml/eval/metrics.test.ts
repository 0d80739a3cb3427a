import { describe, expect, it } from 'vitest';
import {
  accuracy,
  classificationReport,
  confusionMatrix,
  macroF1,
  psi,
  quantileSorted,
  rocAuc,
} from './metrics.js';
import { Rng } from '../random.js';

describe('classification metrics (hand-computed)', () => {
  const yTrue = [0, 0, 1, 1, 2, 2];
  const yPred = [0, 1, 1, 1, 2, 0];

  it('accuracy and confusion matrix', () => {
    expect(accuracy(yTrue, yPred)).toBeCloseTo(4 / 6, 12);
    const cm = confusionMatrix(yTrue, yPred);
    expect(Array.from(cm.labels)).toEqual([0, 1, 2]);
    expect(Array.from(cm.counts)).toEqual([1, 1, 0, 0, 2, 0, 1, 0, 1]);
  });

  it('per-class precision / recall / F1 / support and macro F1', () => {
    const r = classificationReport(yTrue, yPred);
    const expected = [
      { label: 0, precision: 1 / 2, recall: 1 / 2, f1: 1 / 2, support: 2 },
      { label: 1, precision: 2 / 3, recall: 1, f1: 0.8, support: 2 },
      { label: 2, precision: 1, recall: 1 / 2, f1: 2 / 3, support: 2 },
    ];
    expected.forEach((e, k) => {
      const m = r.perClass[k]!;
      expect(m.label).toBe(e.label);
      expect(m.precision).toBeCloseTo(e.precision, 12);
      expect(m.recall).toBeCloseTo(e.recall, 12);
      expect(m.f1).toBeCloseTo(e.f1, 12);
      expect(m.support).toBe(e.support);
    });
    expect(r.macroF1).toBeCloseTo((0.5 + 0.8 + 2 / 3) / 3, 12);
    expect(macroF1(yTrue, yPred)).toBeCloseTo(0.6555555555555556, 12);
  });

  it('a class never predicted has precision 0 (zero_division=0)', () => {
    const r = classificationReport([0, 1, 1], [0, 0, 0], [0, 1]);
    expect(r.perClass[1]!.precision).toBe(0);
    expect(r.perClass[1]!.f1).toBe(0);
  });
});

describe('rocAuc', () => {
  it('matches hand-computed values, including ties', () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 12);
    // pos .5 vs neg .5 counts 1/2: (0.5 + 1 + 1 + 1) / 4
    expect(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])).toBeCloseTo(0.875, 12);
    expect(rocAuc([0, 1], [1, 1])).toBe(0.5);
    expect(rocAuc([1, 1, 0, 0], [4, 3, 2, 1])).toBe(1);
    expect(() => rocAuc([1, 1], [0.2, 0.3])).toThrow(/both/);
  });
});

describe('psi', () => {
  it('is 0 for identical samples and matches the formula for a full shift', () => {
    const ref = Array.from({ length: 100 }, (_, i) => i);
    expect(psi(ref, ref).psi).toBeCloseTo(0, 12);
    const r = psi(ref, [1, 2, 3, 4], 2);
    expect(Array.from(r.edges)).toEqual([49.5]);
    const e = 1e-4;
    expect(r.psi).toBeCloseTo((1 - 0.5) * Math.log(1 / 0.5) + (e - 0.5) * Math.log(e / 0.5), 10);
  });

  it('grows with the size of a mean shift', () => {
    const rng = new Rng(1);
    const ref = Array.from({ length: 5000 }, () => rng.normal());
    const small = Array.from({ length: 5000 }, () => rng.normal() + 0.1);
    const big = Array.from({ length: 5000 }, () => rng.normal() + 1);
    const pSmall = psi(ref, small).psi;
    const pBig = psi(ref, big).psi;
    expect(pSmall).toBeLessThan(0.1);
    expect(pBig).toBeGreaterThan(0.25);
  });

  it('merges duplicate quantile edges for discrete data', () => {
    const ref = [0, 0, 0, 0, 0, 0, 0, 0, 1, 2];
    const r = psi(ref, ref, 10);
    expect(r.expected.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(r.psi).toBeCloseTo(0, 12);
  });

  it('quantileSorted uses numpy linear interpolation', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.99)).toBeCloseTo(3.97, 12);
  });
});
