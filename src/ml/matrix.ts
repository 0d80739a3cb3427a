import { MlError } from './errors.js';

/** A dense feature matrix in row-major order: value (r, c) is `data[r * nCols + c]`. */
export interface Matrix {
  readonly data: Float64Array | Float32Array;
  readonly nRows: number;
  readonly nCols: number;
}

export function matrix(data: Float64Array | Float32Array, nRows: number, nCols: number): Matrix {
  if (!Number.isInteger(nRows) || !Number.isInteger(nCols) || nRows < 0 || nCols < 0) {
    throw new MlError(
      'ML_INVALID_INPUT',
      `matrix shape must be non-negative integers, got ${nRows}x${nCols}`,
    );
  }
  if (data.length !== nRows * nCols) {
    throw new MlError(
      'ML_LENGTH_MISMATCH',
      `matrix data has ${data.length} values but ${nRows}x${nCols} needs ${nRows * nCols}`,
    );
  }
  return { data, nRows, nCols };
}

/** Builds a Float64 matrix from nested arrays (for tests and small inputs; not for hot paths). */
export function fromRows(rows: readonly (readonly number[])[]): Matrix {
  const nRows = rows.length;
  const nCols = rows[0]?.length ?? 0;
  const data = new Float64Array(nRows * nCols);
  for (let r = 0; r < nRows; r++) {
    const row = rows[r] ?? [];
    if (row.length !== nCols) {
      throw new MlError('ML_LENGTH_MISMATCH', `row ${r} has ${row.length} values, expected ${nCols}`, {
        row: r,
      });
    }
    for (let c = 0; c < nCols; c++) data[r * nCols + c] = row[c] ?? 0;
  }
  return { data, nRows, nCols };
}

/** A new matrix with the given rows, in the given order. */
export function takeRows(X: Matrix, rows: ArrayLike<number>): Matrix {
  const { nCols } = X;
  const out = new Float64Array(rows.length * nCols);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] ?? 0;
    out.set(X.data.subarray(r * nCols, r * nCols + nCols), i * nCols);
  }
  return { data: out, nRows: rows.length, nCols };
}

/** Picks entries of a typed array by index. */
export function takeInt32(y: ArrayLike<number>, rows: ArrayLike<number>): Int32Array {
  const out = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = y[rows[i] ?? 0] ?? 0;
  return out;
}

/** One column as a Float64Array. */
export function column(X: Matrix, c: number): Float64Array {
  const out = new Float64Array(X.nRows);
  for (let r = 0; r < X.nRows; r++) out[r] = X.data[r * X.nCols + c] ?? 0;
  return out;
}
