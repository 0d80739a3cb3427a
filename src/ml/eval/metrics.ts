/**
 * Classification and drift metrics with scikit-learn's definitions (precision/recall/F1 are 0 when their
 * denominator is 0, like zero_division=0).
 */
import { MlError } from '../errors.js';

function checkPair(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): void {
  if (yTrue.length !== yPred.length) {
    throw new MlError('ML_LENGTH_MISMATCH', `yTrue has ${yTrue.length} entries, yPred ${yPred.length}`);
  }
  if (yTrue.length === 0) throw new MlError('ML_EMPTY_DATA', 'no labels to score');
}

export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkPair(yTrue, yPred);
  let ok = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) ok++;
  return ok / yTrue.length;
}

export interface ConfusionMatrix {
  /** Sorted labels: row i / column j of `counts` is labels[i] / labels[j]. */
  readonly labels: Int32Array;
  /** K × K row-major: counts[i * K + j] = rows with true labels[i] predicted as labels[j]. */
  readonly counts: Int32Array;
}

/** Rows are true labels, columns predicted labels (scikit-learn's orientation). */
export function confusionMatrix(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  labels?: ArrayLike<number>,
): ConfusionMatrix {
  checkPair(yTrue, yPred);
  let labs: Int32Array;
  if (labels) labs = Int32Array.from(labels);
  else {
    const s = new Set<number>();
    for (let i = 0; i < yTrue.length; i++) {
      s.add(yTrue[i] as number);
      s.add(yPred[i] as number);
    }
    labs = Int32Array.from(s).sort();
  }
  const K = labs.length;
  const index = new Map<number, number>();
  labs.forEach((l, i) => index.set(l, i));
  const counts = new Int32Array(K * K);
  for (let i = 0; i < yTrue.length; i++) {
    const a = index.get(yTrue[i] as number);
    const b = index.get(yPred[i] as number);
    if (a === undefined || b === undefined) continue; // labels outside the given list are ignored
    counts[a * K + b] = (counts[a * K + b] as number) + 1;
  }
  return { labels: labs, counts };
}

export interface ClassMetrics {
  readonly label: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly support: number;
}

export interface ClassificationReport {
  readonly perClass: readonly ClassMetrics[];
  readonly accuracy: number;
  readonly macroPrecision: number;
  readonly macroRecall: number;
  readonly macroF1: number;
  readonly weightedF1: number;
  readonly confusion: ConfusionMatrix;
}

export function classificationReport(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  labels?: ArrayLike<number>,
): ClassificationReport {
  const confusion = confusionMatrix(yTrue, yPred, labels);
  const { labels: labs, counts } = confusion;
  const K = labs.length;
  const perClass: ClassMetrics[] = [];
  let correct = 0;
  let total = 0;
  for (let k = 0; k < K; k++) {
    let tp = 0;
    let predicted = 0;
    let support = 0;
    for (let j = 0; j < K; j++) {
      predicted += counts[j * K + k] as number;
      support += counts[k * K + j] as number;
      total += counts[k * K + j] as number;
    }
    tp = counts[k * K + k] as number;
    correct += tp;
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass.push({ label: labs[k] as number, precision, recall, f1, support });
  }
  const mean = (f: (m: ClassMetrics) => number): number =>
    K > 0 ? perClass.reduce((s, m) => s + f(m), 0) / K : 0;
  const supportSum = perClass.reduce((s, m) => s + m.support, 0);
  return {
    perClass,
    accuracy: total > 0 ? correct / total : 0,
    macroPrecision: mean((m) => m.precision),
    macroRecall: mean((m) => m.recall),
    macroF1: mean((m) => m.f1),
    weightedF1: supportSum > 0 ? perClass.reduce((s, m) => s + m.f1 * m.support, 0) / supportSum : 0,
    confusion,
  };
}

export function macroF1(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  labels?: ArrayLike<number>,
): number {
  return classificationReport(yTrue, yPred, labels).macroF1;
}

/**
 * Area under the ROC curve for binary labels (positive = 1, or `positiveLabel`), computed as the
 * Mann–Whitney statistic with mid-ranks, so tied scores count one half (same as scikit-learn).
 */
export function rocAuc(yTrue: ArrayLike<number>, scores: ArrayLike<number>, positiveLabel = 1): number {
  checkPair(yTrue, scores);
  const n = yTrue.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    order[i] = i;
    if (!Number.isFinite(scores[i] as number)) {
      throw new MlError('ML_INVALID_INPUT', `score ${i} is ${scores[i]}`, { row: i });
    }
  }
  order.sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let nPos = 0;
  let rankSumPos = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    const s = scores[order[i] as number] as number;
    while (j + 1 < n && scores[order[j + 1] as number] === s) j++;
    const midRank = (i + j) / 2 + 1; // 1-based
    for (let t = i; t <= j; t++) {
      if (yTrue[order[t] as number] === positiveLabel) {
        nPos++;
        rankSumPos += midRank;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) {
    throw new MlError('ML_SINGLE_CLASS', 'ROC AUC needs both positive and negative labels');
  }
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

export interface PsiResult {
  readonly psi: number;
  /** Inner bin edges taken from the reference quantiles (a value v is in the first bin with v <= edge). */
  readonly edges: Float64Array;
  readonly expected: Float64Array;
  readonly actual: Float64Array;
}

/**
 * Population stability index of `current` against `reference`: Σ (a - e)·ln(a / e) over `nBins`
 * quantile bins of the reference (duplicate edges merged); empty-bin shares are floored at `epsilon`.
 * Rules of thumb: < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 major shift.
 */
export function psi(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
  nBins = 10,
  epsilon = 1e-4,
): PsiResult {
  if (reference.length === 0 || current.length === 0) {
    throw new MlError('ML_EMPTY_DATA', 'PSI needs non-empty reference and current samples');
  }
  if (!Number.isInteger(nBins) || nBins < 2) throw new MlError('ML_INVALID_PARAM', 'nBins must be >= 2');
  const ref = Float64Array.from(reference);
  for (const v of ref)
    if (!Number.isFinite(v)) throw new MlError('ML_INVALID_INPUT', 'reference has non-finite values');
  ref.sort();
  const edgeList: number[] = [];
  for (let b = 1; b < nBins; b++) {
    const q = quantileSorted(ref, b / nBins);
    if (edgeList.length === 0 || q > (edgeList[edgeList.length - 1] as number)) edgeList.push(q);
  }
  // Drop an edge equal to the maximum: it would leave an always-empty last bin.
  while (
    edgeList.length > 0 &&
    (edgeList[edgeList.length - 1] as number) >= (ref[ref.length - 1] as number)
  ) {
    edgeList.pop();
  }
  const edges = Float64Array.from(edgeList);
  const expected = shares(ref, edges);
  const actual = shares(current, edges);
  let total = 0;
  for (let b = 0; b < expected.length; b++) {
    const e = Math.max(expected[b] as number, epsilon);
    const a = Math.max(actual[b] as number, epsilon);
    total += (a - e) * Math.log(a / e);
  }
  return { psi: total, edges, expected, actual };
}

function shares(v: ArrayLike<number>, edges: Float64Array): Float64Array {
  const out = new Float64Array(edges.length + 1);
  for (let i = 0; i < v.length; i++) {
    const x = v[i] as number;
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (x <= (edges[mid] as number)) hi = mid;
      else lo = mid + 1;
    }
    out[lo] = (out[lo] as number) + 1;
  }
  for (let b = 0; b < out.length; b++) out[b] = (out[b] as number) / v.length;
  return out;
}

/** Linear-interpolation quantile of sorted values (numpy's default method). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const frac = pos - lo;
  return (sorted[lo] as number) + frac * ((sorted[hi] as number) - (sorted[lo] as number));
}
