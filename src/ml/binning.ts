/**
 * Quantile binning shared by the tree learners: each feature gets at most `maxBins` bins (≤ 256, so a bin
 * code fits a byte). Edges are midpoints between neighbouring distinct training values, so with ≤ maxBins
 * distinct values a split on bins is exactly a CART split on raw values. A value x falls in the first bin b
 * with x <= edges[b] (the last bin has no edge); "bin <= b" is therefore "x <= edges[b]".
 */
import type { Matrix } from './matrix.js';
import type { Rng } from './random.js';

export const MAX_BINS = 256;

/** Cut points per feature (ascending, at most maxBins - 1 of them). */
export type BinEdges = Float64Array[];

export function fitBinEdges(X: Matrix, maxBins: number, rng?: Rng, maxRows = 200_000): BinEdges {
  const { nRows, nCols, data } = X;
  let rows: Int32Array | null = null;
  if (nRows > maxRows && rng) rows = rng.sampleWithoutReplacement(nRows, maxRows).sort();
  const n = rows ? rows.length : nRows;
  const col = new Float64Array(n);
  const edges: BinEdges = [];
  for (let c = 0; c < nCols; c++) {
    if (rows) for (let i = 0; i < n; i++) col[i] = data[(rows[i] as number) * nCols + c] as number;
    else for (let i = 0; i < n; i++) col[i] = data[i * nCols + c] as number;
    col.sort();
    edges.push(edgesFromSorted(col, maxBins));
  }
  return edges;
}

/** Edges for one sorted column. */
export function edgesFromSorted(sorted: Float64Array, maxBins: number): Float64Array {
  const n = sorted.length;
  // Distinct values and their counts.
  const uniq: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = sorted[i] as number;
    if (uniq.length === 0 || v !== uniq[uniq.length - 1]) {
      uniq.push(v);
      counts.push(1);
    } else counts[counts.length - 1]! += 1;
  }
  const d = uniq.length;
  const out: number[] = [];
  if (d <= maxBins) {
    for (let i = 0; i + 1 < d; i++) out.push(midpoint(uniq[i] as number, uniq[i + 1] as number));
  } else {
    // Close a bin once its cumulative count reaches the next quantile target.
    let cum = 0;
    let nextBin = 1;
    for (let i = 0; i + 1 < d && out.length < maxBins - 1; i++) {
      cum += counts[i] as number;
      if (cum >= (nextBin * n) / maxBins) {
        out.push(midpoint(uniq[i] as number, uniq[i + 1] as number));
        while (nextBin < maxBins && cum >= (nextBin * n) / maxBins) nextBin++;
      }
    }
  }
  return Float64Array.from(out);
}

function midpoint(a: number, b: number): number {
  const m = a + (b - a) / 2;
  // Rounding may land on b (adjacent floats); a keeps "x <= edge" on the left side for a and right for b.
  return m < b ? m : a;
}

/** Bin code of one value: index of the first edge >= v, or edges.length. */
export function binOf(edges: Float64Array, v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (v <= (edges[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Bins X column-major: code of (r, c) at `c * nRows + r`. */
export function binColumnMajor(X: Matrix, edges: BinEdges): Uint8Array {
  const { nRows, nCols, data } = X;
  const out = new Uint8Array(nRows * nCols);
  for (let c = 0; c < nCols; c++) {
    const e = edges[c] as Float64Array;
    const base = c * nRows;
    for (let r = 0; r < nRows; r++) out[base + r] = binOf(e, data[r * nCols + c] as number);
  }
  return out;
}

/** Bins X row-major: code of (r, c) at `r * nCols + c`. */
export function binRowMajor(X: Matrix, edges: BinEdges): Uint8Array {
  const { nRows, nCols, data } = X;
  const out = new Uint8Array(nRows * nCols);
  for (let c = 0; c < nCols; c++) {
    const e = edges[c] as Float64Array;
    for (let r = 0; r < nRows; r++) out[r * nCols + c] = binOf(e, data[r * nCols + c] as number);
  }
  return out;
}
