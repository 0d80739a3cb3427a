/**
 * Cross-validation runner: fit on each fold's train rows, predict its test rows, score, and collect the
 * out-of-fold predictions.
 */
import { MlError } from '../errors.js';
import { takeInt32, takeRows, type Matrix } from '../matrix.js';
import { classificationReport, type ClassificationReport } from './metrics.js';
import type { Split } from './split.js';

export interface Predictor {
  predict(X: Matrix): Int32Array;
}

export interface FoldResult {
  readonly fold: number;
  readonly nTrain: number;
  readonly nTest: number;
  readonly accuracy: number;
  readonly macroF1: number;
  readonly fitMs: number;
}

export interface CrossValidationResult {
  readonly folds: readonly FoldResult[];
  readonly meanAccuracy: number;
  readonly stdAccuracy: number;
  readonly meanMacroF1: number;
  /** Prediction for every row that was in some test fold (others keep `fillLabel`). */
  readonly outOfFold: Int32Array;
  /** Report over all out-of-fold predictions. */
  readonly report: ClassificationReport;
}

export function crossValidate(
  X: Matrix,
  y: ArrayLike<number>,
  splits: readonly Split[],
  fit: (X: Matrix, y: Int32Array, fold: number) => Predictor,
  opts: { fillLabel?: number } = {},
): CrossValidationResult {
  if (y.length !== X.nRows) {
    throw new MlError('ML_LENGTH_MISMATCH', `y has ${y.length} entries but X has ${X.nRows} rows`);
  }
  if (splits.length === 0) throw new MlError('ML_INVALID_PARAM', 'no folds given');
  const outOfFold = new Int32Array(X.nRows).fill(opts.fillLabel ?? -1);
  const seen = new Uint8Array(X.nRows);
  const folds: FoldResult[] = [];
  splits.forEach((s, f) => {
    const t0 = performance.now();
    const model = fit(takeRows(X, s.train), takeInt32(y, s.train), f);
    const fitMs = performance.now() - t0;
    const yTest = takeInt32(y, s.test);
    const pred = model.predict(takeRows(X, s.test));
    s.test.forEach((row, i) => {
      outOfFold[row] = pred[i] as number;
      seen[row] = 1;
    });
    const rep = classificationReport(yTest, pred);
    folds.push({
      fold: f,
      nTrain: s.train.length,
      nTest: s.test.length,
      accuracy: rep.accuracy,
      macroF1: rep.macroF1,
      fitMs,
    });
  });
  const accs = folds.map((f) => f.accuracy);
  const mean = accs.reduce((a, b) => a + b, 0) / accs.length;
  const sd = Math.sqrt(accs.reduce((a, b) => a + (b - mean) ** 2, 0) / accs.length);
  const rows = Int32Array.from({ length: X.nRows }, (_, i) => i).filter((i) => seen[i] === 1);
  return {
    folds,
    meanAccuracy: mean,
    stdAccuracy: sd,
    meanMacroF1: folds.reduce((a, f) => a + f.macroF1, 0) / folds.length,
    outOfFold,
    report: classificationReport(takeInt32(y, rows), takeInt32(outOfFold, rows)),
  };
}
