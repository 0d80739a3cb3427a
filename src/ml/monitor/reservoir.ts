/**
 * Bounded samples for serving statistics: a uniform reservoir (Vitter's algorithm R) for latency quantiles,
 * and a ring of the most recent feature rows for drift. Both use fixed memory whatever the traffic.
 */
import { quantileSorted } from '../eval/metrics.js';
import type { Matrix } from '../matrix.js';
import { Rng } from '../random.js';

/** A uniform sample of at most `capacity` values out of all values offered since the last reset. */
export class Reservoir {
  private readonly values: Float64Array;
  private size = 0;
  private seen = 0;
  private readonly rng: Rng;

  constructor(
    readonly capacity = 1024,
    seed = 1,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be >= 1');
    this.values = new Float64Array(capacity);
    this.rng = new Rng(seed);
  }

  get count(): number {
    return this.seen;
  }

  add(v: number): void {
    this.seen++;
    if (this.size < this.capacity) {
      this.values[this.size++] = v;
      return;
    }
    const j = Math.floor(this.rng.float() * this.seen);
    if (j < this.capacity) this.values[j] = v;
  }

  /** Linear-interpolation quantile of the sample; null when empty. */
  quantile(q: number): number | null {
    if (this.size === 0) return null;
    return quantileSorted(this.values.slice(0, this.size).sort(), q);
  }

  reset(): void {
    this.size = 0;
    this.seen = 0;
  }
}

/** The most recent `capacity` rows of `nCols` features (older rows are overwritten). */
export class RecentRows {
  private readonly data: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(
    readonly nCols: number,
    readonly capacity = 2000,
  ) {
    if (!Number.isInteger(nCols) || nCols < 1) throw new RangeError('nCols must be >= 1');
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be >= 1');
    this.data = new Float64Array(nCols * capacity);
  }

  get size(): number {
    return this.filled;
  }

  /** Adds every row of X (X.nCols must equal nCols; a mismatch is ignored rather than thrown). */
  addMatrix(X: Matrix): void {
    if (X.nCols !== this.nCols) return;
    for (let r = 0; r < X.nRows; r++) {
      this.data.set(X.data.subarray(r * X.nCols, (r + 1) * X.nCols), this.next * this.nCols);
      this.next = (this.next + 1) % this.capacity;
      if (this.filled < this.capacity) this.filled++;
    }
  }

  /** Column `c` of the rows held (order not meaningful). */
  column(c: number): Float64Array {
    const out = new Float64Array(this.filled);
    for (let r = 0; r < this.filled; r++) out[r] = this.data[r * this.nCols + c] as number;
    return out;
  }

  clear(): void {
    this.next = 0;
    this.filled = 0;
  }
}
