/**
 * Sequences for the per-device-type LSTM autoencoder (pure). Each device's windows are laid on a dense grid
 * of consecutive slots (an idle slot is a zero window) and seen in the same excess view as the isolation
 * forest, relative to the device's own median: max(0, log1p(x) - median). Devices of one type differ in
 * scale (one camera streams more than another), and the excess view makes their sequences comparable: the
 * model learns the type's rhythm of rises above normal, not each device's volume.
 */
import { ROLLUP_WINDOW_FEATURES, type RollupWindow } from '../../ml/features/rollup-window.js';
import type { SequenceSet } from '../../ml/lstm/autoencoder.js';

const NF = ROLLUP_WINDOW_FEATURES.features.length;

/** A device's excess rows on the slot grid [fromMs, toMs) of `windowMinutes`. */
export interface SlotGrid {
  deviceId: number;
  fromMs: number;
  windowMs: number;
  nSlots: number;
  /** nSlots × features, row-major. */
  rows: Float32Array;
}

export function slotGrid(
  deviceId: number,
  windows: readonly RollupWindow[],
  median: readonly number[],
  fromMs: number,
  toMs: number,
  windowMinutes: number,
): SlotGrid {
  const windowMs = windowMinutes * 60_000;
  const nSlots = Math.max(0, Math.floor((toMs - fromMs) / windowMs));
  const rows = new Float32Array(nSlots * NF);
  for (const w of windows) {
    const slot = Math.floor((w.windowStart.getTime() - fromMs) / windowMs);
    if (slot < 0 || slot >= nSlots) continue;
    const x = ROLLUP_WINDOW_FEATURES.extract(w);
    for (let c = 0; c < NF; c++) rows[slot * NF + c] = Math.max(0, (x[c] as number) - (median[c] ?? 0));
  }
  return { deviceId, fromMs, windowMs, nSlots, rows };
}

/** The sequence of `steps` slots ending with slot `last` (inclusive) as a flat copy. */
export function sequenceEndingAt(g: SlotGrid, last: number, steps: number): Float32Array | null {
  const first = last - steps + 1;
  if (first < 0 || last >= g.nSlots) return null;
  return g.rows.slice(first * NF, (last + 1) * NF);
}

/**
 * Every run of `steps` consecutive slots of every grid (stride 1), evenly thinned to at most `max`
 * sequences (deterministic).
 */
export function trainingSequences(grids: readonly SlotGrid[], steps: number, max: number): SequenceSet {
  const refs: [SlotGrid, number][] = [];
  for (const g of grids) for (let last = steps - 1; last < g.nSlots; last++) refs.push([g, last]);
  const keep = refs.length <= max ? refs : thin(refs, max);
  const data = new Float32Array(keep.length * steps * NF);
  keep.forEach(([g, last], i) => {
    const s = sequenceEndingAt(g, last, steps);
    if (s) data.set(s, i * steps * NF);
  });
  return { data, nSeq: keep.length, steps, features: NF };
}

function thin<T>(xs: readonly T[], max: number): T[] {
  const out: T[] = [];
  const step = xs.length / max;
  for (let i = 0; i < max; i++) out.push(xs[Math.floor(i * step)] as T);
  return out;
}

/** The threshold of a type's model: its training-error quantile times (1 + margin). */
export function lstmThreshold(trainQuantile: number, margin: number): number {
  return trainQuantile * (1 + margin);
}
