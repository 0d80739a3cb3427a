/**
 * Train/test splits and K-fold iterators that keep class proportions (stratified) and/or keep every
 * group (capture, device, scenario) on one side only, so rows of one capture never leak between train and
 * test. Index arrays are sorted ascending.
 */
import { MlError } from '../errors.js';
import { Rng } from '../random.js';

export interface Split {
  readonly train: Int32Array;
  readonly test: Int32Array;
}

export type GroupLabels = ArrayLike<string | number>;

function sorted(a: number[]): Int32Array {
  return Int32Array.from(a).sort();
}

function encodeGroups(groups: GroupLabels): { codes: Int32Array; nGroups: number } {
  const index = new Map<string | number, number>();
  const codes = new Int32Array(groups.length);
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i] as string | number;
    let c = index.get(g);
    if (c === undefined) {
      c = index.size;
      index.set(g, c);
    }
    codes[i] = c;
  }
  return { codes, nGroups: index.size };
}

function encodeClasses(y: ArrayLike<number>): { codes: Int32Array; nClasses: number } {
  const labels = Int32Array.from(new Set(Array.from(y))).sort();
  const index = new Map<number, number>();
  labels.forEach((l, i) => index.set(l, i));
  const codes = new Int32Array(y.length);
  for (let i = 0; i < y.length; i++) codes[i] = index.get(y[i] as number) as number;
  return { codes, nClasses: labels.length };
}

function checkFraction(testSize: number): void {
  if (!(testSize > 0 && testSize < 1)) {
    throw new MlError('ML_INVALID_PARAM', `testSize must be in (0, 1), got ${testSize}`);
  }
}

function checkK(k: number, n: number, what: string): void {
  if (!Number.isInteger(k) || k < 2) throw new MlError('ML_INVALID_PARAM', `nSplits must be an integer >= 2`);
  if (k > n) throw new MlError('ML_INVALID_PARAM', `nSplits=${k} is more than the ${n} ${what}`);
}

/**
 * Shuffled split keeping each class's share in both parts (largest-remainder allocation of
 * ceil(testSize·n) test rows). Throws ML_TOO_MANY_CLASSES when either side cannot hold every class.
 */
export function stratifiedSplit(
  y: ArrayLike<number>,
  opts: { testSize?: number; seed?: number } = {},
): Split {
  const testSize = opts.testSize ?? 0.25;
  checkFraction(testSize);
  const n = y.length;
  if (n === 0) throw new MlError('ML_EMPTY_DATA', 'no rows to split');
  const { codes, nClasses } = encodeClasses(y);
  const nTest = Math.ceil(testSize * n);
  const nTrain = n - nTest;
  if (nTest < nClasses || nTrain < nClasses) {
    throw new MlError(
      'ML_TOO_MANY_CLASSES',
      `${nClasses} classes do not fit a split of ${nTrain} train / ${nTest} test rows`,
      { classes: nClasses, train: nTrain, test: nTest },
    );
  }
  const rng = new Rng(opts.seed ?? 0);
  const members: number[][] = Array.from({ length: nClasses }, () => []);
  for (let i = 0; i < n; i++) members[codes[i] as number]!.push(i);
  // Largest remainder: floor shares first, then the biggest fractional parts.
  const alloc = members.map((m) => Math.floor((m.length * nTest) / n));
  let left = nTest - alloc.reduce((a, b) => a + b, 0);
  const order = members
    .map((m, k) => ({ k, frac: (m.length * nTest) / n - (alloc[k] as number) }))
    .sort((a, b) => b.frac - a.frac || a.k - b.k);
  for (const { k } of order) {
    if (left === 0) break;
    if ((alloc[k] as number) < (members[k] as number[]).length - 1) {
      alloc[k] = (alloc[k] as number) + 1;
      left--;
    }
  }
  const train: number[] = [];
  const test: number[] = [];
  members.forEach((m, k) => {
    rng.shuffle(m);
    m.forEach((row, i) => (i < (alloc[k] as number) ? test : train).push(row));
  });
  return { train: sorted(train), test: sorted(test) };
}

/** Shuffled split of whole groups: ceil(testSize · nGroups) groups go to test. */
export function groupShuffleSplit(
  groups: GroupLabels,
  opts: { testSize?: number; seed?: number } = {},
): Split {
  const testSize = opts.testSize ?? 0.25;
  checkFraction(testSize);
  const { codes, nGroups } = encodeGroups(groups);
  if (nGroups < 2) throw new MlError('ML_INVALID_INPUT', 'a group split needs at least two groups');
  const rng = new Rng(opts.seed ?? 0);
  const perm = rng.shuffle(Int32Array.from({ length: nGroups }, (_, i) => i));
  const nTestGroups = Math.min(nGroups - 1, Math.max(1, Math.ceil(testSize * nGroups)));
  const isTest = new Uint8Array(nGroups);
  for (let i = 0; i < nTestGroups; i++) isTest[perm[i] as number] = 1;
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < codes.length; i++) (isTest[codes[i] as number] ? test : train).push(i);
  return { train: sorted(train), test: sorted(test) };
}

function foldsFromAssignment(fold: Int32Array, k: number): Split[] {
  const out: Split[] = [];
  for (let f = 0; f < k; f++) {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < fold.length; i++) (fold[i] === f ? test : train).push(i);
    out.push({ train: sorted(train), test: sorted(test) });
  }
  return out;
}

/** Plain K-fold (contiguous folds, optionally over a shuffled order). */
export function kFold(n: number, nSplits: number, opts: { shuffle?: boolean; seed?: number } = {}): Split[] {
  checkK(nSplits, n, 'rows');
  const order = Int32Array.from({ length: n }, (_, i) => i);
  if (opts.shuffle) new Rng(opts.seed ?? 0).shuffle(order);
  const fold = new Int32Array(n);
  let pos = 0;
  for (let f = 0; f < nSplits; f++) {
    const size = Math.floor(n / nSplits) + (f < n % nSplits ? 1 : 0);
    for (let i = 0; i < size; i++) fold[order[pos++] as number] = f;
  }
  return foldsFromAssignment(fold, nSplits);
}

/** K folds with each class spread as evenly as possible over the folds. */
export function stratifiedKFold(
  y: ArrayLike<number>,
  nSplits: number,
  opts: { shuffle?: boolean; seed?: number } = {},
): Split[] {
  checkK(nSplits, y.length, 'rows');
  const { codes, nClasses } = encodeClasses(y);
  const rng = new Rng(opts.seed ?? 0);
  const members: number[][] = Array.from({ length: nClasses }, () => []);
  for (let i = 0; i < codes.length; i++) members[codes[i] as number]!.push(i);
  const fold = new Int32Array(y.length);
  let offset = 0;
  for (const m of members) {
    if (opts.shuffle) rng.shuffle(m);
    m.forEach((row, i) => (fold[row] = (offset + i) % nSplits));
    offset = (offset + m.length) % nSplits; // the next class starts where this one stopped
  }
  return foldsFromAssignment(fold, nSplits);
}

/**
 * scikit-learn's GroupKFold: groups sorted by size (largest first) each go to the currently smallest fold.
 * No group is ever in two folds.
 */
export function groupKFold(groups: GroupLabels, nSplits: number): Split[] {
  const { codes, nGroups } = encodeGroups(groups);
  checkK(nSplits, nGroups, 'groups');
  const size = new Int32Array(nGroups);
  for (const c of codes) size[c] = (size[c] as number) + 1;
  const order = Array.from({ length: nGroups }, (_, g) => g).sort(
    (a, b) => (size[b] as number) - (size[a] as number) || a - b,
  );
  const foldSize = new Int32Array(nSplits);
  const groupFold = new Int32Array(nGroups);
  for (const g of order) {
    let best = 0;
    for (let f = 1; f < nSplits; f++) if ((foldSize[f] as number) < (foldSize[best] as number)) best = f;
    groupFold[g] = best;
    foldSize[best] = (foldSize[best] as number) + (size[g] as number);
  }
  const fold = new Int32Array(codes.length);
  for (let i = 0; i < codes.length; i++) fold[i] = groupFold[codes[i] as number] as number;
  return foldsFromAssignment(fold, nSplits);
}

/**
 * scikit-learn's StratifiedGroupKFold: groups (optionally shuffled, then ordered by the spread of their
 * class distribution, most uneven first) each go to the fold that keeps per-class fold shares most even;
 * ties go to the fold with fewer rows. No group is ever in two folds.
 */
export function stratifiedGroupKFold(
  y: ArrayLike<number>,
  groups: GroupLabels,
  nSplits: number,
  opts: { shuffle?: boolean; seed?: number } = {},
): Split[] {
  if (y.length !== groups.length) {
    throw new MlError('ML_LENGTH_MISMATCH', `y has ${y.length} entries, groups ${groups.length}`);
  }
  const { codes: yc, nClasses: K } = encodeClasses(y);
  const { codes: gc, nGroups } = encodeGroups(groups);
  checkK(nSplits, nGroups, 'groups');
  const groupCounts = new Float64Array(nGroups * K);
  const yCnt = new Float64Array(K);
  for (let i = 0; i < yc.length; i++) {
    const g = gc[i] as number;
    const k = yc[i] as number;
    groupCounts[g * K + k] = (groupCounts[g * K + k] as number) + 1;
    yCnt[k] = (yCnt[k] as number) + 1;
  }
  let order = Array.from({ length: nGroups }, (_, g) => g);
  if (opts.shuffle) order = Array.from(new Rng(opts.seed ?? 0).shuffle(Int32Array.from(order)));
  const spread = (g: number): number => std(groupCounts.subarray(g * K, g * K + K));
  // Stable sort by descending spread.
  order = order
    .map((g, pos) => ({ g, pos, s: spread(g) }))
    .sort((a, b) => b.s - a.s || a.pos - b.pos)
    .map((e) => e.g);

  const foldCounts = new Float64Array(nSplits * K);
  const groupFold = new Int32Array(nGroups);
  const share = new Float64Array(nSplits);
  for (const g of order) {
    let bestFold = -1;
    let minEval = Infinity;
    let minSamples = Infinity;
    for (let f = 0; f < nSplits; f++) {
      for (let k = 0; k < K; k++)
        foldCounts[f * K + k] = (foldCounts[f * K + k] as number) + (groupCounts[g * K + k] as number);
      let evalSum = 0;
      for (let k = 0; k < K; k++) {
        for (let f2 = 0; f2 < nSplits; f2++)
          share[f2] = (foldCounts[f2 * K + k] as number) / (yCnt[k] as number);
        evalSum += std(share);
      }
      const fEval = evalSum / K;
      let samples = 0;
      for (let k = 0; k < K; k++) {
        foldCounts[f * K + k] = (foldCounts[f * K + k] as number) - (groupCounts[g * K + k] as number);
        samples += foldCounts[f * K + k] as number;
      }
      const close = Number.isFinite(minEval) && Math.abs(fEval - minEval) <= 1e-8 + 1e-5 * Math.abs(minEval);
      if (fEval < minEval || (close && samples < minSamples)) {
        minEval = fEval;
        minSamples = samples;
        bestFold = f;
      }
    }
    groupFold[g] = bestFold;
    for (let k = 0; k < K; k++) {
      foldCounts[bestFold * K + k] =
        (foldCounts[bestFold * K + k] as number) + (groupCounts[g * K + k] as number);
    }
  }
  const fold = new Int32Array(yc.length);
  for (let i = 0; i < yc.length; i++) fold[i] = groupFold[gc[i] as number] as number;
  return foldsFromAssignment(fold, nSplits);
}

function std(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m += a[i] as number;
  m /= a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += ((a[i] as number) - m) ** 2;
  return Math.sqrt(v / a.length);
}
