/**
 * Feature sets: the named, versioned list of columns a model was trained on, and the function that turns an
 * input record into one row. A model records the signature (name, version, sha256 of the feature names);
 * loading it against another feature set fails with FEATURE_SET_MISMATCH instead of scoring garbage.
 */
import { MlError } from '../errors.js';
import type { Matrix } from '../matrix.js';
import { sha256Hex } from '../serialize.js';

export interface FeatureSpec {
  readonly name: string;
  /** Expected range, when known; `checkRanges` reports values outside it. */
  readonly min?: number;
  readonly max?: number;
  readonly description: string;
}

export interface FeatureSet<TInput> {
  readonly name: string;
  readonly version: number;
  readonly features: readonly FeatureSpec[];
  /** One row, `features.length` long, in the order of `features`. */
  extract(input: TInput): Float64Array;
}

/** What a model records about its feature set. */
export interface FeatureSetSignature {
  readonly name: string;
  readonly version: number;
  readonly featureNames: readonly string[];
  /** sha256 hex of the feature names joined with "\n". */
  readonly hash: string;
}

export function featureNamesHash(names: readonly string[]): string {
  return sha256Hex(names.join('\n'));
}

export function featureSetSignature(
  fs: Pick<FeatureSet<unknown>, 'name' | 'version' | 'features'>,
): FeatureSetSignature {
  const featureNames = fs.features.map((f) => f.name);
  const seen = new Set<string>();
  for (const n of featureNames) {
    if (seen.has(n)) throw new MlError('ML_INVALID_PARAM', `feature set ${fs.name} lists feature ${n} twice`);
    seen.add(n);
  }
  return { name: fs.name, version: fs.version, featureNames, hash: featureNamesHash(featureNames) };
}

/**
 * Throws FEATURE_SET_MISMATCH unless `actual` is the feature set the model recorded (same name, version
 * and feature names in the same order). The message lists what differs.
 */
export function assertFeatureSetMatches(
  recorded: FeatureSetSignature | null | undefined,
  actual: FeatureSetSignature,
): void {
  if (!recorded) {
    throw new MlError(
      'FEATURE_SET_MISMATCH',
      `the model records no feature set; expected ${describe(actual)}`,
    );
  }
  const diffs: string[] = [];
  if (recorded.name !== actual.name) diffs.push(`name ${recorded.name} != ${actual.name}`);
  if (recorded.version !== actual.version) diffs.push(`version ${recorded.version} != ${actual.version}`);
  const actualHash = featureNamesHash(actual.featureNames);
  if (recorded.hash !== actualHash) {
    const missing = recorded.featureNames.filter((n) => !actual.featureNames.includes(n));
    const extra = actual.featureNames.filter((n) => !recorded.featureNames.includes(n));
    let what = 'feature names differ';
    if (missing.length) what += `; input lacks ${missing.slice(0, 5).join(', ')}`;
    if (extra.length) what += `; input adds ${extra.slice(0, 5).join(', ')}`;
    if (!missing.length && !extra.length) what += ' in order';
    diffs.push(what);
  }
  if (diffs.length > 0) {
    throw new MlError(
      'FEATURE_SET_MISMATCH',
      `model was trained on ${describe(recorded)} but the input is ${describe(actual)}: ${diffs.join('; ')}`,
      { recorded: recorded.hash, actual: actualHash },
    );
  }
}

function describe(s: FeatureSetSignature): string {
  return `${s.name}@${s.version} (${s.featureNames.length} features, ${s.hash.slice(0, 12)})`;
}

/** Extracts every input into one row-major Float64 matrix; rejects rows of the wrong length. */
export function extractMatrix<T>(fs: FeatureSet<T>, inputs: readonly T[]): Matrix {
  const nCols = fs.features.length;
  const data = new Float64Array(inputs.length * nCols);
  for (let r = 0; r < inputs.length; r++) {
    const row = fs.extract(inputs[r] as T);
    if (row.length !== nCols) {
      throw new MlError(
        'ML_INVALID_INPUT',
        `feature set ${fs.name} extracted ${row.length} values for input ${r}, expected ${nCols}`,
        { row: r },
      );
    }
    data.set(row, r * nCols);
  }
  return { data, nRows: inputs.length, nCols };
}

export interface RangeViolation {
  readonly row: number;
  readonly col: number;
  readonly feature: string;
  readonly value: number;
}

/** Values outside a feature's declared [min, max] (at most `limit` of them); for drift checks and tests. */
export function checkRanges(
  fs: Pick<FeatureSet<unknown>, 'features'>,
  X: Matrix,
  limit = 100,
): RangeViolation[] {
  const out: RangeViolation[] = [];
  for (let r = 0; r < X.nRows && out.length < limit; r++) {
    for (let c = 0; c < X.nCols && out.length < limit; c++) {
      const spec = fs.features[c];
      if (!spec) continue;
      const v = X.data[r * X.nCols + c] as number;
      if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
        out.push({ row: r, col: c, feature: spec.name, value: v });
      }
    }
  }
  return out;
}
