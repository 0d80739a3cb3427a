import { describe, expect, it } from 'vitest';
import type { MlError } from '../errors.js';
import { isMlError } from '../errors.js';
import {
  assertFeatureSetMatches,
  checkRanges,
  extractMatrix,
  featureSetSignature,
  type FeatureSet,
} from './feature-set.js';

interface Flow {
  bytes: number;
  packets: number;
}

const flowFeatures: FeatureSet<Flow> = {
  name: 'flow-basic',
  version: 1,
  features: [
    { name: 'bytes', min: 0, description: 'total bytes' },
    { name: 'packets', min: 0, description: 'total packets' },
    { name: 'bytes_per_packet', min: 0, max: 65535, description: 'mean packet size' },
  ],
  extract: (f) => Float64Array.of(f.bytes, f.packets, f.packets > 0 ? f.bytes / f.packets : 0),
};

function mismatch(f: () => void): MlError {
  try {
    f();
  } catch (e) {
    if (isMlError(e)) return e;
    throw e;
  }
  throw new Error('expected an MlError');
}

describe('feature sets', () => {
  it('signature hashes the feature names (stable, order-sensitive)', () => {
    const a = featureSetSignature(flowFeatures);
    expect(a.featureNames).toEqual(['bytes', 'packets', 'bytes_per_packet']);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(featureSetSignature(flowFeatures).hash).toBe(a.hash);
    const reordered = featureSetSignature({
      ...flowFeatures,
      features: [...flowFeatures.features].reverse(),
    });
    expect(reordered.hash).not.toBe(a.hash);
  });

  it('accepts the same feature set and rejects name, version, missing/extra or reordered features', () => {
    const sig = featureSetSignature(flowFeatures);
    expect(() => assertFeatureSetMatches(sig, featureSetSignature(flowFeatures))).not.toThrow();
    const v2 = mismatch(() => assertFeatureSetMatches(sig, { ...sig, version: 2 }));
    expect(v2.code).toBe('FEATURE_SET_MISMATCH');
    expect(v2.message).toMatch(/version 1 != 2/);
    const other = featureSetSignature({ ...flowFeatures, features: flowFeatures.features.slice(0, 2) });
    expect(mismatch(() => assertFeatureSetMatches(sig, other)).message).toMatch(
      /input lacks bytes_per_packet/,
    );
    const reordered = featureSetSignature({
      ...flowFeatures,
      features: [...flowFeatures.features].reverse(),
    });
    expect(mismatch(() => assertFeatureSetMatches(sig, reordered)).message).toMatch(/in order/);
    expect(mismatch(() => assertFeatureSetMatches(null, sig)).code).toBe('FEATURE_SET_MISMATCH');
  });

  it('rejects duplicate feature names', () => {
    expect(() =>
      featureSetSignature({
        ...flowFeatures,
        features: [flowFeatures.features[0]!, flowFeatures.features[0]!],
      }),
    ).toThrow(/twice/);
  });

  it('extracts a row-major matrix and reports out-of-range values', () => {
    const X = extractMatrix(flowFeatures, [
      { bytes: 100, packets: 2 },
      { bytes: 200000, packets: 1 },
    ]);
    expect(X.nRows).toBe(2);
    expect(X.nCols).toBe(3);
    expect(Array.from(X.data)).toEqual([100, 2, 50, 200000, 1, 200000]);
    expect(checkRanges(flowFeatures, X)).toEqual([
      { row: 1, col: 2, feature: 'bytes_per_packet', value: 200000 },
    ]);
    const broken: FeatureSet<Flow> = { ...flowFeatures, extract: () => Float64Array.of(1) };
    expect(mismatch(() => extractMatrix(broken, [{ bytes: 1, packets: 1 }])).code).toBe('ML_INVALID_INPUT');
  });
});
