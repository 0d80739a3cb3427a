/**
 * The collector's window on flow time. An exporter dates its flows by its own clock (the export time in
 * every datagram header, and first/last switched against it), and every day a flow is dated on becomes a
 * partition of network_traffic. A datagram claiming far-off days, from a router whose clock was never set
 * (year 2000) or from anyone who can reach the UDP port, would create a partition per day it names: future
 * days are never dropped by retention, and past ones fall to retention at once (the flows are lost). A live
 * collector receives flows as they end, so a flow whose time lies outside the window around its arrival is
 * re-dated to its arrival (ending then, its duration kept up to the window's past) and counted.
 */
export interface TimeWindow {
  /** How long before its arrival a flow may start (ms). */
  pastMs: number;
  /** How long after its arrival a flow may start or end (ms; exporter clocks drift). */
  futureMs: number;
}

export const DEFAULT_TIME_WINDOW: TimeWindow = { pastMs: 24 * 3_600_000, futureMs: 10 * 60_000 };

/**
 * Re-dates a flow (times in µs) that lies outside `w` around `arrivalMs`: it ends at its arrival and keeps
 * its duration (at most `w.pastMs`). Returns whether it moved the flow.
 */
export function redateOutsideWindow(
  flow: { tsStart: number; tsEnd: number },
  arrivalMs: number,
  w: TimeWindow,
): boolean {
  const nowUs = arrivalMs * 1000;
  const latestUs = nowUs + w.futureMs * 1000;
  const earliestUs = nowUs - w.pastMs * 1000;
  if (flow.tsStart >= earliestUs && flow.tsStart <= latestUs && flow.tsEnd <= latestUs) return false;
  const duration = Math.min(Math.max(0, flow.tsEnd - flow.tsStart), w.pastMs * 1000);
  flow.tsEnd = nowUs;
  flow.tsStart = nowUs - duration;
  return true;
}
