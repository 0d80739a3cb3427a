/**
 * The model artifact envelope: `{format:'iotsec-model', algorithm, version, featureSet, params, data}` plus
 * an optional sha256 `checksum` over the canonical JSON of everything else. Typed arrays travel as base64
 * of their little-endian bytes (every platform Node runs on here is little-endian).
 */
import { createHash } from 'node:crypto';
import { MlError } from './errors.js';
import type { FeatureSetSignature } from './features/feature-set.js';

export const MODEL_FORMAT = 'iotsec-model';

export interface ModelEnvelope<P = unknown, D = unknown> {
  readonly format: typeof MODEL_FORMAT;
  readonly algorithm: string;
  /** Version of the algorithm's `data` layout; bumped when it changes. */
  readonly version: number;
  readonly featureSet: FeatureSetSignature | null;
  readonly params: P;
  readonly data: D;
  /** sha256 (hex) of the canonical JSON of the envelope without this field. */
  readonly checksum?: string;
}

export function makeEnvelope<P, D>(
  algorithm: string,
  version: number,
  params: P,
  data: D,
  featureSet: FeatureSetSignature | null = null,
): ModelEnvelope<P, D> {
  return { format: MODEL_FORMAT, algorithm, version, featureSet, params, data };
}

/** JSON with object keys sorted at every level, so equal values give equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const src = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(src).sort()) {
      if (src[k] !== undefined) out[k] = sortKeys(src[k]);
    }
    return out;
  }
  return v;
}

export function sha256Hex(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

export function modelChecksum(env: ModelEnvelope): string {
  const { checksum: _ignored, ...rest } = env;
  return sha256Hex(canonicalJson(rest));
}

export function withChecksum<P, D>(env: ModelEnvelope<P, D>): ModelEnvelope<P, D> {
  return { ...env, checksum: modelChecksum(env) };
}

/** Throws ML_BAD_MODEL when the envelope carries a checksum that does not match its content. */
export function verifyChecksum(env: ModelEnvelope): void {
  if (env.checksum === undefined) return;
  const actual = modelChecksum(env);
  if (actual !== env.checksum) {
    throw new MlError(
      'ML_BAD_MODEL',
      `model checksum mismatch: recorded ${env.checksum}, computed ${actual}`,
    );
  }
}

/**
 * Checks the outer shape of a parsed artifact (or its JSON text): format, algorithm, version and checksum.
 * The caller still validates `params` and `data` for its algorithm.
 */
export function openEnvelope(
  input: unknown,
  algorithm: string,
  supportedVersions: readonly number[],
): ModelEnvelope<Record<string, unknown>, Record<string, unknown>> {
  let v: unknown = input;
  if (typeof input === 'string') {
    try {
      v = JSON.parse(input);
    } catch (e) {
      throw new MlError('ML_BAD_MODEL', `model is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (!isRecord(v) || v['format'] !== MODEL_FORMAT) {
    throw new MlError('ML_BAD_MODEL', `not an ${MODEL_FORMAT} artifact`);
  }
  if (v['algorithm'] !== algorithm) {
    throw new MlError('ML_BAD_MODEL', `artifact is a ${String(v['algorithm'])} model, expected ${algorithm}`);
  }
  const version = v['version'];
  if (typeof version !== 'number' || !supportedVersions.includes(version)) {
    throw new MlError(
      'ML_BAD_MODEL',
      `${algorithm} artifact version ${String(version)} is not supported (supported: ${supportedVersions.join(', ')})`,
    );
  }
  if (!isRecord(v['params']) || !isRecord(v['data'])) {
    throw new MlError('ML_BAD_MODEL', `${algorithm} artifact lacks params or data`);
  }
  const fs = v['featureSet'];
  if (fs !== null && fs !== undefined && !isRecord(fs)) {
    throw new MlError('ML_BAD_MODEL', `${algorithm} artifact has an invalid featureSet`);
  }
  const env = v as unknown as ModelEnvelope<Record<string, unknown>, Record<string, unknown>>;
  verifyChecksum(env);
  return { ...env, featureSet: (fs ?? null) as FeatureSetSignature | null };
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// ---- typed arrays <-> base64 ----

type TypedCtor<T> = {
  new (buffer: ArrayBuffer): T;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
};

export function encodeTyped(a: Float32Array | Float64Array | Int32Array | Uint8Array | Uint16Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function decodeTyped<T>(ctor: TypedCtor<T>, s: unknown, what: string): T {
  if (typeof s !== 'string') throw new MlError('ML_BAD_MODEL', `${what} must be a base64 string`);
  const bytes = Buffer.from(s, 'base64');
  if (bytes.length % ctor.BYTES_PER_ELEMENT !== 0) {
    throw new MlError('ML_BAD_MODEL', `${what}: ${bytes.length} bytes is not a whole number of ${ctor.name}`);
  }
  const buf = new ArrayBuffer(bytes.length);
  new Uint8Array(buf).set(bytes);
  return new ctor(buf);
}

export const decodeF32 = (s: unknown, what = 'array'): Float32Array => decodeTyped(Float32Array, s, what);
export const decodeF64 = (s: unknown, what = 'array'): Float64Array => decodeTyped(Float64Array, s, what);
export const decodeI32 = (s: unknown, what = 'array'): Int32Array => decodeTyped(Int32Array, s, what);
export const decodeU8 = (s: unknown, what = 'array'): Uint8Array => decodeTyped(Uint8Array, s, what);

/** Reads a required finite number field of a parsed artifact. */
export function numField(o: Record<string, unknown>, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new MlError('ML_BAD_MODEL', `artifact field ${key} must be a finite number`);
  }
  return v;
}

export function arrayField(o: Record<string, unknown>, key: string): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new MlError('ML_BAD_MODEL', `artifact field ${key} must be an array`);
  return v;
}
