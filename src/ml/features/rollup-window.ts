/**
 * The `rollup-window` feature set: one row per device per time window, aggregated from the per-minute
 * `traffic_rollups` rows. Training (the anomaly trainer) and inference (detection) both build windows with
 * `aggregateRollupWindows` and extract rows with `ROLLUP_WINDOW_FEATURES`, so the two can never disagree.
 * Counts are summed over the window's minutes; distinct peers/ports (not additive) take the busiest minute.
 * Every feature is log1p-scaled: traffic volumes are heavy-tailed, and the isolation forest's uniform split
 * thresholds work far better on a log scale.
 */
import type { FeatureSet, FeatureSpec } from './feature-set.js';

/** One minute of one device, as `traffic_rollups` stores it. */
export interface RollupMinute {
  readonly deviceId: number;
  readonly minute: Date;
  readonly bytesOut: number;
  readonly bytesIn: number;
  readonly packetsOut: number;
  readonly packetsIn: number;
  readonly flows: number;
  readonly distinctPeers: number;
  readonly distinctPorts: number;
  readonly dnsQueries: number;
  readonly dnsFailures: number;
  readonly synNoAck: number;
}

/** One device over one window of `windowMinutes` minutes. */
export interface RollupWindow {
  readonly deviceId: number;
  readonly windowStart: Date;
  /** Minutes of the window with any rollup row. */
  readonly activeMinutes: number;
  readonly bytesOut: number;
  readonly bytesIn: number;
  readonly packetsOut: number;
  readonly packetsIn: number;
  readonly flows: number;
  readonly maxDistinctPeers: number;
  readonly maxDistinctPorts: number;
  readonly dnsQueries: number;
  readonly dnsFailures: number;
  readonly synNoAck: number;
}

export const DEFAULT_WINDOW_MINUTES = 5;

/** A window with no traffic (a quiet stretch is a window too). */
export function emptyRollupWindow(deviceId: number, windowStart: Date): RollupWindow {
  return {
    deviceId,
    windowStart,
    activeMinutes: 0,
    bytesOut: 0,
    bytesIn: 0,
    packetsOut: 0,
    packetsIn: 0,
    flows: 0,
    maxDistinctPeers: 0,
    maxDistinctPorts: 0,
    dnsQueries: 0,
    dnsFailures: 0,
    synNoAck: 0,
  };
}

const FIELDS = [
  ['bytes_out', 'bytesOut', 'bytes sent by the device in the window'],
  ['bytes_in', 'bytesIn', 'bytes received by the device in the window'],
  ['packets_out', 'packetsOut', 'packets sent'],
  ['packets_in', 'packetsIn', 'packets received'],
  ['flows', 'flows', 'flows started'],
  ['distinct_peers', 'maxDistinctPeers', 'distinct peers in the busiest minute'],
  ['distinct_ports', 'maxDistinctPorts', 'distinct destination ports in the busiest minute'],
  ['dns_queries', 'dnsQueries', 'DNS queries'],
  ['dns_failures', 'dnsFailures', 'DNS queries answered with an error or not at all'],
  ['syn_no_ack', 'synNoAck', 'TCP connection attempts never answered'],
] as const satisfies readonly (readonly [string, keyof RollupWindow, string])[];

const FEATURES: readonly FeatureSpec[] = FIELDS.map(([name, , description]) => ({
  name,
  min: 0,
  description: `log1p of ${description}`,
}));

export const ROLLUP_WINDOW_FEATURES: FeatureSet<RollupWindow> = {
  name: 'rollup-window',
  version: 1,
  features: FEATURES,
  extract(w: RollupWindow): Float64Array {
    const row = new Float64Array(FIELDS.length);
    for (let i = 0; i < FIELDS.length; i++) {
      const key = (FIELDS[i] as (typeof FIELDS)[number])[1];
      const v = w[key] as number;
      row[i] = Math.log1p(Number.isFinite(v) && v > 0 ? v : 0);
    }
    return row;
  },
};

/** Start of the window holding `t` (windows are aligned on the epoch). */
export function windowStartOf(t: Date, windowMinutes: number): Date {
  const ms = windowMinutes * 60_000;
  return new Date(Math.floor(t.getTime() / ms) * ms);
}

/**
 * Groups minute rows into per-device windows, ordered by device then window start. Input order does not
 * matter. A window holds whatever minutes of it are present (an idle minute has no rollup row).
 */
export function aggregateRollupWindows(
  rows: Iterable<RollupMinute>,
  windowMinutes = DEFAULT_WINDOW_MINUTES,
): RollupWindow[] {
  if (!Number.isInteger(windowMinutes) || windowMinutes < 1) {
    throw new RangeError(`windowMinutes must be a positive integer, got ${windowMinutes}`);
  }
  type Acc = { -readonly [K in keyof RollupWindow]: RollupWindow[K] };
  const windows = new Map<string, Acc>();
  for (const r of rows) {
    const start = windowStartOf(r.minute, windowMinutes);
    const key = `${r.deviceId}:${start.getTime()}`;
    let w = windows.get(key);
    if (!w) {
      w = emptyRollupWindow(r.deviceId, start);
      windows.set(key, w);
    }
    w.activeMinutes++;
    w.bytesOut += r.bytesOut;
    w.bytesIn += r.bytesIn;
    w.packetsOut += r.packetsOut;
    w.packetsIn += r.packetsIn;
    w.flows += r.flows;
    w.maxDistinctPeers = Math.max(w.maxDistinctPeers, r.distinctPeers);
    w.maxDistinctPorts = Math.max(w.maxDistinctPorts, r.distinctPorts);
    w.dnsQueries += r.dnsQueries;
    w.dnsFailures += r.dnsFailures;
    w.synNoAck += r.synNoAck;
  }
  return [...windows.values()].sort(
    (a, b) => a.deviceId - b.deviceId || a.windowStart.getTime() - b.windowStart.getTime(),
  );
}
