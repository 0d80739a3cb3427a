import { describe, expect, it } from 'vitest';
import type { RollupWindow } from '../../ml/features/rollup-window.js';
import { Rng } from '../../ml/random.js';
import {
  baselineEvidence,
  beyondRange,
  combinedScore,
  DEFAULT_BASELINE_SETTINGS,
  excessView,
  featureStats,
  fitDeviceBaseline,
  learnedThreshold,
  modelFromJson,
  modelJson,
  parseStats,
  scoreWindows,
  severityOf,
  topDeviations,
  windowMatrix,
} from './model.js';
import { lstmThreshold, sequenceEndingAt, slotGrid, trainingSequences } from './sequences.js';

const T0 = Date.UTC(2026, 0, 5);
const W = 5 * 60_000;

/** A smart plug's day: a cloud check-in every minute, NTP hourly, a little jitter. */
function plugWindows(n: number, seed = 1, from = T0): RollupWindow[] {
  const r = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const flows = 5 + r.int(3) + (i % 12 === 0 ? 2 : 0);
    return {
      deviceId: 7,
      windowStart: new Date(from + i * W),
      activeMinutes: 5,
      bytesOut: flows * (600 + r.int(200)),
      bytesIn: flows * (400 + r.int(150)),
      packetsOut: flows * (8 + r.int(3)),
      packetsIn: flows * (7 + r.int(3)),
      flows,
      maxDistinctPeers: 1 + r.int(2),
      maxDistinctPorts: 1 + r.int(2),
      dnsQueries: i % 12 === 0 ? 2 : r.int(2),
      dnsFailures: 0,
      synNoAck: 0,
    };
  });
}

function burst(at: Date): RollupWindow {
  // A 60-second UDP flood: ~30 000 packets to one target in fresh flows.
  return {
    deviceId: 7,
    windowStart: at,
    activeMinutes: 2,
    bytesOut: 15_000_000,
    bytesIn: 3000,
    packetsOut: 30_000,
    packetsIn: 30,
    flows: 3000,
    maxDistinctPeers: 2,
    maxDistinctPorts: 800,
    dnsQueries: 1,
    dnsFailures: 0,
    synNoAck: 0,
  };
}

describe('learned threshold and severity', () => {
  it('is the quantile of the training scores plus the margin, at most 1', () => {
    const scores = Float64Array.from({ length: 201 }, (_, i) => 0.4 + i * 0.001); // 0.4 … 0.6
    expect(learnedThreshold(scores, 0.5, 0.05)).toBeCloseTo(0.55, 9);
    expect(learnedThreshold(scores, 1, 0.05)).toBeCloseTo(0.65, 9);
    expect(learnedThreshold(scores, 1, 0.9)).toBe(1);
    expect(learnedThreshold([], 0.99, 0.05)).toBe(1);
  });

  it('raises a score toward 1 only past one robust spread beyond the training maximum', () => {
    const stats = { median: [1, 1], p95: [2, 2], max: [3, 3], scale: [0.5, 0.5] };
    expect(beyondRange([2, 3], stats)).toBe(0);
    expect(beyondRange([3.25, 2], stats)).toBeCloseTo(0.5, 9);
    expect(beyondRange([2, 8], stats)).toBeCloseTo(10, 9);
    expect(combinedScore(0.6, 0)).toBe(0.6);
    expect(combinedScore(0.6, 1)).toBe(0.6);
    expect(combinedScore(0.6, 3)).toBeCloseTo(0.6 + 0.4 * (1 - Math.exp(-1)), 9);
    expect(combinedScore(0.6, 30)).toBeGreaterThan(0.999);
  });

  it('is medium well above the threshold, low just above it', () => {
    expect(severityOf(0.71, 0.7)).toBe('low');
    expect(severityOf(0.8, 0.7)).toBe('medium');
  });
});

describe('per-device isolation forest baseline', () => {
  const train = plugWindows(288);

  it('judges windows on what rises: values below the median count as the median', () => {
    const X = windowMatrix(train);
    const stats = featureStats(X);
    const E = excessView(X, stats.median);
    for (let i = 0; i < E.data.length; i++)
      expect(E.data[i]).toBeGreaterThanOrEqual(stats.median[i % X.nCols] as number);
    // A silent window scores like an ordinary one.
    const b = fitDeviceBaseline(7, train);
    const quiet = {
      ...burst(new Date(T0)),
      bytesOut: 0,
      bytesIn: 0,
      packetsOut: 0,
      packetsIn: 0,
      flows: 1,
      maxDistinctPorts: 1,
    };
    expect(scoreWindows(b.model, b.stats, [quiet])[0]).toBeLessThan(b.threshold);
  });

  it('is deterministic and survives serialisation', () => {
    const a = fitDeviceBaseline(7, train);
    const b = fitDeviceBaseline(7, train);
    expect(JSON.stringify(modelJson(a.model))).toBe(JSON.stringify(modelJson(b.model)));
    expect(a.threshold).toBe(b.threshold);
    const back = modelFromJson(JSON.parse(JSON.stringify(modelJson(a.model))));
    const w = plugWindows(5, 99);
    expect(Array.from(scoreWindows(back, a.stats, w))).toEqual(Array.from(scoreWindows(a.model, a.stats, w)));
    expect(parseStats(JSON.parse(JSON.stringify(a.stats)))).toEqual(a.stats);
    expect(a).toMatchObject({
      windowsUsed: 288,
      trainedFrom: new Date(T0),
      trainedTo: new Date(T0 + 287 * W),
    });
    expect(a.model.params.nEstimators).toBe(DEFAULT_BASELINE_SETTINGS.trees);
  });

  it('flags a flood window and hardly ever a new benign day', () => {
    const b = fitDeviceBaseline(7, train);
    const nextDay = plugWindows(288, 2, T0 + 288 * W);
    const scores = scoreWindows(b.model, b.stats, nextDay);
    const flagged = Array.from(scores).filter((s) => s > b.threshold).length;
    expect(flagged).toBeLessThanOrEqual(1);
    const [s] = scoreWindows(b.model, b.stats, [burst(new Date(T0 + 600 * W))]);
    expect(s).toBeGreaterThan(b.threshold);
    expect(severityOf(s as number, b.threshold)).toBe('medium');
  });

  it('explains a window by the features that rise most above the median', () => {
    const b = fitDeviceBaseline(7, train);
    const w = burst(new Date(T0 + 600 * W));
    const top = topDeviations(w, b.stats);
    expect(top).toHaveLength(3);
    expect(top.map((t) => t.feature)).toContain('packets_out');
    for (const t of top) {
      expect(t.value).toBeGreaterThan(t.p95);
      expect(t.deviation).toBeGreaterThan(0);
    }
    const ev = baselineEvidence({
      model: 'isolation-forest',
      scope: 'device',
      windowStart: w.windowStart,
      windowEnd: new Date(w.windowStart.getTime() + W),
      windowMinutes: 5,
      score: 0.81234567,
      threshold: 0.7,
      fittedAt: new Date(T0),
      features: top,
    });
    expect(ev).toMatchObject({
      model: 'isolation-forest',
      model_kind: 'isolation forest per device',
      feature_set: 'rollup-window@1',
      window_start: w.windowStart.toISOString(),
      window_minutes: 5,
      score: 0.812346,
      threshold: 0.7,
      fitted_at: new Date(T0).toISOString(),
      features: top,
    });
  });
});

describe('LSTM sequences', () => {
  const median = new Array<number>(10).fill(1);

  it('lays windows on a dense slot grid in the excess view (idle slots are zero)', () => {
    const w = plugWindows(3).filter((_, i) => i !== 1);
    const g = slotGrid(7, w, median, T0, T0 + 3 * W, 5);
    expect(g.nSlots).toBe(3);
    expect(Array.from(g.rows.subarray(10, 20))).toEqual(new Array(10).fill(0));
    expect(g.rows[0]).toBeCloseTo(Math.log1p(w[0]!.bytesOut) - 1, 5);
    expect(g.rows[8]).toBe(0); // dns_failures: 0 → log1p 0 below the median
  });

  it('builds stride-1 sequences, thinned evenly to the cap', () => {
    const g = slotGrid(7, plugWindows(20), median, T0, T0 + 20 * W, 5);
    expect(trainingSequences([g], 6, 1000).nSeq).toBe(15);
    const capped = trainingSequences([g, { ...g, deviceId: 8 }], 6, 10);
    expect(capped).toMatchObject({ nSeq: 10, steps: 6, features: 10 });
    expect(capped.data).toHaveLength(10 * 6 * 10);
    expect(sequenceEndingAt(g, 4, 6)).toBeNull();
    expect(sequenceEndingAt(g, 5, 6)).toEqual(g.rows.slice(0, 60));
    expect(lstmThreshold(2, 0.5)).toBe(3);
  });
});
