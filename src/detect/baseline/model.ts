/**
 * Per-device behaviour baselines, the pure part: an isolation forest fitted on one device's own 5-minute
 * windows (feature set `rollup-window`, log1p-scaled), its learned threshold, scoring of new windows and the
 * evidence an alert carries. No database, no clock, no logging: the job (./job.ts) feeds it windows.
 *
 * Windows are judged on what rises. Every feature below the device's training median counts as the median
 * ("excess view"), in training and in scoring alike: a quieter window than usual (night, the owner away)
 * is not what a security baseline is for, and without it a device first learned by day would alert all
 * night. A scan, a flood, a beacon or an exfiltration all raise something (flows, peers, ports, bytes, DNS).
 */
import { quantileSorted } from '../../ml/eval/metrics.js';
import { featureSetSignature } from '../../ml/features/feature-set.js';
import { ROLLUP_WINDOW_FEATURES, type RollupWindow } from '../../ml/features/rollup-window.js';
import { IsolationForest, ISOLATION_FOREST_ALGORITHM } from '../../ml/isolation-forest.js';
import type { Matrix } from '../../ml/matrix.js';
import { withChecksum, type ModelEnvelope } from '../../ml/serialize.js';

export const FEATURE_NAMES: readonly string[] = ROLLUP_WINDOW_FEATURES.features.map((f) => f.name);
export const FEATURE_SET = featureSetSignature(ROLLUP_WINDOW_FEATURES);
export const FEATURE_SET_ID = `${FEATURE_SET.name}@${FEATURE_SET.version}`;
const NF = FEATURE_NAMES.length;

/** z of the 95th percentile of a normal distribution: (p95 - median) / Z95 estimates a spread. */
const Z95 = 1.645;
/** Smallest spread (log1p units, ≈ ×1.28) so a device with a constant feature does not alert on +1 byte. */
const MIN_SCALE = 0.25;
/** Spreads beyond the training maximum tolerated before the score is raised, and the rate after that. */
const BEYOND_TOLERANCE = 1;
const BEYOND_RATE = 0.5;
/** Score above threshold by at least this much: medium rather than low. */
export const MEDIUM_MARGIN = 0.08;

export interface BaselineSettings {
  /** Trees per forest (default 50). */
  trees: number;
  /** Subsample per tree, at most (default 256). */
  maxSamples: number;
  /** Quantile of the device's own training scores the threshold starts from (default 0.995). */
  quantile: number;
  /** Added to that quantile (default 0.05). */
  margin: number;
  seed: number;
}

export const DEFAULT_BASELINE_SETTINGS: BaselineSettings = {
  trees: 50,
  maxSamples: 256,
  quantile: 0.995,
  margin: 0.05,
  seed: 0,
};

/** Per-feature statistics of a device's training windows, in log1p units. */
export interface FeatureStats {
  median: number[];
  p95: number[];
  max: number[];
  /** Robust spread: (p95 - median) / 1.645, at least MIN_SCALE. */
  scale: number[];
}

export interface ScoreQuantiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface FittedBaseline {
  deviceId: number;
  model: IsolationForest;
  threshold: number;
  stats: FeatureStats;
  scores: ScoreQuantiles;
  windowsUsed: number;
  trainedFrom: Date;
  /** Start of the last training window. */
  trainedTo: Date;
}

/** Feature rows (log1p) of windows, in order. */
export function windowMatrix(windows: readonly RollupWindow[]): Matrix {
  const data = new Float64Array(windows.length * NF);
  windows.forEach((w, r) => data.set(ROLLUP_WINDOW_FEATURES.extract(w), r * NF));
  return { data, nRows: windows.length, nCols: NF };
}

export function featureStats(X: Matrix): FeatureStats {
  const median: number[] = [];
  const p95: number[] = [];
  const max: number[] = [];
  const scale: number[] = [];
  const col = new Float64Array(X.nRows);
  for (let c = 0; c < X.nCols; c++) {
    for (let r = 0; r < X.nRows; r++) col[r] = X.data[r * X.nCols + c] as number;
    col.sort();
    const m = quantileSorted(col, 0.5);
    const p = quantileSorted(col, 0.95);
    median.push(round6(m));
    p95.push(round6(p));
    max.push(round6(col[col.length - 1] ?? 0));
    scale.push(round6(Math.max((p - m) / Z95, MIN_SCALE)));
  }
  return { median, p95, max, scale };
}

/** The excess view: every value below the feature's median becomes the median (a copy). */
export function excessView(X: Matrix, median: readonly number[]): Matrix {
  const data = Float64Array.from(X.data);
  for (let r = 0; r < X.nRows; r++)
    for (let c = 0; c < X.nCols; c++) {
      const i = r * X.nCols + c;
      const m = median[c] as number;
      if ((data[i] as number) < m) data[i] = m;
    }
  return { data, nRows: X.nRows, nCols: X.nCols };
}

/**
 * The alert threshold learned from a device's own training scores: their `quantile` plus `margin`, never
 * above 1 (the score's maximum). With ~288 windows a day, the 0.995 quantile alone would flag about 1.4
 * benign windows a day in-sample; new windows score a little higher than training ones, and the margin
 * brings a stable device to about one alert a day at most.
 */
export function learnedThreshold(trainScores: ArrayLike<number>, quantile: number, margin: number): number {
  const s = Float64Array.from(trainScores).sort();
  if (s.length === 0) return 1;
  return Math.min(1, quantileSorted(s, quantile) + margin);
}

export function severityOf(score: number, threshold: number): 'medium' | 'low' {
  return score >= threshold + MEDIUM_MARGIN ? 'medium' : 'low';
}

/** A deterministic seed per device, so a refit on the same windows gives the same forest. */
export function deviceSeed(seed: number, deviceId: number): number {
  return (Math.imul(deviceId ^ 0x9e3779b9, 0x85ebca6b) ^ seed) >>> 0;
}

/** Fits a device's baseline on its windows (≥ 2; the job asks for many more). */
export function fitDeviceBaseline(
  deviceId: number,
  windows: readonly RollupWindow[],
  settings: BaselineSettings = DEFAULT_BASELINE_SETTINGS,
): FittedBaseline {
  if (windows.length < 2) throw new RangeError(`device ${deviceId}: ${windows.length} windows, need ≥ 2`);
  const X = windowMatrix(windows);
  const stats = featureStats(X);
  const E = excessView(X, stats.median);
  const model = new IsolationForest({
    nEstimators: settings.trees,
    maxSamples: Math.min(settings.maxSamples, E.nRows),
    contamination: 'auto',
    seed: deviceSeed(settings.seed, deviceId),
  }).fit(E, { featureSet: FEATURE_SET });
  const scores = model.scoreSamples(E);
  const sorted = Float64Array.from(scores).sort();
  const q = (p: number) => round6(quantileSorted(sorted, p));
  const first = windows[0] as RollupWindow;
  const last = windows[windows.length - 1] as RollupWindow;
  return {
    deviceId,
    model,
    threshold: round6(learnedThreshold(scores, settings.quantile, settings.margin)),
    stats,
    scores: { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: q(1) },
    windowsUsed: windows.length,
    trainedFrom: first.windowStart,
    trainedTo: last.windowStart,
  };
}

/** How many robust spreads the row goes beyond the training maximum, on its most extreme feature (≥ 0). */
export function beyondRange(row: ArrayLike<number>, stats: FeatureStats): number {
  let b = 0;
  for (let c = 0; c < NF; c++) {
    const over = ((row[c] as number) - (stats.max[c] ?? 0)) / (stats.scale[c] ?? MIN_SCALE);
    if (over > b) b = over;
  }
  return b;
}

/** The forest's score raised toward 1 by how far beyond the training range the row goes. */
export function combinedScore(forestScore: number, beyond: number): number {
  const bump = 1 - Math.exp(-Math.max(0, beyond - BEYOND_TOLERANCE) * BEYOND_RATE);
  return forestScore + (1 - forestScore) * bump;
}

/** Anomaly scores (0..1) of windows under a fitted forest and the device's statistics. */
export function scoreWindows(
  model: IsolationForest,
  stats: FeatureStats,
  windows: readonly RollupWindow[],
): Float64Array {
  if (windows.length === 0) return new Float64Array(0);
  const X = windowMatrix(windows);
  const s = model.scoreSamples(excessView(X, stats.median));
  for (let r = 0; r < X.nRows; r++)
    s[r] = combinedScore(s[r] as number, beyondRange(X.data.subarray(r * NF, (r + 1) * NF), stats));
  return s;
}

export interface FeatureDeviation {
  feature: string;
  /** The window's value (natural units: bytes, packets, flows, peers …). */
  value: number;
  /** The device's median and 95th percentile over its training windows (natural units). */
  median: number;
  p95: number;
  /** How many robust spreads above the median, in log1p units. */
  deviation: number;
}

/** The features of one window that rise most above the device's median (positive deviations only). */
export function topDeviations(window: RollupWindow, stats: FeatureStats, k = 3): FeatureDeviation[] {
  const row = ROLLUP_WINDOW_FEATURES.extract(window);
  const out: FeatureDeviation[] = [];
  for (let c = 0; c < NF; c++) {
    const m = stats.median[c] ?? 0;
    const dev = ((row[c] as number) - m) / (stats.scale[c] ?? MIN_SCALE);
    if (dev <= 0) continue;
    out.push({
      feature: FEATURE_NAMES[c] as string,
      value: Math.round(Math.expm1(row[c] as number)),
      median: round2(Math.expm1(m)),
      p95: round2(Math.expm1(stats.p95[c] ?? m)),
      deviation: round2(dev),
    });
  }
  return out.sort((a, b) => b.deviation - a.deviation).slice(0, k);
}

export interface BaselineEvidenceInput {
  model: 'isolation-forest' | 'lstm-autoencoder';
  scope: 'device' | 'device_type';
  windowStart: Date;
  windowEnd: Date;
  windowMinutes: number;
  score: number;
  threshold: number;
  fittedAt: Date;
  features: FeatureDeviation[];
  extra?: Record<string, unknown>;
}

/** The `evidence` of an `anomaly` alert raised by a baseline. */
export function baselineEvidence(e: BaselineEvidenceInput): Record<string, unknown> {
  return {
    model: e.model,
    model_kind: e.scope === 'device' ? 'isolation forest per device' : 'LSTM autoencoder per device type',
    scope: e.scope,
    feature_set: FEATURE_SET_ID,
    window_start: e.windowStart.toISOString(),
    window_end: e.windowEnd.toISOString(),
    window_minutes: e.windowMinutes,
    score: round6(e.score),
    threshold: round6(e.threshold),
    fitted_at: e.fittedAt.toISOString(),
    features: e.features,
    ...e.extra,
  };
}

/** Serialised forest (with checksum) for the device_baselines row. */
export function modelJson(model: IsolationForest): ModelEnvelope {
  return withChecksum(model.toJSON());
}

export function modelFromJson(json: unknown): IsolationForest {
  return IsolationForest.fromJSON(json);
}

export const BASELINE_ALGORITHM = ISOLATION_FOREST_ALGORITHM;

export function parseStats(v: unknown): FeatureStats | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const arr = (k: string): number[] | null => {
    const a = o[k];
    return Array.isArray(a) && a.length === NF && a.every((x) => typeof x === 'number') ? a : null;
  };
  const median = arr('median');
  const p95 = arr('p95');
  const max = arr('max');
  const scale = arr('scale');
  return median && p95 && max && scale ? { median, p95, max, scale } : null;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
