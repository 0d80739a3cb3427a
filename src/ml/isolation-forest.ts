/**
 * Isolation forest with scikit-learn's semantics (Liu, Ting & Zhou 2008): each tree isolates a random
 * subsample of `maxSamples` rows (default min(256, n), without replacement) by random splits — a random
 * non-constant feature and a threshold uniform between its minimum and maximum in the node — down to depth
 * ceil(log2(maxSamples)). A row's path length is its leaf depth plus c(size of the leaf), and its anomaly
 * score is s = 2^(-E[h] / c(maxSamples)) in (0, 1]: near 1 anomalous, ≤ 0.5 normal.
 */
import { MlError } from './errors.js';
import type { FeatureSetSignature } from './features/feature-set.js';
import { quantileSorted } from './eval/metrics.js';
import type { Matrix } from './matrix.js';
import { Rng } from './random.js';
import { arrayField, makeEnvelope, numField, openEnvelope, type ModelEnvelope } from './serialize.js';
import {
  accumulateTree,
  TreeBuffer,
  treeFromJson,
  treeToJson,
  type FlatTree,
  type FlatTreeJson,
} from './tree/flat-tree.js';
import { assertColumns, assertIntParam, assertMatrix, assertNumberParam } from './validate.js';

export interface IsolationForestOptions {
  nEstimators?: number;
  /** 'auto' = min(256, n); an integer count; or a fraction in (0, 1] of the rows. */
  maxSamples?: 'auto' | number;
  /** Features drawn per tree: an integer count or a fraction in (0, 1]. Default 1.0 (all). */
  maxFeatures?: number;
  /** 'auto': anomaly iff s > 0.5 (scikit-learn's offset -0.5); a fraction in (0, 0.5]: the training quantile. */
  contamination?: 'auto' | number;
  seed?: number;
}

export type IsolationForestParams = Required<IsolationForestOptions>;

export const ISOLATION_FOREST_ALGORITHM = 'isolation-forest';
const FORMAT_VERSION = 1;
const FEATURE_THRESHOLD = 1e-7; // scikit-learn: a feature with max <= min + this is constant in the node
const EULER_GAMMA = 0.5772156649015329;

/**
 * Average path length of an unsuccessful BST search among n points: c(n) = 2H(n-1) - 2(n-1)/n with
 * H(i) ≈ ln(i) + γ (scikit-learn's `_average_path_length`); c(0) = c(1) = 0, c(2) = 1.
 */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n <= 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

export interface IsolationForestData {
  nFeatures: number;
  maxSamples: number;
  threshold: number;
  trees: FlatTreeJson[];
}

export class IsolationForest {
  readonly params: IsolationForestParams;
  private trees: FlatTree[] = [];
  private nFeatures = 0;
  private maxSamplesUsed = 0;
  private threshold_ = 0.5;
  private featureSet: FeatureSetSignature | null = null;

  constructor(opts: IsolationForestOptions = {}) {
    this.params = {
      nEstimators: opts.nEstimators ?? 100,
      maxSamples: opts.maxSamples ?? 'auto',
      maxFeatures: opts.maxFeatures ?? 1,
      contamination: opts.contamination ?? 'auto',
      seed: opts.seed ?? 0,
    };
    const p = this.params;
    assertIntParam('nEstimators', p.nEstimators, 1);
    if (p.maxSamples !== 'auto')
      assertNumberParam('maxSamples', p.maxSamples, 0, Infinity, { minExclusive: true });
    assertNumberParam('maxFeatures', p.maxFeatures, 0, Infinity, { minExclusive: true });
    if (p.contamination !== 'auto') {
      assertNumberParam('contamination', p.contamination, 0, 0.5, { minExclusive: true });
    }
  }

  /** Score above which a row is predicted anomalous. */
  get threshold(): number {
    this.assertFitted();
    return this.threshold_;
  }

  get maxSamples(): number {
    this.assertFitted();
    return this.maxSamplesUsed;
  }

  get featureSetSignature(): FeatureSetSignature | null {
    return this.featureSet;
  }

  fit(X: Matrix, opts: { featureSet?: FeatureSetSignature | null } = {}): this {
    assertMatrix(X);
    const { nRows, nCols, data } = X;
    const p = this.params;
    let m: number;
    if (p.maxSamples === 'auto') m = Math.min(256, nRows);
    else if (Number.isInteger(p.maxSamples) && p.maxSamples >= 1) m = Math.min(p.maxSamples, nRows);
    else if (p.maxSamples <= 1) m = Math.max(1, Math.floor(p.maxSamples * nRows));
    else
      throw new MlError(
        'ML_INVALID_PARAM',
        `maxSamples ${p.maxSamples} is neither an integer nor a fraction`,
      );
    let nf: number;
    if (Number.isInteger(p.maxFeatures) && p.maxFeatures > 1) nf = Math.min(p.maxFeatures, nCols);
    else if (p.maxFeatures <= 1) nf = Math.max(1, Math.floor(p.maxFeatures * nCols));
    else
      throw new MlError(
        'ML_INVALID_PARAM',
        `maxFeatures ${p.maxFeatures} is neither an integer nor a fraction`,
      );
    const maxDepth = Math.ceil(Math.log2(Math.max(m, 2)));

    const rng = new Rng(p.seed);
    const trees: FlatTree[] = [];
    const sub = new Float64Array(m * nf); // column-major copy of the subsample's drawn features
    for (let t = 0; t < p.nEstimators; t++) {
      const trng = new Rng(rng.nextSeed());
      const rows = trng.sampleWithoutReplacement(nRows, m);
      const feats =
        nf === nCols
          ? Int32Array.from({ length: nCols }, (_, i) => i)
          : trng.sampleWithoutReplacement(nCols, nf);
      for (let j = 0; j < nf; j++) {
        const f = feats[j] as number;
        for (let i = 0; i < m; i++) sub[j * m + i] = data[(rows[i] as number) * nCols + f] as number;
      }
      trees.push(buildIsolationTree(sub, m, feats, maxDepth, trng));
    }
    this.trees = trees;
    this.nFeatures = nCols;
    this.maxSamplesUsed = m;
    this.featureSet = opts.featureSet ?? null;
    if (p.contamination === 'auto') this.threshold_ = 0.5;
    else {
      const s = this.scoreSamples(X).sort();
      this.threshold_ = quantileSorted(s, 1 - p.contamination);
    }
    return this;
  }

  /** Anomaly score s in (0, 1] per row (scikit-learn's score_samples is -s). */
  scoreSamples(X: Matrix): Float64Array {
    this.assertFitted();
    assertMatrix(X);
    assertColumns(X, this.nFeatures);
    const sum = new Float64Array(X.nRows);
    for (const t of this.trees) accumulateTree(t, X, sum);
    const denom = this.trees.length * averagePathLength(this.maxSamplesUsed);
    const out = new Float64Array(X.nRows);
    for (let r = 0; r < X.nRows; r++) out[r] = denom > 0 ? 2 ** (-(sum[r] as number) / denom) : 1;
    return out;
  }

  /** scikit-learn's decision_function sign convention: negative = anomalous (threshold - s). */
  decisionFunction(X: Matrix): Float64Array {
    const s = this.scoreSamples(X);
    for (let i = 0; i < s.length; i++) s[i] = this.threshold_ - (s[i] as number);
    return s;
  }

  /** 1 for anomalies (s > threshold), 0 for normal rows. */
  predict(X: Matrix): Int32Array {
    const s = this.scoreSamples(X);
    const out = new Int32Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = (s[i] as number) > this.threshold_ ? 1 : 0;
    return out;
  }

  toJSON(): ModelEnvelope<IsolationForestParams, IsolationForestData> {
    this.assertFitted();
    return makeEnvelope(
      ISOLATION_FOREST_ALGORITHM,
      FORMAT_VERSION,
      { ...this.params },
      {
        nFeatures: this.nFeatures,
        maxSamples: this.maxSamplesUsed,
        threshold: this.threshold_,
        trees: this.trees.map(treeToJson),
      },
      this.featureSet,
    );
  }

  static fromJSON(json: unknown): IsolationForest {
    const env = openEnvelope(json, ISOLATION_FOREST_ALGORITHM, [FORMAT_VERSION]);
    const d = env.data;
    const m = new IsolationForest(env.params as IsolationForestOptions);
    m.nFeatures = numField(d, 'nFeatures');
    m.maxSamplesUsed = numField(d, 'maxSamples');
    m.threshold_ = numField(d, 'threshold');
    m.trees = arrayField(d, 'trees').map((t) => treeFromJson(t, m.nFeatures));
    m.featureSet = env.featureSet;
    if (m.trees.length === 0 || m.trees.some((t) => t.width !== 1)) {
      throw new MlError('ML_BAD_MODEL', 'isolation forest has no trees or malformed leaves');
    }
    return m;
  }

  private assertFitted(): void {
    if (this.trees.length === 0)
      throw new MlError('ML_NOT_FITTED', 'the isolation forest has not been fitted');
  }
}

/**
 * One isolation tree over a column-major subsample `sub` (m rows × feats.length columns). Leaves store
 * depth + c(leaf size), the path length a row reaching them gets.
 */
function buildIsolationTree(
  sub: Float64Array,
  m: number,
  feats: Int32Array,
  maxDepth: number,
  rng: Rng,
): FlatTree {
  const nf = feats.length;
  const idx = Int32Array.from({ length: m }, (_, i) => i);
  const buf = new TreeBuffer(1, 2 * m + 1);
  const order = Int32Array.from({ length: nf }, (_, i) => i);
  // Stack: start, end, depth, parent, side.
  const stack: number[] = [0, m, 0, -1, 0];
  while (stack.length > 0) {
    const side = stack.pop() as number;
    const parent = stack.pop() as number;
    const depth = stack.pop() as number;
    const end = stack.pop() as number;
    const start = stack.pop() as number;
    const node = buf.add();
    if (parent >= 0) (side === 0 ? buf.left : buf.right)[parent] = node;
    const n = end - start;
    buf.value[node] = depth + averagePathLength(n);
    if (depth >= maxDepth || n <= 1) continue;

    // Draw features without replacement until one is not constant in this node.
    let feature = -1;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < nf; i++) {
      const j = i + rng.int(nf - i);
      const c = order[j] as number;
      order[j] = order[i] as number;
      order[i] = c;
      const off = c * m;
      let mn = Infinity;
      let mx = -Infinity;
      for (let p = start; p < end; p++) {
        const v = sub[off + (idx[p] as number)] as number;
        if (v < mn) mn = v;
        if (v > mx) mx = v;
      }
      if (mx > mn + FEATURE_THRESHOLD) {
        feature = c;
        lo = mn;
        hi = mx;
        break;
      }
    }
    if (feature < 0) continue; // every feature constant: a leaf
    let threshold = rng.uniform(lo, hi);
    if (threshold >= hi) threshold = lo;
    const off = feature * m;
    let i = start;
    let j = end - 1;
    while (i <= j) {
      if ((sub[off + (idx[i] as number)] as number) <= threshold) i++;
      else {
        const t = idx[i] as number;
        idx[i] = idx[j] as number;
        idx[j] = t;
        j--;
      }
    }
    buf.feature[node] = feats[feature] as number;
    buf.threshold[node] = threshold;
    stack.push(i, end, depth + 1, node, 1, start, i, depth + 1, node, 0);
  }
  return buf.finish();
}
