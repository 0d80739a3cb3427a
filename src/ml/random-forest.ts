/**
 * Random forest classifier with scikit-learn's options and semantics: bootstrap samples (as integer sample
 * weights), per-node feature sampling (`maxFeatures`), class weights, out-of-bag score and impurity-based
 * importances. Trees are CART on quantile bins (≤ `maxBins` per feature; exact CART whenever a feature has
 * at most that many distinct values). predictProba averages the trees' leaf class distributions, through a
 * PackedForest compiled from the trees at fit, or on a loaded model's first predict (the same probabilities
 * as walking the trees, bit for bit; the saved format is unchanged).
 */
import { binColumnMajor, fitBinEdges, MAX_BINS } from './binning.js';
import { MlError } from './errors.js';
import type { FeatureSetSignature } from './features/feature-set.js';
import type { Matrix } from './matrix.js';
import { Rng } from './random.js';
import {
  arrayField,
  decodeF64,
  decodeI32,
  encodeTyped,
  isRecord,
  makeEnvelope,
  numField,
  openEnvelope,
  type ModelEnvelope,
} from './serialize.js';
import { buildCart } from './tree/cart.js';
import { treeFromJson, treeToJson, type FlatTree, type FlatTreeJson } from './tree/flat-tree.js';
import { PackedForest } from './tree/packed-forest.js';
import {
  assertColumns,
  assertIntParam,
  assertMatrix,
  assertNumberParam,
  assertWeights,
  validateClassification,
} from './validate.js';

/** 'sqrt' | 'log2' | an integer count | a fraction in (0, 1] of the features | null (all). */
export type MaxFeatures = 'sqrt' | 'log2' | number | null;
/** 'balanced' (n / (K · count_k) on y), 'balanced_subsample' (the same on each bootstrap) or label → weight. */
export type ClassWeight = 'balanced' | 'balanced_subsample' | Readonly<Record<number, number>> | null;

export interface RandomForestOptions {
  nEstimators?: number;
  maxFeatures?: MaxFeatures;
  maxDepth?: number | null;
  minSamplesSplit?: number;
  minSamplesLeaf?: number;
  minImpurityDecrease?: number;
  bootstrap?: boolean;
  /** Compute the out-of-bag score during fit (needs bootstrap). */
  oobScore?: boolean;
  classWeight?: ClassWeight;
  /** Bins per feature for split search, 2..256. */
  maxBins?: number;
  seed?: number;
}

export interface RandomForestFitOptions {
  sampleWeight?: ArrayLike<number>;
  /** The full label set, when some classes may be absent from this training sample. */
  classes?: ArrayLike<number>;
  featureSet?: FeatureSetSignature | null;
}

export type RandomForestParams = Required<Omit<RandomForestOptions, 'maxDepth' | 'classWeight'>> & {
  maxDepth: number | null;
  classWeight: ClassWeight;
};

export const RANDOM_FOREST_ALGORITHM = 'random-forest-classifier';
const FORMAT_VERSION = 1;

export interface RandomForestData {
  nFeatures: number;
  classes: string;
  featureImportances: string;
  oobScore: number | null;
  trees: FlatTreeJson[];
}

export class RandomForestClassifier {
  readonly params: RandomForestParams;
  private trees: FlatTree[] = [];
  /** The trees compiled for inference: built at the end of fit, or on the first predict of a loaded model. */
  private packed: PackedForest | null = null;
  private classes_: Int32Array | null = null;
  private nFeatures = 0;
  private importances: Float64Array | null = null;
  private oob: number | null = null;
  private featureSet: FeatureSetSignature | null = null;

  constructor(opts: RandomForestOptions = {}) {
    this.params = {
      nEstimators: opts.nEstimators ?? 100,
      maxFeatures: opts.maxFeatures === undefined ? 'sqrt' : opts.maxFeatures,
      maxDepth: opts.maxDepth ?? null,
      minSamplesSplit: opts.minSamplesSplit ?? 2,
      minSamplesLeaf: opts.minSamplesLeaf ?? 1,
      minImpurityDecrease: opts.minImpurityDecrease ?? 0,
      bootstrap: opts.bootstrap ?? true,
      oobScore: opts.oobScore ?? false,
      classWeight: opts.classWeight ?? null,
      maxBins: opts.maxBins ?? MAX_BINS,
      seed: opts.seed ?? 0,
    };
    const p = this.params;
    assertIntParam('nEstimators', p.nEstimators, 1);
    if (p.maxDepth !== null) assertIntParam('maxDepth', p.maxDepth, 1);
    assertIntParam('minSamplesSplit', p.minSamplesSplit, 2);
    assertIntParam('minSamplesLeaf', p.minSamplesLeaf, 1);
    assertNumberParam('minImpurityDecrease', p.minImpurityDecrease, 0, Infinity);
    assertIntParam('maxBins', p.maxBins, 2, MAX_BINS);
    if (p.oobScore && !p.bootstrap) throw new MlError('ML_INVALID_PARAM', 'oobScore requires bootstrap');
  }

  get classes(): Int32Array {
    return this.fitted().classes;
  }

  get nEstimators(): number {
    return this.trees.length;
  }

  /** Out-of-bag accuracy from fit (when `oobScore` was set); null otherwise. */
  get oobScore(): number | null {
    return this.oob;
  }

  /** Mean decrease in impurity per feature, summing to 1. */
  get featureImportances(): Float64Array {
    this.fitted();
    return Float64Array.from(this.importances ?? []);
  }

  fit(X: Matrix, y: ArrayLike<number>, opts: RandomForestFitOptions = {}): this {
    const { classes, encoded } = validateClassification(X, y, opts.classes ? { classes: opts.classes } : {});
    if (opts.sampleWeight) assertWeights(opts.sampleWeight, X.nRows);
    const p = this.params;
    const { nRows, nCols } = X;
    const K = classes.length;
    const rng = new Rng(p.seed);
    const maxFeatures = resolveMaxFeatures(p.maxFeatures, nCols);

    const edges = fitBinEdges(X, p.maxBins, rng);
    const binned = binColumnMajor(X, edges);

    const baseWeight = new Float64Array(nRows);
    for (let i = 0; i < nRows; i++) baseWeight[i] = opts.sampleWeight ? (opts.sampleWeight[i] as number) : 1;
    if (p.classWeight !== null && p.classWeight !== 'balanced_subsample') {
      const cw = classWeightVector(p.classWeight, classes, encoded, null);
      for (let i = 0; i < nRows; i++)
        baseWeight[i] = (baseWeight[i] as number) * (cw[encoded[i] as number] as number);
    }

    const cartParams = {
      maxFeatures,
      maxDepth: p.maxDepth ?? 0x7fffffff,
      minSamplesSplit: p.minSamplesSplit,
      minSamplesLeaf: p.minSamplesLeaf,
      minImpurityDecrease: p.minImpurityDecrease,
    };
    const trees: FlatTree[] = [];
    const imp = new Float64Array(nCols);
    const oobSum = p.oobScore ? new Float64Array(nRows * K) : null;
    const counts = new Int32Array(nRows);
    const weight = new Float64Array(nRows);
    const allRows = new Int32Array(nRows);
    for (let i = 0; i < nRows; i++) allRows[i] = i;

    for (let t = 0; t < p.nEstimators; t++) {
      const treeRng = new Rng(rng.nextSeed());
      let rows = allRows;
      if (p.bootstrap) {
        counts.fill(0);
        for (let i = 0; i < nRows; i++) {
          const r = treeRng.int(nRows);
          counts[r] = (counts[r] as number) + 1;
        }
        let m = 0;
        for (let i = 0; i < nRows; i++) if ((counts[i] as number) > 0) m++;
        rows = new Int32Array(m);
        m = 0;
        for (let i = 0; i < nRows; i++) {
          weight[i] = (counts[i] as number) * (baseWeight[i] as number);
          if ((counts[i] as number) > 0) rows[m++] = i;
        }
        if (p.classWeight === 'balanced_subsample') {
          const cw = classWeightVector('balanced', classes, encoded, counts);
          for (let i = 0; i < nRows; i++)
            weight[i] = (weight[i] as number) * (cw[encoded[i] as number] as number);
        }
      } else {
        weight.set(baseWeight);
        if (p.classWeight === 'balanced_subsample') {
          const cw = classWeightVector('balanced', classes, encoded, null);
          for (let i = 0; i < nRows; i++)
            weight[i] = (weight[i] as number) * (cw[encoded[i] as number] as number);
        }
      }
      const { tree, importances } = buildCart(
        { binned, nRows, nCols, edges, y: encoded, nClasses: K, rows, weight },
        cartParams,
        treeRng,
      );
      trees.push(tree);
      let s = 0;
      for (let c = 0; c < nCols; c++) s += importances[c] as number;
      if (s > 0) for (let c = 0; c < nCols; c++) imp[c] = (imp[c] as number) + (importances[c] as number) / s;
      if (oobSum) accumulateOob(tree, X, counts, oobSum);
    }

    let total = 0;
    for (let c = 0; c < nCols; c++) total += imp[c] as number;
    if (total > 0) for (let c = 0; c < nCols; c++) imp[c] = (imp[c] as number) / total;

    this.trees = trees;
    this.packed = PackedForest.fromTrees(trees);
    this.classes_ = classes;
    this.nFeatures = nCols;
    this.importances = imp;
    this.featureSet = opts.featureSet ?? null;
    this.oob = oobSum ? oobAccuracy(oobSum, encoded, K) : null;
    return this;
  }

  /** Class probabilities, nRows × nClasses row-major, columns in the order of `classes`. */
  predictProba(X: Matrix): Float32Array {
    const { classes } = this.fitted();
    assertMatrix(X);
    assertColumns(X, this.nFeatures);
    const K = classes.length;
    const acc = new Float64Array(X.nRows * K);
    this.packed ??= PackedForest.fromTrees(this.trees);
    this.packed.accumulate(X, acc);
    const out = new Float32Array(X.nRows * K);
    const inv = 1 / this.trees.length;
    for (let i = 0; i < acc.length; i++) out[i] = (acc[i] as number) * inv;
    return out;
  }

  /** Predicted labels (the most probable class; ties go to the smaller label, like numpy argmax). */
  predict(X: Matrix): Int32Array {
    const { classes } = this.fitted();
    return argmaxLabels(this.predictProba(X), X.nRows, classes);
  }

  toJSON(): ModelEnvelope<RandomForestParams, RandomForestData> {
    const { classes } = this.fitted();
    return makeEnvelope(
      RANDOM_FOREST_ALGORITHM,
      FORMAT_VERSION,
      { ...this.params },
      {
        nFeatures: this.nFeatures,
        classes: encodeTyped(classes),
        featureImportances: encodeTyped(this.importances ?? new Float64Array(this.nFeatures)),
        oobScore: this.oob,
        trees: this.trees.map(treeToJson),
      },
      this.featureSet,
    );
  }

  static fromJSON(json: unknown): RandomForestClassifier {
    const env = openEnvelope(json, RANDOM_FOREST_ALGORITHM, [FORMAT_VERSION]);
    const d = env.data;
    const m = new RandomForestClassifier(env.params as RandomForestOptions);
    m.nFeatures = numField(d, 'nFeatures');
    m.classes_ = decodeI32(d['classes'], 'classes');
    m.importances = decodeF64(d['featureImportances'], 'featureImportances');
    m.oob = typeof d['oobScore'] === 'number' ? d['oobScore'] : null;
    m.trees = arrayField(d, 'trees').map((t) => treeFromJson(t, m.nFeatures));
    m.featureSet = env.featureSet;
    if (m.trees.length === 0 || m.trees.some((t) => t.width !== m.classes_?.length)) {
      throw new MlError('ML_BAD_MODEL', 'random forest trees do not match its classes');
    }
    return m;
  }

  /** The feature set recorded at fit time, if any. */
  get featureSetSignature(): FeatureSetSignature | null {
    return this.featureSet;
  }

  private fitted(): { classes: Int32Array } {
    if (!this.classes_ || this.trees.length === 0) {
      throw new MlError('ML_NOT_FITTED', 'the random forest has not been fitted');
    }
    return { classes: this.classes_ };
  }
}

export function resolveMaxFeatures(mf: MaxFeatures, nCols: number): number {
  let k: number;
  if (mf === null) k = nCols;
  else if (mf === 'sqrt') k = Math.floor(Math.sqrt(nCols));
  else if (mf === 'log2') k = Math.floor(Math.log2(nCols));
  else if (Number.isInteger(mf) && mf >= 1) {
    if (mf > nCols) throw new MlError('ML_INVALID_PARAM', `maxFeatures ${mf} exceeds the ${nCols} features`);
    k = mf;
  } else if (typeof mf === 'number' && mf > 0 && mf <= 1) k = Math.floor(mf * nCols);
  else
    throw new MlError(
      'ML_INVALID_PARAM',
      `maxFeatures must be sqrt, log2, an integer >= 1 or a fraction in (0, 1]`,
    );
  return Math.max(1, k);
}

/** Weight per class index. `counts` (bootstrap counts) restricts 'balanced' to the drawn sample. */
function classWeightVector(
  cw: Exclude<ClassWeight, null | 'balanced_subsample'>,
  classes: Int32Array,
  encoded: Int32Array,
  counts: Int32Array | null,
): Float64Array {
  const K = classes.length;
  const out = new Float64Array(K).fill(1);
  if (cw === 'balanced') {
    const bc = new Float64Array(K);
    let n = 0;
    for (let i = 0; i < encoded.length; i++) {
      const c = counts ? (counts[i] as number) : 1;
      bc[encoded[i] as number] = (bc[encoded[i] as number] as number) + c;
      n += c;
    }
    for (let k = 0; k < K; k++) out[k] = (bc[k] as number) > 0 ? n / (K * (bc[k] as number)) : 1;
    return out;
  }
  if (!isRecord(cw)) throw new MlError('ML_INVALID_PARAM', 'classWeight must be balanced or a label map');
  for (const [label, w] of Object.entries(cw)) {
    const k = classes.indexOf(Number(label));
    if (k < 0) throw new MlError('ML_INVALID_PARAM', `classWeight names label ${label}, which is not in y`);
    if (typeof w !== 'number' || !(w >= 0) || !Number.isFinite(w)) {
      throw new MlError('ML_INVALID_PARAM', `classWeight for ${label} must be a finite number >= 0`);
    }
    out[k] = w;
  }
  return out;
}

function accumulateOob(tree: FlatTree, X: Matrix, counts: Int32Array, out: Float64Array): void {
  const { feature, threshold, left, right, value, width } = tree;
  const { data, nCols, nRows } = X;
  for (let r = 0; r < nRows; r++) {
    if ((counts[r] as number) !== 0) continue;
    const base = r * nCols;
    let node = 0;
    let f = feature[0] as number;
    while (f >= 0) {
      node =
        (data[base + f] as number) <= (threshold[node] as number)
          ? (left[node] as number)
          : (right[node] as number);
      f = feature[node] as number;
    }
    for (let k = 0; k < width; k++)
      out[r * width + k] = (out[r * width + k] as number) + (value[node * width + k] as number);
  }
}

function oobAccuracy(sum: Float64Array, y: Int32Array, K: number): number {
  let n = 0;
  let correct = 0;
  for (let r = 0; r < y.length; r++) {
    let best = 0;
    let bestV = -1;
    let any = false;
    for (let k = 0; k < K; k++) {
      const v = sum[r * K + k] as number;
      if (v > 0) any = true;
      if (v > bestV) {
        bestV = v;
        best = k;
      }
    }
    if (!any) continue;
    n++;
    if (best === y[r]) correct++;
  }
  return n > 0 ? correct / n : NaN;
}

export function argmaxLabels(
  proba: Float32Array | Float64Array,
  nRows: number,
  classes: Int32Array,
): Int32Array {
  const K = classes.length;
  const out = new Int32Array(nRows);
  for (let r = 0; r < nRows; r++) {
    let best = 0;
    let bestV = proba[r * K] as number;
    for (let k = 1; k < K; k++) {
      const v = proba[r * K + k] as number;
      if (v > bestV) {
        bestV = v;
        best = k;
      }
    }
    out[r] = classes[best] as number;
  }
  return out;
}
