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
  const distinct = new DistinctValues(maxBins);
  const edges: BinEdges = [];
  for (let c = 0; c < nCols; c++) {
    if (rows) for (let i = 0; i < n; i++) col[i] = data[(rows[i] as number) * nCols + c] as number;
    else for (let i = 0; i < n; i++) col[i] = data[i * nCols + c] as number;
    // Few distinct values (flags, one-hot, ports…): their midpoints, without sorting the whole column.
    const few = distinct.collect(col);
    if (few) edges.push(midpoints(few.sort()));
    else {
      col.sort();
      edges.push(edgesFromSorted(col, maxBins));
    }
  }
  return edges;
}

/**
 * The distinct values of a column when there are at most `max` of them (an open-addressing hash set over
 * the values' bits; -0 counts as 0, as the sorted scan's !== does), or null as soon as there are more.
 */
class DistinctValues {
  private readonly table: Float64Array;
  private readonly used: Uint8Array;
  private readonly values: Float64Array;
  private readonly mask: number;
  private readonly bits = new Float64Array(1);
  private readonly words = new Uint32Array(this.bits.buffer);

  constructor(private readonly max: number) {
    let size = 16;
    while (size < 4 * max) size <<= 1;
    this.table = new Float64Array(size);
    this.used = new Uint8Array(size);
    this.values = new Float64Array(max);
    this.mask = size - 1;
  }

  collect(col: Float64Array): Float64Array | null {
    const { table, used, values, mask, bits, words, max } = this;
    used.fill(0);
    let d = 0;
    for (let i = 0; i < col.length; i++) {
      const v = (col[i] as number) + 0; // -0 → 0
      bits[0] = v;
      let h = Math.imul((words[0] as number) ^ Math.imul(words[1] as number, 0x85ebca6b), 0x9e3779b1) >>> 0;
      for (;;) {
        h &= mask;
        if (used[h] === 0) {
          if (d === max) return null;
          used[h] = 1;
          table[h] = v;
          values[d++] = v;
          break;
        }
        if (table[h] === v) break;
        h++;
      }
    }
    return values.slice(0, d);
  }
}

/** Edges between consecutive values of an ascending array of distinct values. */
function midpoints(uniq: Float64Array): Float64Array {
  const out = new Float64Array(Math.max(0, uniq.length - 1));
  for (let j = 0; j + 1 < uniq.length; j++) out[j] = midpoint(uniq[j] as number, uniq[j + 1] as number);
  return out;
}

/** Edges for one sorted column (one pass, no per-value allocation). */
export function edgesFromSorted(sorted: Float64Array, maxBins: number): Float64Array {
  const n = sorted.length;
  // Distinct values, counted up to maxBins + 1.
  let d = 0;
  for (let i = 0; i < n && d <= maxBins; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) d++;
  const out = new Float64Array(maxBins - 1);
  let m = 0;
  if (d <= maxBins) {
    for (let j = 0; j + 1 < n; j++) {
      const v = sorted[j] as number;
      const next = sorted[j + 1] as number;
      if (next !== v) out[m++] = midpoint(v, next);
    }
  } else {
    // Close a bin once the cumulative count (rows up to the end of a run of equal values) reaches the next
    // quantile target.
    let nextBin = 1;
    for (let j = 0; j + 1 < n && m < maxBins - 1; j++) {
      const v = sorted[j] as number;
      const next = sorted[j + 1] as number;
      if (next === v) continue;
      const cum = j + 1;
      if (cum >= (nextBin * n) / maxBins) {
        out[m++] = midpoint(v, next);
        while (nextBin < maxBins && cum >= (nextBin * n) / maxBins) nextBin++;
      }
    }
  }
  return out.slice(0, m);
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

/**
 * Bin codes of column c of X, written to out[base + r]. Same codes as binOf, found by a
 * fixed-length branch-free search over the edges padded with +Infinity to 2^k − 1 entries: the step is taken
 * when !(v <= edge), so NaN lands past every edge, as with binOf.
 */
function binColumn(X: Matrix, c: number, edges: Float64Array, out: Uint8Array, base: number): void {
  const { nRows, nCols, data } = X;
  const L = edges.length;
  let size = 1;
  while (size - 1 < L) size <<= 1;
  const padded = new Float64Array(size - 1).fill(Infinity);
  padded.set(edges);
  const half = size >> 1;
  for (let r = 0; r < nRows; r++) {
    const v = data[r * nCols + c] as number;
    let lo = 0;
    for (let step = half; step > 0; step >>= 1) {
      // -1 (all bits) when the step is taken, else 0.
      const take = -((!(v <= (padded[lo + step - 1] as number)) as unknown as number) | 0);
      lo += step & take;
    }
    out[base + r] = lo < L ? lo : L;
  }
}

/** Bins X column-major: code of (r, c) at `c * nRows + r`. */
export function binColumnMajor(X: Matrix, edges: BinEdges): Uint8Array {
  const { nRows, nCols } = X;
  const out = new Uint8Array(nRows * nCols);
  for (let c = 0; c < nCols; c++) binColumn(X, c, edges[c] as Float64Array, out, c * nRows);
  return out;
}

/**
 * Column-major bin codes of a matrix with each feature's first global bin (features laid end to end). A class
 * rather than an object literal: V8 turns a literal's site into a boilerplate on its second run, which widens
 * the field types optimised code was compiled against and throws that code away mid-fit.
 */
export class BinnedColumns {
  constructor(
    /** (r, c) at `c * nRows + r`. */
    readonly colMajor: Uint8Array,
    /** offsets[c] = first global bin of feature c (which has edges[c].length + 1 bins); offsets[nCols] = total. */
    readonly offsets: Int32Array,
  ) {}

  static of(X: Matrix, edges: BinEdges): BinnedColumns {
    const offsets = new Int32Array(X.nCols + 1);
    for (let c = 0; c < X.nCols; c++)
      offsets[c + 1] = (offsets[c] as number) + (edges[c] as Float64Array).length + 1;
    return new BinnedColumns(binColumnMajor(X, edges), offsets);
  }
}
