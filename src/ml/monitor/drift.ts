/**
 * Feature drift: the training distribution of each feature is summarised at registration as a fixed number
 * of quantile points (a compact reference sample that keeps ties, e.g. a feature that is mostly 0), and
 * compared with recent inputs by the population stability index (PSI, src/ml/eval/metrics.ts).
 */
import { psi, quantileSorted } from '../eval/metrics.js';
import type { Matrix } from '../matrix.js';
import type { RecentRows } from './reservoir.js';

export interface FeatureReference {
  /** Feature names in column order. */
  readonly features: readonly string[];
  /** Per feature, `points` quantiles of its training values at q = i / (points - 1). */
  readonly quantiles: readonly (readonly number[])[];
  /** Rows the reference was computed from. */
  readonly rows: number;
}

export const REFERENCE_POINTS = 101;
export const PSI_BINS = 10;

/** Summarises the training matrix's columns (non-finite values are skipped). */
export function buildReference(
  featureNames: readonly string[],
  X: Matrix,
  points = REFERENCE_POINTS,
): FeatureReference {
  if (featureNames.length !== X.nCols) {
    throw new RangeError(`${featureNames.length} feature names for a matrix of ${X.nCols} columns`);
  }
  const quantiles: number[][] = [];
  for (let c = 0; c < X.nCols; c++) {
    const col: number[] = [];
    for (let r = 0; r < X.nRows; r++) {
      const v = X.data[r * X.nCols + c] as number;
      if (Number.isFinite(v)) col.push(v);
    }
    const sorted = Float64Array.from(col).sort();
    const q: number[] = [];
    if (sorted.length > 0) {
      for (let i = 0; i < points; i++) q.push(roundSig(quantileSorted(sorted, i / (points - 1))));
    }
    quantiles.push(q);
  }
  return { features: [...featureNames], quantiles, rows: X.nRows };
}

function roundSig(v: number): number {
  return Number(v.toPrecision(10));
}

/** Reads a reference back from JSON (a training summary); null when it is absent or malformed. */
export function parseReference(v: unknown): FeatureReference | null {
  if (v === null || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  const features = o['features'];
  const quantiles = o['quantiles'];
  if (!Array.isArray(features) || !Array.isArray(quantiles) || features.length !== quantiles.length) {
    return null;
  }
  if (!features.every((f) => typeof f === 'string')) return null;
  if (!quantiles.every((q) => Array.isArray(q) && q.every((x) => typeof x === 'number'))) return null;
  return {
    features: features as string[],
    quantiles: quantiles as number[][],
    rows: typeof o['rows'] === 'number' ? o['rows'] : 0,
  };
}

/** PSI per feature of the recent rows against the reference; features without reference data are left out. */
export function featureDrift(reference: FeatureReference, recent: RecentRows): Record<string, number> {
  const out: Record<string, number> = {};
  if (recent.size === 0 || recent.nCols !== reference.features.length) return out;
  for (let c = 0; c < reference.features.length; c++) {
    const ref = reference.quantiles[c];
    const name = reference.features[c];
    if (!ref || ref.length === 0 || name === undefined) continue;
    out[name] = Number(psi(ref, recent.column(c), PSI_BINS).psi.toFixed(6));
  }
  return out;
}

/** The features whose PSI exceeds `threshold`, worst first. */
export function driftedFeatures(drift: Record<string, number>, threshold: number): [string, number][] {
  return Object.entries(drift)
    .filter(([, v]) => v > threshold)
    .sort((a, b) => b[1] - a[1]);
}
