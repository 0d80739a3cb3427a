import type { IngestFlow } from '../sources/types.js';

/**
 * The flows in flow-time order (by tsStart; flows that start together keep their order), as a new array:
 * what the detectors and the destination profiles expect of a batch. It equals the stable
 * `[...flows].sort((a, b) => a.tsStart - b.tsStart)`, which is how it is tested, but a comparator that
 * reads two flow objects per comparison cost a NetFlow batch more than the detectors' own work on it.
 * Here the start times are read once: a batch already in order is copied as it is; otherwise, when every
 * start is a whole number and the batch's time span times its size stays below 2^53, each flow becomes
 * one number (offset from the earliest start, times the batch size, plus its position), sorted
 * numerically without a comparator; only other batches fall back to a comparator over the times.
 */
export function inFlowTimeOrder(flows: readonly IngestFlow[]): IngestFlow[] {
  const n = flows.length;
  const ts = new Float64Array(n);
  let ordered = true;
  let whole = true;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const t = (flows[i] as IngestFlow).tsStart;
    ts[i] = t;
    if (i > 0 && t < (ts[i - 1] as number)) ordered = false;
    if (!Number.isInteger(t)) whole = false;
    if (t < min) min = t;
    if (t > max) max = t;
  }
  if (ordered) return flows.slice();
  const out = new Array<IngestFlow>(n);
  if (whole && (max - min + 1) * n <= Number.MAX_SAFE_INTEGER) {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = ((ts[i] as number) - min) * n + i;
    keys.sort();
    for (let k = 0; k < n; k++) out[k] = flows[(keys[k] as number) % n] as IngestFlow;
    return out;
  }
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => (ts[a] as number) - (ts[b] as number) || a - b);
  for (let k = 0; k < n; k++) out[k] = flows[idx[k] as number] as IngestFlow;
  return out;
}
