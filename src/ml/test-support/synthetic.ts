/**
 * Seeded synthetic data sets with known structure, for tests and benchmarks.
 */
import type { Matrix } from '../matrix.js';
import { Rng } from '../random.js';

export interface Dataset {
  X: Matrix;
  y: Int32Array;
}

/**
 * Gaussian blobs: `nClasses` classes whose means differ on the first `nInformative` features (unit
 * variance, means drawn in [-sep, sep]); the remaining `nFeatures - nInformative` columns are pure noise.
 */
export function blobs(opts: {
  nRows: number;
  nClasses: number;
  nFeatures: number;
  nInformative: number;
  sep?: number;
  seed?: number;
}): Dataset {
  const { nRows, nClasses, nFeatures, nInformative } = opts;
  const rng = new Rng(opts.seed ?? 1);
  const sep = opts.sep ?? 2;
  const means = new Float64Array(nClasses * nInformative);
  for (let i = 0; i < means.length; i++) means[i] = rng.uniform(-sep, sep);
  const data = new Float64Array(nRows * nFeatures);
  const y = new Int32Array(nRows);
  for (let r = 0; r < nRows; r++) {
    const k = r % nClasses;
    y[r] = k;
    for (let c = 0; c < nFeatures; c++) {
      const mu = c < nInformative ? (means[k * nInformative + c] as number) : 0;
      data[r * nFeatures + c] = mu + rng.normal();
    }
  }
  return { X: { data, nRows, nCols: nFeatures }, y };
}

/** XOR: label = (x0 > 0) xor (x1 > 0) on uniform [-1, 1]², plus `nNoise` uniform noise columns. */
export function xor(nRows: number, seed = 1, nNoise = 0): Dataset {
  const rng = new Rng(seed);
  const nCols = 2 + nNoise;
  const data = new Float64Array(nRows * nCols);
  const y = new Int32Array(nRows);
  for (let r = 0; r < nRows; r++) {
    for (let c = 0; c < nCols; c++) data[r * nCols + c] = rng.uniform(-1, 1);
    y[r] = (data[r * nCols] as number) > 0 !== (data[r * nCols + 1] as number) > 0 ? 1 : 0;
  }
  return { X: { data, nRows, nCols }, y };
}

/** Two interleaving half circles (scikit-learn's make_moons) with Gaussian noise. */
export function moons(nRows: number, noise = 0.1, seed = 1): Dataset {
  const rng = new Rng(seed);
  const data = new Float64Array(nRows * 2);
  const y = new Int32Array(nRows);
  for (let r = 0; r < nRows; r++) {
    const k = r % 2;
    const t = Math.PI * rng.float();
    const x0 = k === 0 ? Math.cos(t) : 1 - Math.cos(t);
    const x1 = k === 0 ? Math.sin(t) : 0.5 - Math.sin(t);
    data[r * 2] = x0 + noise * rng.normal();
    data[r * 2 + 1] = x1 + noise * rng.normal();
    y[r] = k;
  }
  return { X: { data, nRows, nCols: 2 }, y };
}

/**
 * Inliers from a standard normal in `nCols` dimensions and `nOutliers` points uniform in a shell
 * [4, 8] away on every coordinate (random sign). y marks outliers with 1. Outliers come last.
 */
export function plantedOutliers(nInliers: number, nOutliers: number, nCols: number, seed = 1): Dataset {
  const rng = new Rng(seed);
  const nRows = nInliers + nOutliers;
  const data = new Float64Array(nRows * nCols);
  const y = new Int32Array(nRows);
  for (let r = 0; r < nRows; r++) {
    const out = r >= nInliers;
    y[r] = out ? 1 : 0;
    for (let c = 0; c < nCols; c++) {
      data[r * nCols + c] = out ? (rng.float() < 0.5 ? -1 : 1) * rng.uniform(4, 8) : rng.normal();
    }
  }
  return { X: { data, nRows, nCols }, y };
}
