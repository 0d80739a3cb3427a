/**
 * Evaluation helpers shared by the tests and the `detect` benchmark: run the detection engine over the
 * simulator (in memory) and over captures, and score findings against ground truth the way an analyst
 * sees alerts (one alert per device, kind and peer per day, as the alert service dedups them).
 */
import { captureItems } from '../ingest/capture-items.js';
import { createDemoNetwork, type GroundTruth, type IncidentKind } from '../sim/network.js';
import { pcapGlobalHeader, pcapRecord } from '../sim/pcap-writer.js';
import type { IngestFlow } from '../sources/types.js';
import { detectFlows } from './offline.js';
import type { Finding } from './types.js';
import { SEC } from './util.js';

export interface SimRun {
  flows: IngestFlow[];
  findings: Finding[];
  truth: GroundTruth[];
  devices: number;
  hours: number;
}

/** Simulates the demo network for `hours` with the given incidents (kind, minutes after start, duration). */
export async function simulateAndDetect(opts: {
  seed: number;
  hours: number;
  incidents: { kind: IncidentKind; afterMin: number; durationMin?: number }[];
}): Promise<SimRun> {
  const startMs = Date.UTC(2024, 0, 10, 8);
  const net = createDemoNetwork({ seed: opts.seed, startMs });
  for (const i of opts.incidents) {
    net.inject(
      i.kind,
      startMs + i.afterMin * 60_000,
      i.durationMin ? { durationMs: i.durationMin * 60_000 } : {},
    );
  }
  const end = startMs + opts.hours * 3_600_000;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    yield pcapGlobalHeader();
    for (let t = startMs; t < end;) {
      t = Math.min(end, t + 60_000);
      const frames = net.nextBatch(t);
      if (frames.length) yield Buffer.concat(frames.map(pcapRecord));
    }
  }
  const flows: IngestFlow[] = [];
  for await (const b of captureItems(chunks(), { source: 'sim' }))
    for (const it of b.items) if (it.kind === 'flow') flows.push(it.flow);
  const { findings } = detectFlows(flows);
  const devices = net.devices().filter((d) => d.joinedMs !== null).length;
  return { flows, findings, truth: net.groundTruth(), devices, hours: opts.hours };
}

/** Alerts as the alert service would keep them: one per (device, kind, peer). */
export function alertKeys(findings: readonly Finding[]): Map<string, Finding> {
  const m = new Map<string, Finding>();
  for (const f of findings) {
    const k = `${f.device?.ip ?? '-'}|${f.kind}|${f.peer ?? '-'}`;
    if (!m.has(k)) m.set(k, f);
  }
  return m;
}

const MARGIN = 5 * 60 * SEC;

/** Does a finding belong to an incident (same device or peer, during it)? */
export function explains(g: GroundTruth, f: Finding): boolean {
  const during = f.lastUs >= g.startMs * 1000 - MARGIN && f.firstUs <= g.endMs * 1000 + MARGIN;
  const who =
    f.device?.ip === g.ip ||
    (g.peer !== null &&
      (f.peer === g.peer || f.peer?.endsWith(g.peer.split('.').slice(-2).join('.')) === true));
  return during && who;
}

export function scoreSim(run: SimRun): {
  detected: Record<string, boolean>;
  falseAlerts: string[];
  falsePerDeviceDay: number;
} {
  const detected: Record<string, boolean> = {};
  const alerts = alertKeys(run.findings);
  for (const g of run.truth) {
    if (g.kind === 'new_device') continue;
    detected[`${g.kind}@${g.ip}`] = [...alerts.values()].some((f) => explains(g, f));
  }
  const falseAlerts = [...alerts.entries()]
    .filter(([, f]) => !run.truth.some((g) => explains(g, f)))
    .map(([k]) => k);
  return {
    detected,
    falseAlerts,
    falsePerDeviceDay: falseAlerts.length / Math.max(1, run.devices) / (run.hours / 24),
  };
}

/** False alerts per device per day on a benign capture: every alert is false. */
export function benignRate(
  flows: readonly IngestFlow[],
  findings: readonly Finding[],
): {
  alerts: number;
  devices: number;
  days: number;
  perDeviceDay: number;
} {
  const devices = new Set<string>();
  let lo = Infinity;
  let hi = -Infinity;
  for (const f of flows) {
    for (const ip of [f.srcIp, f.dstIp])
      if (/^(10|192\.168|172\.(1[6-9]|2\d|3[01]))\./.test(ip)) devices.add(ip);
    lo = Math.min(lo, f.tsStart);
    hi = Math.max(hi, f.tsEnd);
  }
  // A capture shorter than a day counts as one day: the budget is per device per day of observation.
  const days = Math.max(1, (hi - lo) / (86_400 * SEC));
  const alerts = alertKeys(findings).size;
  return { alerts, devices: devices.size, days, perDeviceDay: alerts / Math.max(1, devices.size) / days };
}
