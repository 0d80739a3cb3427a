import { describe, expect, it } from 'vitest';
import type { MlError } from './errors.js';
import { isMlError } from './errors.js';
import { fromRows, matrix } from './matrix.js';
import { assertMatrix, assertWeights, validateClassification } from './validate.js';

function err(f: () => unknown): MlError {
  try {
    f();
  } catch (e) {
    if (isMlError(e)) return e;
    throw e;
  }
  throw new Error('expected an MlError');
}

describe('input validation', () => {
  it('names the row and column of NaN or Infinity', () => {
    const X = fromRows([
      [1, 2, 3],
      [4, 5, Infinity],
    ]);
    const e = err(() => assertMatrix(X));
    expect(e.code).toBe('ML_INVALID_INPUT');
    expect(e.details).toMatchObject({ row: 1, col: 2 });
    expect(e.message).toMatch(/X\[1, 2\] is Infinity/);
    const n = err(() => assertMatrix(fromRows([[NaN]])));
    expect(n.details).toMatchObject({ row: 0, col: 0 });
  });

  it('rejects empty data, wrong shapes and mismatched lengths', () => {
    expect(err(() => assertMatrix({ data: new Float64Array(0), nRows: 0, nCols: 3 })).code).toBe(
      'ML_EMPTY_DATA',
    );
    expect(err(() => matrix(new Float64Array(5), 2, 3)).code).toBe('ML_LENGTH_MISMATCH');
    expect(err(() => fromRows([[1, 2], [3]])).code).toBe('ML_LENGTH_MISMATCH');
    const X = fromRows([[1], [2], [3]]);
    expect(err(() => validateClassification(X, [0, 1])).code).toBe('ML_LENGTH_MISMATCH');
    expect(err(() => assertWeights([1, -1, 1], 3)).code).toBe('ML_INVALID_INPUT');
    expect(err(() => assertWeights([0, 0, 0], 3)).code).toBe('ML_INVALID_INPUT');
  });

  it('rejects a single class, non-integer labels and more classes than rows', () => {
    const X = fromRows([[1], [2], [3]]);
    expect(err(() => validateClassification(X, [4, 4, 4])).code).toBe('ML_SINGLE_CLASS');
    expect(err(() => validateClassification(X, [0, 1.5, 1])).code).toBe('ML_INVALID_INPUT');
    expect(err(() => validateClassification(X, [0, 1, 1], { classes: [0, 1, 2, 3] })).code).toBe(
      'ML_TOO_MANY_CLASSES',
    );
    expect(err(() => validateClassification(X, [0, 1, 7], { classes: [0, 1, 2] })).code).toBe(
      'ML_INVALID_INPUT',
    );
  });

  it('encodes labels in sorted order and keeps declared classes absent from y', () => {
    const X = fromRows([[1], [2], [3], [4]]);
    const r = validateClassification(X, [30, 10, 30, 20]);
    expect(Array.from(r.classes)).toEqual([10, 20, 30]);
    expect(Array.from(r.encoded)).toEqual([2, 0, 2, 1]);
    const d = validateClassification(X, [0, 1, 0, 1], { classes: [0, 1, 2] });
    expect(d.classes.length).toBe(3);
  });
});
