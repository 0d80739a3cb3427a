/**
 * LSTM autoencoder for sequences (nSeq × steps × features): LSTM encoder → RepeatVector → LSTM decoder →
 * TimeDistributed(Dense). Inputs are standardised per feature (training mean/std); a sequence's anomaly
 * measure is its mean squared reconstruction error, and the alert threshold is a percentile of the
 * training errors. Weight initialisation and batch order are seeded; weights serialise as base64 Float32.
 */
import * as tf from '@tensorflow/tfjs';
import { MlError } from '../errors.js';
import { quantileSorted } from '../eval/metrics.js';
import type { FeatureSetSignature } from '../features/feature-set.js';
import { Rng } from '../random.js';
import {
  arrayField,
  decodeF32,
  encodeTyped,
  isRecord,
  makeEnvelope,
  numField,
  openEnvelope,
  type ModelEnvelope,
} from '../serialize.js';
import { assertIntParam, assertNumberParam } from '../validate.js';
import { initTfBackend, type TfBackendName } from './backend.js';

/** Sequences in row-major order: value (s, t, f) at (s * steps + t) * features + f. */
export interface SequenceSet {
  readonly data: Float32Array | Float64Array;
  readonly nSeq: number;
  readonly steps: number;
  readonly features: number;
}

export interface LstmAutoencoderOptions {
  units?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Percentile (0–100) of training reconstruction errors used as the anomaly threshold. */
  thresholdPercentile?: number;
  seed?: number;
}

export type LstmAutoencoderParams = Required<LstmAutoencoderOptions>;

export interface LstmFitReport {
  readonly backend: TfBackendName;
  readonly fallbackReason?: string;
  readonly epochs: number;
  readonly loss: readonly number[];
  readonly ms: number;
  readonly threshold: number;
}

export const LSTM_AUTOENCODER_ALGORITHM = 'lstm-autoencoder';
const FORMAT_VERSION = 1;

interface WeightJson {
  shape: number[];
  data: string;
}

export interface LstmAutoencoderData {
  steps: number;
  features: number;
  mean: string;
  std: string;
  threshold: number;
  trainErrors: { p50: number; p95: number; p99: number; max: number };
  weights: WeightJson[];
}

function assertSequences(s: SequenceSet, what = 'sequences'): void {
  const { nSeq, steps, features, data } = s;
  for (const [k, v] of [
    ['nSeq', nSeq],
    ['steps', steps],
    ['features', features],
  ] as const) {
    if (!Number.isInteger(v) || v < 0)
      throw new MlError('ML_INVALID_INPUT', `${what}.${k} must be an integer >= 0`);
  }
  if (nSeq === 0 || steps === 0 || features === 0) {
    throw new MlError('ML_EMPTY_DATA', `${what} is empty (${nSeq} × ${steps} × ${features})`);
  }
  if (data.length !== nSeq * steps * features) {
    throw new MlError(
      'ML_LENGTH_MISMATCH',
      `${what} has ${data.length} values, ${nSeq} × ${steps} × ${features} needs ${nSeq * steps * features}`,
    );
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (v - v !== 0) {
      const seq = Math.floor(i / (steps * features));
      const rest = i - seq * steps * features;
      throw new MlError(
        'ML_INVALID_INPUT',
        `${what}[${seq}, ${Math.floor(rest / features)}, ${rest % features}] is ${v}`,
        {
          row: seq,
          step: Math.floor(rest / features),
          col: rest % features,
        },
      );
    }
  }
}

export class LstmAutoencoder {
  readonly params: LstmAutoencoderParams;
  private model: tf.Sequential | null = null;
  private steps = 0;
  private features = 0;
  private mean: Float32Array = new Float32Array(0);
  private std: Float32Array = new Float32Array(0);
  private threshold_ = Infinity;
  private trainStats = { p50: 0, p95: 0, p99: 0, max: 0 };
  private featureSet: FeatureSetSignature | null = null;

  constructor(opts: LstmAutoencoderOptions = {}) {
    this.params = {
      units: opts.units ?? 16,
      epochs: opts.epochs ?? 10,
      batchSize: opts.batchSize ?? 64,
      learningRate: opts.learningRate ?? 0.01,
      thresholdPercentile: opts.thresholdPercentile ?? 99,
      seed: opts.seed ?? 0,
    };
    const p = this.params;
    assertIntParam('units', p.units, 1, 1024);
    assertIntParam('epochs', p.epochs, 1, 10_000);
    assertIntParam('batchSize', p.batchSize, 1);
    assertNumberParam('learningRate', p.learningRate, 0, 1, { minExclusive: true });
    assertNumberParam('thresholdPercentile', p.thresholdPercentile, 0, 100);
  }

  get threshold(): number {
    this.net();
    return this.threshold_;
  }

  get featureSetSignature(): FeatureSetSignature | null {
    return this.featureSet;
  }

  async fit(
    seqs: SequenceSet,
    opts: { featureSet?: FeatureSetSignature | null } = {},
  ): Promise<LstmFitReport> {
    assertSequences(seqs);
    const t0 = performance.now();
    const info = await initTfBackend();
    const p = this.params;
    const { nSeq, steps, features } = seqs;
    this.dispose();
    this.steps = steps;
    this.features = features;
    this.computeScaler(seqs);
    const model = this.buildModel(p.seed);
    this.model = model;
    const x = this.standardise(seqs);
    const rng = new Rng(p.seed ^ 0x5bd1e995);
    const perm = Int32Array.from({ length: nSeq }, (_, i) => i);
    const shuffled = new Float32Array(x.length);
    const per = steps * features;
    const loss: number[] = [];
    for (let epoch = 0; epoch < p.epochs; epoch++) {
      rng.shuffle(perm);
      for (let i = 0; i < nSeq; i++)
        shuffled.set(x.subarray((perm[i] as number) * per, ((perm[i] as number) + 1) * per), i * per);
      const xs = tf.tensor3d(shuffled, [nSeq, steps, features]);
      try {
        const h = await model.fit(xs, xs, { epochs: 1, batchSize: p.batchSize, shuffle: false, verbose: 0 });
        const l = h.history['loss']?.[0];
        loss.push(typeof l === 'number' ? l : Number(l));
      } finally {
        xs.dispose();
      }
    }
    const errors = this.errorsOfStandardised(x, nSeq);
    const sorted = Float64Array.from(errors).sort();
    this.threshold_ = quantileSorted(sorted, p.thresholdPercentile / 100);
    this.trainStats = {
      p50: quantileSorted(sorted, 0.5),
      p95: quantileSorted(sorted, 0.95),
      p99: quantileSorted(sorted, 0.99),
      max: sorted[sorted.length - 1] as number,
    };
    this.featureSet = opts.featureSet ?? null;
    return {
      backend: info.backend,
      ...(info.fallbackReason === undefined ? {} : { fallbackReason: info.fallbackReason }),
      epochs: p.epochs,
      loss,
      ms: performance.now() - t0,
      threshold: this.threshold_,
    };
  }

  /** Mean squared reconstruction error per sequence (in standardised units). */
  reconstructionError(seqs: SequenceSet): Float64Array {
    this.net();
    assertSequences(seqs);
    if (seqs.steps !== this.steps || seqs.features !== this.features) {
      throw new MlError(
        'ML_LENGTH_MISMATCH',
        `sequences are ${seqs.steps} × ${seqs.features} but the model expects ${this.steps} × ${this.features}`,
      );
    }
    return this.errorsOfStandardised(this.standardise(seqs), seqs.nSeq);
  }

  /** 1 where the reconstruction error exceeds the threshold. */
  predict(seqs: SequenceSet): Int32Array {
    const e = this.reconstructionError(seqs);
    return Int32Array.from(e, (v) => (v > this.threshold_ ? 1 : 0));
  }

  toJSON(): ModelEnvelope<LstmAutoencoderParams, LstmAutoencoderData> {
    const model = this.net();
    const weights = model.getWeights().map((w) => ({
      shape: [...w.shape],
      data: encodeTyped(Float32Array.from(w.dataSync())),
    }));
    return makeEnvelope(
      LSTM_AUTOENCODER_ALGORITHM,
      FORMAT_VERSION,
      { ...this.params },
      {
        steps: this.steps,
        features: this.features,
        mean: encodeTyped(this.mean),
        std: encodeTyped(this.std),
        threshold: this.threshold_,
        trainErrors: { ...this.trainStats },
        weights,
      },
      this.featureSet,
    );
  }

  static async fromJSON(json: unknown): Promise<LstmAutoencoder> {
    const env = openEnvelope(json, LSTM_AUTOENCODER_ALGORITHM, [FORMAT_VERSION]);
    await initTfBackend();
    const d = env.data;
    const m = new LstmAutoencoder(env.params as LstmAutoencoderOptions);
    m.steps = numField(d, 'steps');
    m.features = numField(d, 'features');
    m.mean = decodeF32(d['mean'], 'mean');
    m.std = decodeF32(d['std'], 'std');
    m.threshold_ = numField(d, 'threshold');
    const ts = d['trainErrors'];
    if (isRecord(ts)) {
      m.trainStats = {
        p50: numField(ts, 'p50'),
        p95: numField(ts, 'p95'),
        p99: numField(ts, 'p99'),
        max: numField(ts, 'max'),
      };
    }
    if (m.mean.length !== m.features || m.std.length !== m.features) {
      throw new MlError('ML_BAD_MODEL', 'LSTM scaler does not match its feature count');
    }
    const model = m.buildModel(m.params.seed);
    const expected = model.getWeights();
    const given = arrayField(d, 'weights');
    if (given.length !== expected.length) {
      model.dispose();
      throw new MlError(
        'ML_BAD_MODEL',
        `LSTM has ${given.length} weight tensors, expected ${expected.length}`,
      );
    }
    const tensors = given.map((w, i) => {
      const want = expected[i] as tf.Tensor;
      if (!isRecord(w) || !Array.isArray(w['shape']))
        throw new MlError('ML_BAD_MODEL', `LSTM weight ${i} is malformed`);
      const shape = (w['shape'] as unknown[]).map(Number);
      const data = decodeF32(w['data'], `weights[${i}]`);
      if (shape.join(',') !== want.shape.join(',') || data.length !== want.size) {
        throw new MlError(
          'ML_BAD_MODEL',
          `LSTM weight ${i} has shape ${shape.join('x')}, expected ${want.shape.join('x')}`,
        );
      }
      return tf.tensor(data, shape);
    });
    model.setWeights(tensors);
    for (const t of tensors) t.dispose();
    m.model = model;
    m.featureSet = env.featureSet;
    return m;
  }

  /** Frees the TensorFlow.js model memory. */
  dispose(): void {
    this.model?.dispose();
    this.model = null;
  }

  private net(): tf.Sequential {
    if (!this.model) throw new MlError('ML_NOT_FITTED', 'the LSTM autoencoder has not been fitted');
    return this.model;
  }

  private buildModel(seed: number): tf.Sequential {
    const { units, learningRate } = this.params;
    const s = (k: number): number => (seed * 7919 + k) % 2147483647;
    const model = tf.sequential();
    model.add(
      tf.layers.lstm({
        units,
        inputShape: [this.steps, this.features],
        kernelInitializer: tf.initializers.glorotUniform({ seed: s(1) }),
        recurrentInitializer: tf.initializers.glorotUniform({ seed: s(2) }),
      }),
    );
    model.add(tf.layers.repeatVector({ n: this.steps }));
    model.add(
      tf.layers.lstm({
        units,
        returnSequences: true,
        kernelInitializer: tf.initializers.glorotUniform({ seed: s(3) }),
        recurrentInitializer: tf.initializers.glorotUniform({ seed: s(4) }),
      }),
    );
    model.add(
      tf.layers.timeDistributed({
        layer: tf.layers.dense({
          units: this.features,
          kernelInitializer: tf.initializers.glorotUniform({ seed: s(5) }),
        }),
      }),
    );
    model.compile({ optimizer: tf.train.adam(learningRate), loss: 'meanSquaredError' });
    return model;
  }

  private computeScaler(seqs: SequenceSet): void {
    const { data, features } = seqs;
    const rows = data.length / features;
    const sum = new Float64Array(features);
    const sq = new Float64Array(features);
    for (let i = 0; i < data.length; i++) {
      const f = i % features;
      const v = data[i] as number;
      sum[f] = (sum[f] as number) + v;
      sq[f] = (sq[f] as number) + v * v;
    }
    this.mean = new Float32Array(features);
    this.std = new Float32Array(features);
    for (let f = 0; f < features; f++) {
      const m = (sum[f] as number) / rows;
      const v = Math.max((sq[f] as number) / rows - m * m, 0);
      this.mean[f] = m;
      this.std[f] = Math.sqrt(v) > 1e-8 ? Math.sqrt(v) : 1;
    }
  }

  private standardise(seqs: SequenceSet): Float32Array {
    const { data, features } = seqs;
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const f = i % features;
      out[i] = ((data[i] as number) - (this.mean[f] as number)) / (this.std[f] as number);
    }
    return out;
  }

  private errorsOfStandardised(x: Float32Array, nSeq: number): Float64Array {
    const model = this.net();
    const { steps, features } = this;
    const out = new Float64Array(nSeq);
    const batch = 512;
    for (let s = 0; s < nSeq; s += batch) {
      const m = Math.min(batch, nSeq - s);
      const e = tf.tidy(() => {
        const xs = tf.tensor3d(x.subarray(s * steps * features, (s + m) * steps * features), [
          m,
          steps,
          features,
        ]);
        const pred = model.predict(xs) as tf.Tensor;
        return tf.mean(tf.square(tf.sub(pred, xs)), [1, 2]);
      });
      out.set(e.dataSync(), s);
      e.dispose();
    }
    return out;
  }
}
