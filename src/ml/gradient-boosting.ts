/**
 * Histogram gradient boosting for classification, modelled on xgboost's `hist` tree method: features are
 * quantile-binned to ≤ 256 bins (a Uint8Array row-major matrix), every round fits one regression tree per
 * class (softmax, K ≥ 3) or one tree (logistic, K = 2) to the gradient/hessian of the log loss, growing
 * depth-wise with xgboost's gain GL²/(HL+λ) + GR²/(HR+λ) − G²/(H+λ), `gamma` as the minimum gain, and
 * `minChildWeight` as the minimum hessian per child. Child histograms use the subtraction trick (build
 * the smaller child, derive the larger). Optional row subsampling per round and column subsampling per
 * tree; early stopping on a stratified validation split with patience.
 */
import { binRowMajor, fitBinEdges, MAX_BINS, type BinEdges } from './binning.js';
import { MlError } from './errors.js';
import { stratifiedSplit } from './eval/split.js';
import type { FeatureSetSignature } from './features/feature-set.js';
import { takeInt32, takeRows, type Matrix } from './matrix.js';
import { Rng } from './random.js';
import { argmaxLabels } from './random-forest.js';
import {
  arrayField,
  decodeF64,
  decodeI32,
  encodeTyped,
  makeEnvelope,
  numField,
  openEnvelope,
  type ModelEnvelope,
} from './serialize.js';
import { TreeBuffer, treeFromJson, treeToJson, type FlatTree, type FlatTreeJson } from './tree/flat-tree.js';
import {
  assertColumns,
  assertIntParam,
  assertMatrix,
  assertNumberParam,
  validateClassification,
} from './validate.js';

export interface GradientBoostingOptions {
  /** Boosting rounds (xgboost n_estimators). */
  nEstimators?: number;
  /** Shrinkage eta. */
  learningRate?: number;
  maxDepth?: number;
  /** L2 regularisation on leaf weights. */
  lambda?: number;
  /** Minimum loss reduction to split (min_split_loss). */
  gamma?: number;
  /** Minimum sum of hessians in a child. */
  minChildWeight?: number;
  /** Fraction of rows drawn (without replacement) each round. */
  subsample?: number;
  /** Fraction of features drawn for each tree. */
  colsampleByTree?: number;
  maxBins?: number;
  /** Stop after this many rounds without improvement of the validation log loss; null = no early stopping. */
  earlyStoppingRounds?: number | null;
  /** Stratified share of the training rows held out for early stopping (when no eval set is given). */
  validationFraction?: number;
  seed?: number;
}

export type GradientBoostingParams = Required<Omit<GradientBoostingOptions, 'earlyStoppingRounds'>> & {
  earlyStoppingRounds: number | null;
};

export interface GradientBoostingFitOptions {
  /** Explicit validation set for early stopping (otherwise a stratified split of X). */
  evalSet?: { X: Matrix; y: ArrayLike<number> };
  classes?: ArrayLike<number>;
  featureSet?: FeatureSetSignature | null;
}

export type ImportanceType = 'gain' | 'total_gain' | 'weight';

export const GRADIENT_BOOSTING_ALGORITHM = 'gradient-boosting-classifier';
const FORMAT_VERSION = 1;
const HESS_MIN = 1e-16;
const RT_EPS = 1e-6;

export interface GradientBoostingData {
  nFeatures: number;
  classes: string;
  treesPerRound: number;
  baseMargin: number;
  bestIteration: number;
  evalHistory: number[];
  gainSum: string;
  splitCount: string;
  trees: FlatTreeJson[];
}

export class GradientBoostingClassifier {
  readonly params: GradientBoostingParams;
  private trees: FlatTree[] = [];
  private classes_: Int32Array | null = null;
  private nFeatures = 0;
  private treesPerRound = 1;
  private baseMargin = 0;
  private bestIteration_ = -1;
  private evalHistory_: number[] = [];
  private gainSum: Float64Array = new Float64Array(0);
  private splitCount: Float64Array = new Float64Array(0);
  private featureSet: FeatureSetSignature | null = null;

  constructor(opts: GradientBoostingOptions = {}) {
    this.params = {
      nEstimators: opts.nEstimators ?? 100,
      learningRate: opts.learningRate ?? 0.3,
      maxDepth: opts.maxDepth ?? 6,
      lambda: opts.lambda ?? 1,
      gamma: opts.gamma ?? 0,
      minChildWeight: opts.minChildWeight ?? 1,
      subsample: opts.subsample ?? 1,
      colsampleByTree: opts.colsampleByTree ?? 1,
      maxBins: opts.maxBins ?? MAX_BINS,
      earlyStoppingRounds: opts.earlyStoppingRounds ?? null,
      validationFraction: opts.validationFraction ?? 0.1,
      seed: opts.seed ?? 0,
    };
    const p = this.params;
    assertIntParam('nEstimators', p.nEstimators, 1);
    assertNumberParam('learningRate', p.learningRate, 0, 1, { minExclusive: true });
    assertIntParam('maxDepth', p.maxDepth, 1, 30);
    assertNumberParam('lambda', p.lambda, 0, Infinity);
    assertNumberParam('gamma', p.gamma, 0, Infinity);
    assertNumberParam('minChildWeight', p.minChildWeight, 0, Infinity);
    assertNumberParam('subsample', p.subsample, 0, 1, { minExclusive: true });
    assertNumberParam('colsampleByTree', p.colsampleByTree, 0, 1, { minExclusive: true });
    assertIntParam('maxBins', p.maxBins, 2, MAX_BINS);
    if (p.earlyStoppingRounds !== null) assertIntParam('earlyStoppingRounds', p.earlyStoppingRounds, 1);
    assertNumberParam('validationFraction', p.validationFraction, 0, 1, {
      minExclusive: true,
      maxExclusive: true,
    });
  }

  get classes(): Int32Array {
    return this.fitted();
  }

  /** Round with the best validation loss (0-based), or the last round without early stopping. */
  get bestIteration(): number {
    this.fitted();
    return this.bestIteration_;
  }

  /** Rounds kept in the model. */
  get nRounds(): number {
    return this.trees.length / this.treesPerRound;
  }

  /** Validation log loss after each round (empty without early stopping or eval set). */
  get evalHistory(): readonly number[] {
    return this.evalHistory_;
  }

  get featureSetSignature(): FeatureSetSignature | null {
    return this.featureSet;
  }

  /** xgboost-style importances, normalised to sum 1: mean gain per split ('gain'), total gain, or split counts. */
  featureImportances(type: ImportanceType = 'gain'): Float64Array {
    this.fitted();
    const out = new Float64Array(this.nFeatures);
    for (let f = 0; f < this.nFeatures; f++) {
      const g = this.gainSum[f] as number;
      const c = this.splitCount[f] as number;
      out[f] = type === 'weight' ? c : type === 'total_gain' ? g : c > 0 ? g / c : 0;
    }
    const s = out.reduce((a, b) => a + b, 0);
    if (s > 0) for (let f = 0; f < out.length; f++) out[f] = (out[f] as number) / s;
    return out;
  }

  fit(X: Matrix, y: ArrayLike<number>, opts: GradientBoostingFitOptions = {}): this {
    const { classes, encoded } = validateClassification(X, y, opts.classes ? { classes: opts.classes } : {});
    const p = this.params;
    const K = classes.length;
    const T = K === 2 ? 1 : K;
    const rng = new Rng(p.seed);

    // Training / validation rows.
    let Xtr = X;
    let ytr = encoded;
    let Xval: Matrix | null = null;
    let yval: Int32Array | null = null;
    if (opts.evalSet) {
      assertMatrix(opts.evalSet.X, 'evalSet.X');
      assertColumns(opts.evalSet.X, X.nCols, 'evalSet.X');
      const index = new Map<number, number>();
      classes.forEach((c, k) => index.set(c, k));
      yval = Int32Array.from(Array.from(opts.evalSet.y), (v, i) => {
        const k = index.get(v);
        if (k === undefined)
          throw new MlError('ML_INVALID_INPUT', `evalSet.y[${i}] = ${v} is not a training class`);
        return k;
      });
      if (yval.length !== opts.evalSet.X.nRows) {
        throw new MlError('ML_LENGTH_MISMATCH', 'evalSet.y and evalSet.X have different lengths');
      }
      Xval = opts.evalSet.X;
    } else if (p.earlyStoppingRounds !== null) {
      const s = stratifiedSplit(encoded, { testSize: p.validationFraction, seed: rng.nextSeed() });
      Xtr = takeRows(X, s.train);
      ytr = takeInt32(encoded, s.train);
      Xval = takeRows(X, s.test);
      yval = takeInt32(encoded, s.test);
    }

    const n = Xtr.nRows;
    const nCols = X.nCols;
    const edges = fitBinEdges(Xtr, p.maxBins, rng);
    const binned = binRowMajor(Xtr, edges);
    const binOffset = new Int32Array(nCols + 1);
    for (let f = 0; f < nCols; f++)
      binOffset[f + 1] = (binOffset[f] as number) + (edges[f] as Float64Array).length + 1;

    // Base margin: log-odds of the positive class for binary (xgboost ≥ 2 estimates it); 0 for softmax.
    let base = 0;
    if (T === 1) {
      let pos = 0;
      for (let i = 0; i < n; i++) pos += ytr[i] as number;
      const prior = Math.min(Math.max(pos / n, 1e-6), 1 - 1e-6);
      base = Math.log(prior / (1 - prior));
    }
    const margin = new Float64Array(n * T).fill(base);
    const marginVal = Xval ? new Float64Array(Xval.nRows * T).fill(base) : null;
    const prob = new Float64Array(n * T);
    const gh = new Float64Array(2 * n);
    const builder = new HistTreeBuilder(binned, n, nCols, binOffset, edges, p);
    const gainSum = new Float64Array(nCols);
    const splitCount = new Float64Array(nCols);
    const trees: FlatTree[] = [];
    const history: number[] = [];
    let best = Infinity;
    let bestRound = -1;
    const allRows = Int32Array.from({ length: n }, (_, i) => i);
    const nSub = Math.max(1, Math.floor(p.subsample * n));
    const nColSub = Math.max(1, Math.floor(p.colsampleByTree * nCols));

    for (let round = 0; round < p.nEstimators; round++) {
      computeProba(margin, n, T, prob);
      const rows = p.subsample < 1 ? rng.sampleWithoutReplacement(n, nSub).sort() : allRows;
      for (let t = 0; t < T; t++) {
        for (let i = 0; i < n; i++) {
          const yi = T === 1 ? (ytr[i] as number) : (ytr[i] as number) === t ? 1 : 0;
          const pi = prob[i * T + t] as number;
          gh[2 * i] = pi - yi;
          gh[2 * i + 1] = Math.max(T === 1 ? pi * (1 - pi) : 2 * pi * (1 - pi), HESS_MIN);
        }
        const cols =
          nColSub < nCols
            ? rng.sampleWithoutReplacement(nCols, nColSub).sort()
            : Int32Array.from({ length: nCols }, (_, i) => i);
        const { tree, splitBin } = builder.build(rows, gh, cols);
        trees.push(tree);
        // Training margins: walk the binned rows (covers rows left out by subsampling too).
        for (let i = 0; i < n; i++) {
          let node = 0;
          while ((tree.feature[node] as number) >= 0) {
            node =
              (binned[i * nCols + (tree.feature[node] as number)] as number) <= (splitBin[node] as number)
                ? (tree.left[node] as number)
                : (tree.right[node] as number);
          }
          margin[i * T + t] = (margin[i * T + t] as number) + (tree.value[node] as number);
        }
        if (Xval && marginVal) addTree(tree, Xval, marginVal, T, t);
      }
      if (Xval && marginVal && yval) {
        const loss = logLoss(marginVal, yval, T);
        history.push(loss);
        if (loss < best - 1e-12) {
          best = loss;
          bestRound = round;
        } else if (p.earlyStoppingRounds !== null && round - bestRound >= p.earlyStoppingRounds) {
          break;
        }
      }
    }
    if (bestRound < 0 || p.earlyStoppingRounds === null) bestRound = trees.length / T - 1;
    this.trees = trees.slice(0, (bestRound + 1) * T);
    // Importances over the kept trees only.
    gainSum.fill(0);
    splitCount.fill(0);
    for (const t of this.trees) {
      for (let i = 0; i < t.nNodes; i++) {
        const f = t.feature[i] as number;
        if (f < 0) continue;
        gainSum[f] = (gainSum[f] as number) + (builder.gainOf(t, i) ?? 0);
        splitCount[f] = (splitCount[f] as number) + 1;
      }
    }
    this.classes_ = classes;
    this.nFeatures = nCols;
    this.treesPerRound = T;
    this.baseMargin = base;
    this.bestIteration_ = bestRound;
    this.evalHistory_ = history;
    this.gainSum = gainSum;
    this.splitCount = splitCount;
    this.featureSet = opts.featureSet ?? null;
    return this;
  }

  /** Raw margins, nRows × treesPerRound. */
  predictMargin(X: Matrix): Float64Array {
    this.fitted();
    assertMatrix(X);
    assertColumns(X, this.nFeatures);
    const T = this.treesPerRound;
    const out = new Float64Array(X.nRows * T).fill(this.baseMargin);
    this.trees.forEach((tree, i) => addTree(tree, X, out, T, i % T));
    return out;
  }

  /** Class probabilities, nRows × nClasses, columns in the order of `classes`. */
  predictProba(X: Matrix): Float32Array {
    const classes = this.fitted();
    const T = this.treesPerRound;
    const m = this.predictMargin(X);
    const K = classes.length;
    const out = new Float32Array(X.nRows * K);
    if (T === 1) {
      for (let r = 0; r < X.nRows; r++) {
        const p1 = 1 / (1 + Math.exp(-(m[r] as number)));
        out[2 * r] = 1 - p1;
        out[2 * r + 1] = p1;
      }
      return out;
    }
    const prob = new Float64Array(m.length);
    computeProba(m, X.nRows, T, prob);
    out.set(prob);
    return out;
  }

  predict(X: Matrix): Int32Array {
    const classes = this.fitted();
    return argmaxLabels(this.predictProba(X), X.nRows, classes);
  }

  toJSON(): ModelEnvelope<GradientBoostingParams, GradientBoostingData> {
    const classes = this.fitted();
    return makeEnvelope(
      GRADIENT_BOOSTING_ALGORITHM,
      FORMAT_VERSION,
      { ...this.params },
      {
        nFeatures: this.nFeatures,
        classes: encodeTyped(classes),
        treesPerRound: this.treesPerRound,
        baseMargin: this.baseMargin,
        bestIteration: this.bestIteration_,
        evalHistory: [...this.evalHistory_],
        gainSum: encodeTyped(this.gainSum),
        splitCount: encodeTyped(this.splitCount),
        trees: this.trees.map(treeToJson),
      },
      this.featureSet,
    );
  }

  static fromJSON(json: unknown): GradientBoostingClassifier {
    const env = openEnvelope(json, GRADIENT_BOOSTING_ALGORITHM, [FORMAT_VERSION]);
    const d = env.data;
    const m = new GradientBoostingClassifier(env.params as GradientBoostingOptions);
    m.nFeatures = numField(d, 'nFeatures');
    m.classes_ = decodeI32(d['classes'], 'classes');
    m.treesPerRound = numField(d, 'treesPerRound');
    m.baseMargin = numField(d, 'baseMargin');
    m.bestIteration_ = numField(d, 'bestIteration');
    m.evalHistory_ = arrayField(d, 'evalHistory').map(Number);
    m.gainSum = decodeF64(d['gainSum'], 'gainSum');
    m.splitCount = decodeF64(d['splitCount'], 'splitCount');
    m.trees = arrayField(d, 'trees').map((t) => treeFromJson(t, m.nFeatures));
    m.featureSet = env.featureSet;
    const K = m.classes_.length;
    if (
      m.treesPerRound !== (K === 2 ? 1 : K) ||
      m.trees.length === 0 ||
      m.trees.length % m.treesPerRound !== 0 ||
      m.trees.some((t) => t.width !== 1)
    ) {
      throw new MlError('ML_BAD_MODEL', 'gradient boosting trees do not match its classes');
    }
    return m;
  }

  private fitted(): Int32Array {
    if (!this.classes_ || this.trees.length === 0) {
      throw new MlError('ML_NOT_FITTED', 'the gradient boosting model has not been fitted');
    }
    return this.classes_;
  }
}

/** Softmax (T ≥ 2) or sigmoid (T = 1) of margins, in place into `out`. */
function computeProba(margin: Float64Array, n: number, T: number, out: Float64Array): void {
  if (T === 1) {
    for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-(margin[i] as number)));
    return;
  }
  for (let i = 0; i < n; i++) {
    const o = i * T;
    let mx = -Infinity;
    for (let t = 0; t < T; t++) mx = Math.max(mx, margin[o + t] as number);
    let s = 0;
    for (let t = 0; t < T; t++) {
      const e = Math.exp((margin[o + t] as number) - mx);
      out[o + t] = e;
      s += e;
    }
    for (let t = 0; t < T; t++) out[o + t] = (out[o + t] as number) / s;
  }
}

function logLoss(margin: Float64Array, y: Int32Array, T: number): number {
  const n = y.length;
  let loss = 0;
  const eps = 1e-15;
  if (T === 1) {
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-(margin[i] as number)));
      const q = (y[i] as number) === 1 ? p : 1 - p;
      loss -= Math.log(Math.min(Math.max(q, eps), 1 - eps));
    }
    return loss / n;
  }
  for (let i = 0; i < n; i++) {
    const o = i * T;
    let mx = -Infinity;
    for (let t = 0; t < T; t++) mx = Math.max(mx, margin[o + t] as number);
    let s = 0;
    for (let t = 0; t < T; t++) s += Math.exp((margin[o + t] as number) - mx);
    const q = Math.exp((margin[o + (y[i] as number)] as number) - mx) / s;
    loss -= Math.log(Math.min(Math.max(q, eps), 1 - eps));
  }
  return loss / n;
}

/** margin[r * T + t] += leaf value of row r (raw X). */
function addTree(tree: FlatTree, X: Matrix, margin: Float64Array, T: number, t: number): void {
  const { feature, threshold, left, right, value } = tree;
  const { data, nRows, nCols } = X;
  for (let r = 0; r < nRows; r++) {
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
    margin[r * T + t] = (margin[r * T + t] as number) + (value[node] as number);
  }
}

interface PendingNode {
  id: number;
  start: number;
  end: number;
  G: number;
  H: number;
  /** Gradient/hessian histogram; null for nodes at maxDepth (they become leaves). */
  hist: Float64Array | null;
}

/** Depth-wise histogram tree builder, reusing its buffers across trees. */
class HistTreeBuilder {
  private readonly idx: Int32Array;
  private readonly pool: Float64Array[] = [];
  private readonly histSize: number;
  /** Split gain per node of the trees built so far (keyed by tree object). */
  private readonly gains = new WeakMap<FlatTree, Float64Array>();

  constructor(
    private readonly binned: Uint8Array,
    private readonly n: number,
    private readonly nCols: number,
    private readonly binOffset: Int32Array,
    private readonly edges: BinEdges,
    private readonly p: GradientBoostingParams,
  ) {
    this.idx = new Int32Array(n);
    this.histSize = 2 * (binOffset[nCols] as number);
  }

  gainOf(tree: FlatTree, node: number): number | undefined {
    return this.gains.get(tree)?.[node];
  }

  private alloc(): Float64Array {
    const h = this.pool.pop();
    if (h) {
      h.fill(0);
      return h;
    }
    return new Float64Array(this.histSize);
  }

  private release(h: Float64Array): void {
    this.pool.push(h);
  }

  /** Adds the (g, h) of rows idx[start, end) into hist for the features in `cols`. */
  private fillHist(hist: Float64Array, start: number, end: number, gh: Float64Array, cols: Int32Array): void {
    const { binned, nCols, binOffset, idx } = this;
    const nc = cols.length;
    if (nc === nCols) {
      for (let i = start; i < end; i++) {
        const r = idx[i] as number;
        const g = gh[2 * r] as number;
        const h = gh[2 * r + 1] as number;
        const base = r * nCols;
        for (let f = 0; f < nCols; f++) {
          const k = 2 * ((binOffset[f] as number) + (binned[base + f] as number));
          hist[k] = (hist[k] as number) + g;
          hist[k + 1] = (hist[k + 1] as number) + h;
        }
      }
      return;
    }
    for (let i = start; i < end; i++) {
      const r = idx[i] as number;
      const g = gh[2 * r] as number;
      const h = gh[2 * r + 1] as number;
      const base = r * nCols;
      for (let j = 0; j < nc; j++) {
        const f = cols[j] as number;
        const k = 2 * ((binOffset[f] as number) + (binned[base + f] as number));
        hist[k] = (hist[k] as number) + g;
        hist[k + 1] = (hist[k + 1] as number) + h;
      }
    }
  }

  build(rows: Int32Array, gh: Float64Array, cols: Int32Array): { tree: FlatTree; splitBin: Int32Array } {
    const { p, idx, binned, nCols, binOffset, edges } = this;
    const lambda = p.lambda;
    const mcw = p.minChildWeight;
    const eta = p.learningRate;
    idx.set(rows);
    const buf = new TreeBuffer(1, 64);
    const nodeGain: number[] = [];
    const splitBinList: number[] = [];

    let G = 0;
    let H = 0;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as number;
      G += gh[2 * r] as number;
      H += gh[2 * r + 1] as number;
    }
    const rootHist = this.alloc();
    this.fillHist(rootHist, 0, rows.length, gh, cols);
    let level: PendingNode[] = [{ id: buf.add(), start: 0, end: rows.length, G, H, hist: rootHist }];

    for (let depth = 0; level.length > 0; depth++) {
      const next: PendingNode[] = [];
      for (const nd of level) {
        const leafValue = (-nd.G / (nd.H + lambda)) * eta;
        buf.value[nd.id] = leafValue;
        nodeGain[nd.id] = 0;
        splitBinList[nd.id] = -1;
        if (!nd.hist || depth >= p.maxDepth || nd.end - nd.start < 2 || nd.H < 2 * mcw) {
          if (nd.hist) this.release(nd.hist);
          continue;
        }
        // Best split over the sampled features.
        const parentScore = (nd.G * nd.G) / (nd.H + lambda);
        let bestGain = 0;
        let bestF = -1;
        let bestBin = -1;
        let bestGL = 0;
        let bestHL = 0;
        const hist = nd.hist;
        for (let j = 0; j < cols.length; j++) {
          const f = cols[j] as number;
          const o = binOffset[f] as number;
          const nb = (binOffset[f + 1] as number) - o;
          let GL = 0;
          let HL = 0;
          for (let b = 0; b < nb - 1; b++) {
            const k = 2 * (o + b);
            const hb = hist[k + 1] as number;
            if (hb === 0) continue;
            GL += hist[k] as number;
            HL += hb;
            if (HL < mcw) continue;
            const HR = nd.H - HL;
            if (HR < mcw) break;
            const GR = nd.G - GL;
            const gain = (GL * GL) / (HL + lambda) + (GR * GR) / (HR + lambda) - parentScore;
            if (gain > bestGain) {
              bestGain = gain;
              bestF = f;
              bestBin = b;
              bestGL = GL;
              bestHL = HL;
            }
          }
        }
        if (bestF < 0 || bestGain <= RT_EPS || bestGain < p.gamma) {
          this.release(nd.hist);
          continue;
        }
        // Partition rows: bin <= bestBin to the left.
        let i = nd.start;
        let jj = nd.end - 1;
        while (i <= jj) {
          if ((binned[(idx[i] as number) * nCols + bestF] as number) <= bestBin) i++;
          else {
            const t = idx[i] as number;
            idx[i] = idx[jj] as number;
            idx[jj] = t;
            jj--;
          }
        }
        const mid = i;
        const leftId = buf.add();
        const rightId = buf.add();
        buf.feature[nd.id] = bestF;
        buf.threshold[nd.id] = (edges[bestF] as Float64Array)[bestBin] as number;
        buf.left[nd.id] = leftId;
        buf.right[nd.id] = rightId;
        nodeGain[nd.id] = bestGain;
        splitBinList[nd.id] = bestBin;

        const nLeft = mid - nd.start;
        const nRight = nd.end - mid;
        if (depth + 1 >= p.maxDepth) {
          // Children will be leaves: no histograms needed.
          this.release(nd.hist);
          next.push({ id: leftId, start: nd.start, end: mid, G: bestGL, H: bestHL, hist: null });
          next.push({ id: rightId, start: mid, end: nd.end, G: nd.G - bestGL, H: nd.H - bestHL, hist: null });
          continue;
        }
        // Build the smaller child's histogram; the larger one is parent − smaller (reusing the parent's).
        const small = this.alloc();
        const smallLeft = nLeft <= nRight;
        if (smallLeft) this.fillHist(small, nd.start, mid, gh, cols);
        else this.fillHist(small, mid, nd.end, gh, cols);
        const large = nd.hist;
        for (let k = 0; k < large.length; k++) large[k] = (large[k] as number) - (small[k] as number);
        next.push({
          id: leftId,
          start: nd.start,
          end: mid,
          G: bestGL,
          H: bestHL,
          hist: smallLeft ? small : large,
        });
        next.push({
          id: rightId,
          start: mid,
          end: nd.end,
          G: nd.G - bestGL,
          H: nd.H - bestHL,
          hist: smallLeft ? large : small,
        });
      }
      level = next;
    }
    const tree = buf.finish();
    this.gains.set(tree, Float64Array.from(nodeGain));
    return { tree, splitBin: Int32Array.from(splitBinList) };
  }
}
