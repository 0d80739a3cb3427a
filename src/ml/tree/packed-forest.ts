/**
 * A forest of FlatTrees compiled for batch inference (random forest predictProba). Same answers as
 * walking each FlatTree with accumulateTree, bit for bit: every real split is the same `x[f] <= threshold`
 * test and every row receives its trees' leaf values in tree order into a Float64Array.
 *
 * Why not just walk the FlatTrees: a fully grown forest tree has thousands of nodes and ~17 levels per
 * path, and a walk is a chain of dependent loads and hard-to-predict branches, one level at a time. Here
 *
 * - two levels form one 64-byte "super-node" (a node, its two children, four grandchild links): the three
 *   comparisons load in parallel and the next link is picked with integer arithmetic, no branch; a child
 *   that is a leaf becomes a pass-through (feature 0, threshold +∞, both links to that leaf), so the
 *   result is unchanged;
 * - rows go through a tree two at a time, interleaved, and a row that reaches its leaf is replaced by the
 *   next row at once, so the two independent chains keep the CPU busy;
 * - trees are visited one after the other over a block of rows (the tree stays in cache), and only leaf
 *   values are kept (width numbers per leaf).
 *
 * Layout of super-node s: f64[8s + j] threshold j (j = 0 the node, 1 its left child, 2 its right child),
 * i32[16s + 6 + j] feature j, i32[16s + 9 + q] link q for the outcomes left-left, left-right, right-left,
 * right-right. A link >= 0 is a super-node; a link < 0 is ~offset of a leaf's values in `leafValues`.
 */
import type { Matrix } from '../matrix.js';
import type { FlatTree } from './flat-tree.js';

const F64_PER_NODE = 8;
const I32_PER_NODE = 16;
const FEAT = 6;
const LINK = 9;
/** Rows per call of the traversal kernel (a tree's pass over them stays in cache). */
const BLOCK = 4096;

export class PackedForest {
  private constructor(
    readonly nTrees: number,
    /** Values per leaf (class count for a classification forest). */
    readonly width: number,
    private readonly f64: Float64Array,
    private readonly i32: Int32Array,
    private readonly leafValues: Float32Array,
    /** Root link per tree (a leaf link when the tree is a single leaf). */
    private readonly roots: Int32Array,
  ) {}

  static fromTrees(trees: readonly FlatTree[]): PackedForest {
    const width = trees[0]?.width ?? 1;
    let internal = 0;
    let leaves = 0;
    for (const t of trees) {
      for (let i = 0; i < t.nNodes; i++) {
        if ((t.feature[i] as number) >= 0) internal++;
        else leaves++;
      }
    }
    // Each super-node covers at least one internal node.
    const buf = new ArrayBuffer(Math.max(1, internal) * I32_PER_NODE * 4);
    const f64 = new Float64Array(buf);
    const i32 = new Int32Array(buf);
    const leafValues = new Float32Array(leaves * width);
    const roots = new Int32Array(trees.length);
    let nSuper = 0;
    let nLeafValues = 0;
    const stack: number[] = [];

    trees.forEach((t, ti) => {
      const { feature, threshold, left, right, value } = t;
      const leafLink = new Int32Array(t.nNodes).fill(1);
      /** Link to leaf node m of this tree (its values copied on first use). */
      const leaf = (m: number): number => {
        if ((leafLink[m] as number) > 0) {
          for (let k = 0; k < width; k++) leafValues[nLeafValues + k] = value[m * width + k] as number;
          leafLink[m] = ~nLeafValues;
          nLeafValues += width;
        }
        return leafLink[m] as number;
      };
      if ((feature[0] as number) < 0) {
        roots[ti] = leaf(0);
        return;
      }
      // Depth first, so a super-node's first subtree follows it in memory. Entries: tree node, the
      // super-node whose link q points here (parent -1 for the root).
      stack.push(0, -1, 0);
      while (stack.length > 0) {
        const q = stack.pop() as number;
        const parent = stack.pop() as number;
        const n = stack.pop() as number;
        const s = nSuper++;
        if (parent < 0) roots[ti] = s;
        else i32[parent * I32_PER_NODE + LINK + q] = s;
        const fb = s * F64_PER_NODE;
        const ib = s * I32_PER_NODE;
        f64[fb] = threshold[n] as number;
        i32[ib + FEAT] = feature[n] as number;
        for (let j = 0; j < 2; j++) {
          const m = (j === 0 ? left[n] : right[n]) as number;
          if ((feature[m] as number) < 0) {
            // Pass-through: both outcomes lead to the leaf m.
            const l = leaf(m);
            f64[fb + 1 + j] = Infinity;
            i32[ib + FEAT + 1 + j] = 0;
            i32[ib + LINK + 2 * j] = l;
            i32[ib + LINK + 2 * j + 1] = l;
          } else {
            f64[fb + 1 + j] = threshold[m] as number;
            i32[ib + FEAT + 1 + j] = feature[m] as number;
          }
        }
        // Grandchildren, last link first so that the left-most subtree is popped (and laid out) next.
        for (let q = 3; q >= 0; q--) {
          const m = ((q & 2) === 0 ? left[n] : right[n]) as number;
          if ((feature[m] as number) < 0) continue;
          const g = ((q & 1) === 0 ? left[m] : right[m]) as number;
          if ((feature[g] as number) < 0) i32[ib + LINK + q] = leaf(g);
          else stack.push(g, s, q);
        }
      }
    });
    return new PackedForest(
      trees.length,
      width,
      f64.slice(0, nSuper * F64_PER_NODE),
      i32.slice(0, nSuper * I32_PER_NODE),
      leafValues,
      roots,
    );
  }

  /** Adds each tree's leaf values, tree by tree, to out[r * width + k] (nRows × width, row-major). */
  accumulate(X: Matrix, out: Float64Array): void {
    const { nRows, nCols } = X;
    const data = X.data;
    const { f64, i32, leafValues, roots, width } = this;
    for (let t = 0; t < roots.length; t++) {
      const root = roots[t] as number;
      if (root < 0) {
        addLeafToAll(leafValues, ~root, width, nRows, out);
        continue;
      }
      for (let start = 0; start < nRows; start += BLOCK) {
        const end = Math.min(nRows, start + BLOCK);
        if (data instanceof Float64Array)
          traverse(f64, i32, leafValues, width, root, data, nCols, start, end, out);
        else traverse32(f64, i32, leafValues, width, root, data, nCols, start, end, out);
      }
    }
  }
}

function addLeafToAll(
  values: Float32Array,
  v: number,
  width: number,
  nRows: number,
  out: Float64Array,
): void {
  for (let r = 0; r < nRows; r++) {
    const o = r * width;
    for (let k = 0; k < width; k++) out[o + k] = (out[o + k] as number) + (values[v + k] as number);
  }
}

function addLeaf(values: Float32Array, link: number, width: number, r: number, out: Float64Array): void {
  const v = ~link;
  const o = r * width;
  for (let k = 0; k < width; k++) out[o + k] = (out[o + k] as number) + (values[v + k] as number);
}

/**
 * One super-node step for the row at data[b…]: the link picked by the node's and its children's tests.
 * c0 = went left at the node; sub = went left at the child taken (c0 ? c1 : c2, without a branch); link
 * index 12 − 2·c0 − sub is 9 (left-left) … 12 (right-right).
 */
function step(f64: Float64Array, i32: Int32Array, data: Float64Array, b: number, s: number): number {
  const i = s << 4;
  const d = s << 3;
  const c0 = Number((data[b + (i32[i + FEAT] as number)] as number) <= (f64[d] as number));
  const c1 = Number((data[b + (i32[i + FEAT + 1] as number)] as number) <= (f64[d + 1] as number));
  const c2 = Number((data[b + (i32[i + FEAT + 2] as number)] as number) <= (f64[d + 2] as number));
  const sub = c2 ^ ((c1 ^ c2) & -c0);
  return i32[i + LINK + 3 - (c0 << 1) - sub] as number;
}

/**
 * Rows [start, end) through the tree at `root`, two interleaved at a time (a finished row's slot takes the
 * next row at once), adding each row's leaf values to out.
 */
function traverse(
  f64: Float64Array,
  i32: Int32Array,
  values: Float32Array,
  width: number,
  root: number,
  data: Float64Array,
  nCols: number,
  start: number,
  end: number,
  out: Float64Array,
): void {
  if (end - start < 2) {
    for (let r = start; r < end; r++) {
      let s = root;
      while (s >= 0) s = step(f64, i32, data, r * nCols, s);
      addLeaf(values, s, width, r, out);
    }
    return;
  }
  let r0 = start;
  let r1 = start + 1;
  let next = start + 2;
  let b0 = r0 * nCols;
  let b1 = r1 * nCols;
  let s0 = root;
  let s1 = root;
  for (;;) {
    s0 = step(f64, i32, data, b0, s0);
    s1 = step(f64, i32, data, b1, s1);
    if (s0 < 0) {
      addLeaf(values, s0, width, r0, out);
      if (next >= end) {
        while (s1 >= 0) s1 = step(f64, i32, data, b1, s1);
        addLeaf(values, s1, width, r1, out);
        return;
      }
      r0 = next++;
      b0 = r0 * nCols;
      s0 = root;
    }
    if (s1 < 0) {
      addLeaf(values, s1, width, r1, out);
      if (next >= end) {
        while (s0 >= 0) s0 = step(f64, i32, data, b0, s0);
        addLeaf(values, s0, width, r0, out);
        return;
      }
      r1 = next++;
      b1 = r1 * nCols;
      s1 = root;
    }
  }
}

/** traverse for a Float32Array matrix (kept separate so each stays monomorphic). */
function traverse32(
  f64: Float64Array,
  i32: Int32Array,
  values: Float32Array,
  width: number,
  root: number,
  data: Float32Array,
  nCols: number,
  start: number,
  end: number,
  out: Float64Array,
): void {
  for (let r = start; r < end; r++) {
    const b = r * nCols;
    let s = root;
    while (s >= 0) {
      const i = s << 4;
      const d = s << 3;
      const c0 = Number((data[b + (i32[i + FEAT] as number)] as number) <= (f64[d] as number));
      const c1 = Number((data[b + (i32[i + FEAT + 1] as number)] as number) <= (f64[d + 1] as number));
      const c2 = Number((data[b + (i32[i + FEAT + 2] as number)] as number) <= (f64[d + 2] as number));
      s = i32[i + LINK + 3 - (c0 << 1) - (c2 ^ ((c1 ^ c2) & -c0))] as number;
    }
    addLeaf(values, s, width, r, out);
  }
}
