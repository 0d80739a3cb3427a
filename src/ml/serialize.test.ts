import { describe, expect, it } from 'vitest';
import { isMlError } from './errors.js';
import {
  canonicalJson,
  decodeF32,
  decodeI32,
  encodeTyped,
  makeEnvelope,
  modelChecksum,
  openEnvelope,
  withChecksum,
} from './serialize.js';
import { RandomForestClassifier } from './random-forest.js';
import { iris } from './test-support/iris.js';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isMlError(e) ? e.code : 'other';
  }
  return undefined;
}

describe('model envelope', () => {
  it('canonical JSON sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}',
    );
  });

  it('typed arrays round-trip through base64, including subarray views', () => {
    const f = Float32Array.of(1.5, -2, Math.PI);
    expect(Array.from(decodeF32(encodeTyped(f)))).toEqual(Array.from(f));
    const big = Int32Array.of(1, 2, 3, 4, 5);
    expect(Array.from(decodeI32(encodeTyped(big.subarray(2))))).toEqual([3, 4, 5]);
    expect(codeOf(() => decodeI32('AAA='))).toBe('ML_BAD_MODEL');
  });

  it('checksums detect tampering and survive a JSON round trip', () => {
    const { X, y } = iris();
    const env = withChecksum(new RandomForestClassifier({ nEstimators: 3, seed: 1 }).fit(X, y).toJSON());
    expect(env.checksum).toMatch(/^[0-9a-f]{64}$/);
    const text = JSON.stringify(env);
    const model = RandomForestClassifier.fromJSON(text);
    expect(model.nEstimators).toBe(3);
    const tampered = JSON.parse(text) as { params: { seed: number } };
    tampered.params.seed = 2;
    expect(codeOf(() => RandomForestClassifier.fromJSON(tampered))).toBe('ML_BAD_MODEL');
    expect(modelChecksum(env)).toBe(env.checksum);
  });

  it('openEnvelope checks format, algorithm and version', () => {
    const env = makeEnvelope('thing', 1, {}, {});
    expect(openEnvelope(env, 'thing', [1]).algorithm).toBe('thing');
    expect(codeOf(() => openEnvelope(env, 'other', [1]))).toBe('ML_BAD_MODEL');
    expect(codeOf(() => openEnvelope(env, 'thing', [2]))).toBe('ML_BAD_MODEL');
    expect(codeOf(() => openEnvelope('{not json', 'thing', [1]))).toBe('ML_BAD_MODEL');
    expect(codeOf(() => openEnvelope({ ...env, data: null }, 'thing', [1]))).toBe('ML_BAD_MODEL');
  });
});
