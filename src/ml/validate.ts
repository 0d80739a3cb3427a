import { MlError } from './errors.js';
import type { Matrix } from './matrix.js';

/** Throws unless X is a non-empty matrix of finite numbers (names the first bad row/column). */
export function assertMatrix(X: Matrix, what = 'X'): void {
  const { data, nRows, nCols } = X;
  if (!Number.isInteger(nRows) || !Number.isInteger(nCols) || nRows < 0 || nCols < 0) {
    throw new MlError('ML_INVALID_INPUT', `${what} has an invalid shape ${nRows}x${nCols}`);
  }
  if (nRows === 0 || nCols === 0) {
    throw new MlError('ML_EMPTY_DATA', `${what} is empty (${nRows} rows, ${nCols} columns)`);
  }
  if (data.length !== nRows * nCols) {
    throw new MlError(
      'ML_LENGTH_MISMATCH',
      `${what} has ${data.length} values but its shape ${nRows}x${nCols} needs ${nRows * nCols}`,
    );
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    // v - v is NaN for NaN and ±Infinity: one comparison per value.
    if (v - v !== 0) {
      const row = Math.floor(i / nCols);
      const col = i - row * nCols;
      throw new MlError('ML_INVALID_INPUT', `${what}[${row}, ${col}] is ${v}; values must be finite`, {
        row,
        col,
        value: String(v),
      });
    }
  }
}

/** Throws unless X has exactly `nCols` columns (the number the model was fitted on). */
export function assertColumns(X: Matrix, nCols: number, what = 'X'): void {
  if (X.nCols !== nCols) {
    throw new MlError('ML_LENGTH_MISMATCH', `${what} has ${X.nCols} columns but the model expects ${nCols}`, {
      expected: nCols,
      actual: X.nCols,
    });
  }
}

export function assertLength(name: string, actual: number, expected: number): void {
  if (actual !== expected) {
    throw new MlError('ML_LENGTH_MISMATCH', `${name} has ${actual} entries but X has ${expected} rows`, {
      expected,
      actual,
    });
  }
}

/** Non-negative finite weights of the right length, not all zero. */
export function assertWeights(w: ArrayLike<number>, n: number, what = 'sampleWeight'): void {
  assertLength(what, w.length, n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = w[i] as number;
    if (!(v >= 0) || v === Infinity) {
      throw new MlError('ML_INVALID_INPUT', `${what}[${i}] is ${v}; weights must be finite and >= 0`, {
        row: i,
      });
    }
    total += v;
  }
  if (total <= 0) throw new MlError('ML_INVALID_INPUT', `${what} sums to 0`);
}

export interface EncodedLabels {
  /** Sorted distinct labels; the model's class k is `classes[k]`. */
  readonly classes: Int32Array;
  /** y mapped to 0..classes.length-1. */
  readonly encoded: Int32Array;
}

/**
 * Checks X and y together for a classifier and maps labels to class indices. `classes`, when given, is the
 * full label set (so a class absent from this sample still gets a column in predictProba).
 */
export function validateClassification(
  X: Matrix,
  y: ArrayLike<number>,
  opts: { classes?: ArrayLike<number> } = {},
): EncodedLabels {
  assertMatrix(X);
  assertLength('y', y.length, X.nRows);
  for (let i = 0; i < y.length; i++) {
    const v = y[i] as number;
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
      throw new MlError('ML_INVALID_INPUT', `y[${i}] is ${v}; labels must be 32-bit integers`, { row: i });
    }
  }
  const classes = opts.classes ? Int32Array.from(opts.classes) : uniqueSorted(y);
  classes.sort();
  for (let k = 1; k < classes.length; k++) {
    if (classes[k] === classes[k - 1]) {
      throw new MlError('ML_INVALID_PARAM', `classes contains ${classes[k]} twice`);
    }
  }
  if (classes.length > X.nRows) {
    throw new MlError('ML_TOO_MANY_CLASSES', `${classes.length} classes but only ${X.nRows} rows`, {
      classes: classes.length,
      rows: X.nRows,
    });
  }
  const index = new Map<number, number>();
  classes.forEach((c, k) => index.set(c, k));
  const encoded = new Int32Array(y.length);
  const seen = new Uint8Array(classes.length);
  for (let i = 0; i < y.length; i++) {
    const k = index.get(y[i] as number);
    if (k === undefined) {
      throw new MlError('ML_INVALID_INPUT', `y[${i}] = ${y[i]} is not one of the declared classes`, {
        row: i,
      });
    }
    encoded[i] = k;
    seen[k] = 1;
  }
  let present = 0;
  for (const s of seen) present += s;
  if (present < 2) {
    throw new MlError('ML_SINGLE_CLASS', `y has a single class (${y[0]}); a classifier needs at least two`);
  }
  return { classes, encoded };
}

export function uniqueSorted(y: ArrayLike<number>): Int32Array {
  const s = new Set<number>();
  for (let i = 0; i < y.length; i++) s.add(y[i] as number);
  return Int32Array.from(s).sort();
}

export function assertIntParam(name: string, v: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new MlError('ML_INVALID_PARAM', `${name} must be an integer in [${min}, ${max}], got ${v}`);
  }
}

export function assertNumberParam(
  name: string,
  v: number,
  min: number,
  max: number,
  opts: { minExclusive?: boolean; maxExclusive?: boolean } = {},
): void {
  const lowOk = opts.minExclusive ? v > min : v >= min;
  const highOk = opts.maxExclusive ? v < max : v <= max;
  if (!Number.isFinite(v) || !lowOk || !highOk) {
    const lo = opts.minExclusive ? '(' : '[';
    const hi = opts.maxExclusive ? ')' : ']';
    throw new MlError('ML_INVALID_PARAM', `${name} must be in ${lo}${min}, ${max}${hi}, got ${v}`);
  }
}
