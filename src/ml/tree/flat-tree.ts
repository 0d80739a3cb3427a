/**
 * A fitted decision tree as parallel typed arrays. Node 0 is the root; an internal node sends a row left
 * when `x[feature] <= threshold`; a leaf has feature -1 (left/right -1). `value` holds `width` numbers per
 * node (a class distribution for classification trees, one leaf score for regression trees).
 */
import { MlError } from '../errors.js';
import type { Matrix } from '../matrix.js';
import { decodeF32, decodeF64, decodeI32, encodeTyped, isRecord, numField } from '../serialize.js';

export interface FlatTree {
  readonly nNodes: number;
  readonly width: number;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly value: Float32Array;
}

/** Index of the leaf that row `r` of X lands in. */
export function leafOf(t: FlatTree, X: Matrix, r: number): number {
  const { feature, threshold, left, right } = t;
  const data = X.data;
  const base = r * X.nCols;
  let node = 0;
  let f = feature[0] as number;
  while (f >= 0) {
    node =
      (data[base + f] as number) <= (threshold[node] as number)
        ? (left[node] as number)
        : (right[node] as number);
    f = feature[node] as number;
  }
  return node;
}

/** Adds `scale * value[leaf]` of every row to `out` (nRows × width, row-major). */
export function accumulateTree(t: FlatTree, X: Matrix, out: Float32Array | Float64Array, scale = 1): void {
  const { feature, threshold, left, right, value, width } = t;
  const { data, nRows, nCols } = X;
  const f0 = feature[0] as number;
  for (let r = 0; r < nRows; r++) {
    const base = r * nCols;
    let node = 0;
    let f = f0;
    while (f >= 0) {
      node =
        (data[base + f] as number) <= (threshold[node] as number)
          ? (left[node] as number)
          : (right[node] as number);
      f = feature[node] as number;
    }
    const o = r * width;
    const v = node * width;
    for (let k = 0; k < width; k++) out[o + k] = (out[o + k] as number) + scale * (value[v + k] as number);
  }
}

/** Maximum depth (root = 0). */
export function treeDepth(t: FlatTree): number {
  const depth = new Int32Array(t.nNodes);
  let max = 0;
  for (let i = 0; i < t.nNodes; i++) {
    const d = depth[i] as number;
    if (d > max) max = d;
    if ((t.feature[i] as number) >= 0) {
      depth[t.left[i] as number] = d + 1;
      depth[t.right[i] as number] = d + 1;
    }
  }
  return max;
}

export interface FlatTreeJson {
  nNodes: number;
  width: number;
  feature: string;
  threshold: string;
  left: string;
  right: string;
  value: string;
}

export function treeToJson(t: FlatTree): FlatTreeJson {
  return {
    nNodes: t.nNodes,
    width: t.width,
    feature: encodeTyped(t.feature),
    threshold: encodeTyped(t.threshold),
    left: encodeTyped(t.left),
    right: encodeTyped(t.right),
    value: encodeTyped(t.value),
  };
}

/** Parses and checks a serialised tree: array lengths, child indices in range and pointing forward. */
export function treeFromJson(j: unknown, nFeatures: number): FlatTree {
  if (!isRecord(j)) throw new MlError('ML_BAD_MODEL', 'tree must be an object');
  const nNodes = numField(j, 'nNodes');
  const width = numField(j, 'width');
  const t: FlatTree = {
    nNodes,
    width,
    feature: decodeI32(j['feature'], 'tree.feature'),
    threshold: decodeF64(j['threshold'], 'tree.threshold'),
    left: decodeI32(j['left'], 'tree.left'),
    right: decodeI32(j['right'], 'tree.right'),
    value: decodeF32(j['value'], 'tree.value'),
  };
  if (
    t.feature.length !== nNodes ||
    t.threshold.length !== nNodes ||
    t.left.length !== nNodes ||
    t.right.length !== nNodes ||
    t.value.length !== nNodes * width ||
    nNodes < 1
  ) {
    throw new MlError('ML_BAD_MODEL', 'tree arrays have inconsistent lengths');
  }
  for (let i = 0; i < nNodes; i++) {
    const f = t.feature[i] as number;
    if (f < 0) continue;
    const l = t.left[i] as number;
    const r = t.right[i] as number;
    // Children come after their parent, so inference always terminates.
    if (f >= nFeatures || l <= i || r <= i || l >= nNodes || r >= nNodes) {
      throw new MlError('ML_BAD_MODEL', `tree node ${i} has an invalid feature or child index`);
    }
  }
  return t;
}

/** Growable node storage used while building. */
export class TreeBuffer {
  nNodes = 0;
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  value: Float32Array;

  constructor(
    readonly width: number,
    private capacity = 256,
  ) {
    this.feature = new Int32Array(capacity);
    this.threshold = new Float64Array(capacity);
    this.left = new Int32Array(capacity);
    this.right = new Int32Array(capacity);
    this.value = new Float32Array(capacity * width);
  }

  /** Appends a leaf and returns its index; `split` turns it into an internal node later. */
  add(): number {
    if (this.nNodes === this.capacity) this.grow();
    const id = this.nNodes++;
    this.feature[id] = -1;
    this.left[id] = -1;
    this.right[id] = -1;
    return id;
  }

  private grow(): void {
    const cap = this.capacity * 2;
    const f = new Int32Array(cap);
    f.set(this.feature);
    this.feature = f;
    const th = new Float64Array(cap);
    th.set(this.threshold);
    this.threshold = th;
    const l = new Int32Array(cap);
    l.set(this.left);
    this.left = l;
    const r = new Int32Array(cap);
    r.set(this.right);
    this.right = r;
    const v = new Float32Array(cap * this.width);
    v.set(this.value);
    this.value = v;
    this.capacity = cap;
  }

  finish(): FlatTree {
    const n = this.nNodes;
    return {
      nNodes: n,
      width: this.width,
      feature: this.feature.slice(0, n),
      threshold: this.threshold.slice(0, n),
      left: this.left.slice(0, n),
      right: this.right.slice(0, n),
      value: this.value.slice(0, n * this.width),
    };
  }
}
