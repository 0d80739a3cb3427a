/**
 * CART classification tree on binned features (Gini impurity), the building block of the random forest.
 *
 * Per node, candidate features are drawn without replacement until `maxFeatures` non-constant ones have
 * been evaluated (like scikit-learn, constant features do not count and more are drawn). A feature is
 * evaluated by a class-weight histogram over its bins (large nodes) or an insertion sort of the node's bin
 * codes (small nodes), then a left-to-right scan for the split that minimises the weighted child Gini.
 * Nodes are grown depth-first; rows are partitioned in place together with their label and weight.
 */
import { MAX_BINS, type BinEdges } from '../binning.js';
import type { Rng } from '../random.js';
import { TreeBuffer, type FlatTree } from './flat-tree.js';

export interface CartParams {
  /** Features evaluated per node (already resolved to an integer in [1, nCols]). */
  readonly maxFeatures: number;
  readonly maxDepth: number;
  readonly minSamplesSplit: number;
  readonly minSamplesLeaf: number;
  /** A node is split only if its weighted impurity decrease (scikit-learn's formula) reaches this. */
  readonly minImpurityDecrease: number;
}

export interface CartInput {
  /** Column-major bin codes: (r, c) at c * nRows + r. */
  readonly binned: Uint8Array;
  readonly nRows: number;
  readonly nCols: number;
  readonly edges: BinEdges;
  /** Class index per row, 0..nClasses-1. */
  readonly y: Int32Array;
  readonly nClasses: number;
  /** Rows that take part (e.g. the distinct rows of a bootstrap sample). */
  readonly rows: Int32Array;
  /** Weight per row of X (bootstrap count × class weight × sample weight); only `rows` are read. */
  readonly weight: Float64Array;
}

export interface CartResult {
  readonly tree: FlatTree;
  /** Unnormalised weighted impurity decrease per feature. */
  readonly importances: Float64Array;
}

const SMALL_NODE = 40;
const PURE = 1e-12;

export function buildCart(input: CartInput, params: CartParams, rng: Rng): CartResult {
  const { binned, nRows, nCols, edges, nClasses: K } = input;
  const n0 = input.rows.length;
  // Node rows with their label and weight, permuted together on every partition.
  const idx = Int32Array.from(input.rows);
  const yy = new Int32Array(n0);
  const ww = new Float64Array(n0);
  for (let i = 0; i < n0; i++) {
    const r = idx[i] as number;
    yy[i] = input.y[r] as number;
    ww[i] = input.weight[r] as number;
  }

  const buf = new TreeBuffer(K, Math.max(16, Math.min(2 * n0 + 1, 1 << 16)));
  const importances = new Float64Array(nCols);
  const feats = new Int32Array(nCols);
  for (let c = 0; c < nCols; c++) feats[c] = c;

  // Scratch.
  const hist = new Float64Array(MAX_BINS * K);
  const cnt = new Int32Array(MAX_BINS);
  const tot = new Float64Array(K);
  const accL = new Float64Array(K);
  const sb = new Int32Array(SMALL_NODE); // small-node bins
  const sy = new Int32Array(SMALL_NODE);
  const sw = new Float64Array(SMALL_NODE);

  // Stack of pending nodes: start, end, depth, parent, side (0 left / 1 right).
  let stack = new Int32Array(5 * 64);
  let sp = 0;
  const push = (s: number, e: number, d: number, parent: number, side: number): void => {
    if (sp + 5 > stack.length) {
      const bigger = new Int32Array(stack.length * 2);
      bigger.set(stack);
      stack = bigger;
    }
    stack[sp++] = s;
    stack[sp++] = e;
    stack[sp++] = d;
    stack[sp++] = parent;
    stack[sp++] = side;
  };
  push(0, n0, 0, -1, 0);

  let rootWeight = 0;
  while (sp > 0) {
    const side = stack[--sp] as number;
    const parent = stack[--sp] as number;
    const depth = stack[--sp] as number;
    const end = stack[--sp] as number;
    const start = stack[--sp] as number;
    const n = end - start;

    const node = buf.add();
    if (parent >= 0) {
      if (side === 0) buf.left[parent] = node;
      else buf.right[parent] = node;
    }

    tot.fill(0);
    let W = 0;
    for (let i = start; i < end; i++) {
      const k = yy[i] as number;
      tot[k] = (tot[k] as number) + (ww[i] as number);
    }
    let sumSq = 0;
    for (let k = 0; k < K; k++) {
      const t = tot[k] as number;
      W += t;
      sumSq += t * t;
    }
    if (node === 0) rootWeight = W;
    const vbase = node * K;
    for (let k = 0; k < K; k++) buf.value[vbase + k] = W > 0 ? (tot[k] as number) / W : 1 / K;
    const impurity = W > 0 ? 1 - sumSq / (W * W) : 0;

    if (
      depth >= params.maxDepth ||
      n < params.minSamplesSplit ||
      n < 2 * params.minSamplesLeaf ||
      impurity <= PURE ||
      W <= 0
    ) {
      continue;
    }

    // ---- best split over sampled features ----
    let bestScore = -Infinity; // Σ wL_k²/WL + Σ wR_k²/WR, to maximise
    let bestFeature = -1;
    let bestBin = -1; // left iff bin <= bestBin
    let bestEdge = 0; // edge index used as the threshold
    let visitedNonConstant = 0;
    const minLeaf = params.minSamplesLeaf;

    for (let fi = 0; fi < nCols && visitedNonConstant < params.maxFeatures; fi++) {
      const j = fi + rng.int(nCols - fi);
      const f = feats[j] as number;
      feats[j] = feats[fi] as number;
      feats[fi] = f;
      const off = f * nRows;

      if (n <= SMALL_NODE) {
        // Insertion sort of (bin, y, w) by bin.
        for (let i = 0; i < n; i++) {
          const b = binned[off + (idx[start + i] as number)] as number;
          const yv = yy[start + i] as number;
          const wv = ww[start + i] as number;
          let p = i - 1;
          while (p >= 0 && (sb[p] as number) > b) {
            sb[p + 1] = sb[p] as number;
            sy[p + 1] = sy[p] as number;
            sw[p + 1] = sw[p] as number;
            p--;
          }
          sb[p + 1] = b;
          sy[p + 1] = yv;
          sw[p + 1] = wv;
        }
        if (sb[0] === sb[n - 1]) continue; // constant in this node
        visitedNonConstant++;
        accL.fill(0);
        let WL = 0;
        let sqL = 0;
        let sqR = sumSq;
        for (let i = 0; i < n - 1; i++) {
          const k = sy[i] as number;
          const wv = sw[i] as number;
          const a = accL[k] as number;
          const rr = (tot[k] as number) - a;
          sqL += wv * (2 * a + wv);
          sqR += wv * (wv - 2 * rr);
          accL[k] = a + wv;
          WL += wv;
          const b = sb[i] as number;
          const bNext = sb[i + 1] as number;
          if (b === bNext) continue;
          const nL = i + 1;
          if (nL < minLeaf || n - nL < minLeaf) continue;
          const WR = W - WL;
          if (WL <= 0 || WR <= 0) continue;
          const score = sqL / WL + sqR / WR;
          if (score > bestScore) {
            bestScore = score;
            bestFeature = f;
            bestBin = b;
            bestEdge = (b + bNext - 1) >> 1;
          }
        }
        continue;
      }

      // Histogram path.
      let minB = MAX_BINS;
      let maxB = -1;
      for (let i = start; i < end; i++) {
        const b = binned[off + (idx[i] as number)] as number;
        if (b < minB) minB = b;
        if (b > maxB) maxB = b;
        cnt[b] = (cnt[b] as number) + 1;
        const h = b * K + (yy[i] as number);
        hist[h] = (hist[h] as number) + (ww[i] as number);
      }
      if (minB === maxB) {
        cnt[minB] = 0;
        for (let k = 0; k < K; k++) hist[minB * K + k] = 0;
        continue;
      }
      visitedNonConstant++;
      accL.fill(0);
      let WL = 0;
      let nL = 0;
      let sqL = 0;
      let sqR = sumSq;
      let prev = -1;
      for (let b = minB; b <= maxB; b++) {
        const c = cnt[b] as number;
        if (c === 0) continue;
        if (prev >= 0) {
          // Candidate split between bin prev (last non-empty) and b.
          if (nL >= minLeaf && n - nL >= minLeaf) {
            const WR = W - WL;
            if (WL > 0 && WR > 0) {
              const score = sqL / WL + sqR / WR;
              if (score > bestScore) {
                bestScore = score;
                bestFeature = f;
                bestBin = prev;
                bestEdge = (prev + b - 1) >> 1;
              }
            }
          }
        }
        const hb = b * K;
        for (let k = 0; k < K; k++) {
          const wv = hist[hb + k] as number;
          if (wv === 0) continue;
          const a = accL[k] as number;
          const rr = (tot[k] as number) - a;
          sqL += wv * (2 * a + wv);
          sqR += wv * (wv - 2 * rr);
          accL[k] = a + wv;
          WL += wv;
          hist[hb + k] = 0;
        }
        nL += c;
        cnt[b] = 0;
        prev = b;
      }
    }

    if (bestFeature < 0) continue;

    // Partition [start, end) so rows with bin <= bestBin come first.
    const off = bestFeature * nRows;
    let i = start;
    let j = end - 1;
    while (i <= j) {
      if ((binned[off + (idx[i] as number)] as number) <= bestBin) i++;
      else {
        const ti = idx[i] as number;
        idx[i] = idx[j] as number;
        idx[j] = ti;
        const ty = yy[i] as number;
        yy[i] = yy[j] as number;
        yy[j] = ty;
        const tw = ww[i] as number;
        ww[i] = ww[j] as number;
        ww[j] = tw;
        j--;
      }
    }
    const mid = i;

    // Weighted impurity decrease: W·gini - WL·giniL - WR·giniR = (Σ wL²/WL + Σ wR²/WR) - Σ w²/W.
    const decrease = bestScore - sumSq / W;
    if (params.minImpurityDecrease > 0 && decrease / rootWeight < params.minImpurityDecrease) continue;
    importances[bestFeature] = (importances[bestFeature] as number) + decrease;
    buf.feature[node] = bestFeature;
    buf.threshold[node] = (edges[bestFeature] as Float64Array)[bestEdge] as number;
    // Right pushed first so the left subtree is built (and numbered) first.
    push(mid, end, depth + 1, node, 1);
    push(start, mid, depth + 1, node, 0);
  }
  return { tree: buf.finish(), importances };
}
