/**
 * Errors raised by src/ml. Every failure a caller can act on carries a stable `code`; messages say which
 * row, column, class or parameter is at fault.
 */
export type MlErrorCode =
  | 'ML_INVALID_INPUT' // NaN/Infinity in X, labels that are not integers, bad shapes
  | 'ML_EMPTY_DATA' // no rows or no columns
  | 'ML_LENGTH_MISMATCH' // X, y, weights or groups of different lengths
  | 'ML_SINGLE_CLASS' // a classifier was given only one class
  | 'ML_TOO_MANY_CLASSES' // more classes than rows (or than a split can hold)
  | 'ML_INVALID_PARAM' // an option out of range
  | 'ML_NOT_FITTED' // predict before fit
  | 'ML_BAD_MODEL' // a serialised model that does not parse, has the wrong algorithm/version or checksum
  | 'ML_BACKEND_UNAVAILABLE' // no TensorFlow.js backend could be initialised
  | 'FEATURE_SET_MISMATCH'; // the model was trained on another feature set than the input's

export class MlError extends Error {
  override readonly name = 'MlError';
  constructor(
    readonly code: MlErrorCode,
    message: string,
    /** Optional machine-readable detail, e.g. `{ row, col }` for a non-finite value. */
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(`${code}: ${message}`);
  }
}

export function isMlError(e: unknown): e is MlError {
  return e instanceof MlError;
}
