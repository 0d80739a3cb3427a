/**
 * Labelled flows for the threat classifier, one scenario (capture, log or simulator run) at a time: the
 * scenario is the evaluation group, so no scenario is ever split between training and test.
 *
 * Kinds of sources:
 * - `iot23`: an IoT-23 `conn.log.labeled` (Zeek conn log, labels mapped by `iot23Class`);
 * - `pcap-benign`: a capture known to be benign (every flow benign);
 * - `btest:<class>`: an attack trace (e.g. Zeek's ftp/bruteforce.pcap, ssh/sshguess.pcap → bruteforce,
 *   rfb/vnc-scanner.pcap → scan): the attacker is the source address that originates the most flows,
 *   its flows get the class, the others are benign;
 * - `sim:<seed>`: the demo-network simulator with one incident of each kind injected; flows of the
 *   incident (see `incidentFlows`) get the incident's class, every other flow is benign.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { captureItems } from '../../ingest/capture-items.js';
import { createDemoNetwork, type GroundTruth, type IncidentKind } from '../../sim/network.js';
import { pcapGlobalHeader, pcapRecord } from '../../sim/pcap-writer.js';
import type { IngestFlow } from '../../sources/types.js';
import { readFlows } from '../offline.js';
import type { FlowLabel } from '../types.js';
import { iot23Class, isFlowLabel, simIncidentClass } from './labels.js';

export type SourceKind = 'iot23' | 'pcap-benign' | `btest:${string}` | `sim:${number}`;

export interface SourceSpec {
  kind: SourceKind;
  /** File path (absolute), empty for `sim:`. */
  path: string;
}

export interface LabelledScenario {
  /** Group name: the file path or `sim:<seed>`. */
  group: string;
  flows: IngestFlow[];
  labels: FlowLabel[];
}

export class ThreatLabelsError extends Error {}

/** Parses a `kind` column value. */
export function parseKind(kind: string, where: string): SourceKind {
  if (kind === 'iot23' || kind === 'pcap-benign') return kind;
  const b = /^btest:(.+)$/.exec(kind);
  if (b?.[1]) {
    if (!isFlowLabel(b[1]) || b[1] === 'benign')
      throw new ThreatLabelsError(`${where}: btest class ${b[1]} is not a threat class`);
    return `btest:${b[1]}`;
  }
  const s = /^sim:(\d{1,9})$/.exec(kind);
  if (s?.[1]) return `sim:${Number(s[1])}`;
  throw new ThreatLabelsError(
    `${where}: kind must be iot23, pcap-benign, btest:<class> or sim:<seed> (got ${JSON.stringify(kind)})`,
  );
}

/**
 * Reads a labels file: a CSV with the header `path,kind` (paths relative to the CSV; `sim:<seed>` rows
 * leave path empty), or anything else, taken as one IoT-23 labelled Zeek conn log.
 */
export async function readLabelSources(file: string): Promise<SourceSpec[]> {
  const text = await readFile(file, 'utf8').catch((e: unknown) => {
    throw new ThreatLabelsError(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  });
  const first = text.split(/\r?\n/, 1)[0]?.trim().toLowerCase() ?? '';
  if (first !== 'path,kind') return [{ kind: 'iot23', path: resolve(file) }];
  const out: SourceSpec[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (i === 0 || line.trim() === '' || line.startsWith('#')) return;
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== 2) throw new ThreatLabelsError(`${file}:${i + 1}: expected 2 columns path,kind`);
    const kind = parseKind(cells[1] ?? '', `${file}:${i + 1}`);
    const p = cells[0] ?? '';
    if (!kind.startsWith('sim:') && p === '') throw new ThreatLabelsError(`${file}:${i + 1}: empty path`);
    out.push({ kind, path: kind.startsWith('sim:') ? '' : isAbsolute(p) ? p : resolve(dirname(file), p) });
  });
  if (out.length === 0) throw new ThreatLabelsError(`${file}: no rows`);
  return out;
}

/** The simulator scenario of a seed: one incident of each kind in 70 minutes (offsets vary by seed). */
export function simScenarioPlan(
  seed: number,
): { kind: IncidentKind; afterMin: number; durationMin?: number }[] {
  const j = seed % 4;
  return [
    { kind: 'port_scan', afterMin: 4 + j },
    { kind: 'telnet_bruteforce', afterMin: 10 + j, durationMin: 4 },
    { kind: 'mirai_scan', afterMin: 18 + j, durationMin: 3 },
    { kind: 'c2_beacon', afterMin: 25 + j, durationMin: 20 },
    { kind: 'ddos', afterMin: 50 + j, durationMin: 1 },
    { kind: 'dns_tunnel', afterMin: 56 + j, durationMin: 4 },
  ];
}

export const SIM_MINUTES = 70;

/** Runs the simulator in memory and returns its flows and ground truth. */
export async function simulateFlows(
  seed: number,
  minutes = SIM_MINUTES,
  plan = simScenarioPlan(seed),
): Promise<{ flows: IngestFlow[]; truth: GroundTruth[] }> {
  const startMs = Date.UTC(2024, 0, 10, 8) + (seed % 7) * 3_600_000;
  const net = createDemoNetwork({ seed, startMs });
  for (const i of plan)
    net.inject(
      i.kind,
      startMs + i.afterMin * 60_000,
      i.durationMin ? { durationMs: i.durationMin * 60_000 } : {},
    );
  const end = startMs + minutes * 60_000;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    yield pcapGlobalHeader();
    for (let t = startMs; t < end;) {
      t = Math.min(end, t + 60_000);
      const frames = net.nextBatch(t);
      if (frames.length) yield Buffer.concat(frames.map(pcapRecord));
    }
  }
  const flows: IngestFlow[] = [];
  for await (const b of captureItems(chunks(), { source: `sim:${seed}` }))
    for (const it of b.items) if (it.kind === 'flow') flows.push(it.flow);
  return { flows, truth: net.groundTruth() };
}

const SLACK_US = 5_000_000;

/**
 * Does a flow belong to an incident? It must start inside the incident window (5 s slack) and:
 * - with a peer address (brute force source, C&C server, flood target): be between the device and the peer;
 * - with a peer domain (DNS tunnel): come from the device and query a name under the domain;
 * - without a peer (LAN or internet scans): come from the device over TCP and carry no payload out
 *   (probes; the device's ordinary traffic during the scan stays benign).
 */
export function incidentFlow(g: GroundTruth, f: IngestFlow): boolean {
  if (f.tsStart < g.startMs * 1000 - SLACK_US || f.tsStart > g.endMs * 1000 + SLACK_US) return false;
  if (g.peer === null) return f.srcIp === g.ip && f.proto === 6 && f.payloadBytesOut === 0;
  if (/^[\d.]+$/.test(g.peer) || g.peer.includes(':'))
    return (f.srcIp === g.ip && f.dstIp === g.peer) || (f.srcIp === g.peer && f.dstIp === g.ip);
  const zone = g.peer.toLowerCase();
  return f.srcIp === g.ip && f.dnsNames.some((n) => n.toLowerCase().endsWith(zone));
}

/** Labels simulator flows from the ground truth (first matching incident wins). */
export function labelSimFlows(flows: readonly IngestFlow[], truth: readonly GroundTruth[]): FlowLabel[] {
  const incidents = truth
    .map((g) => ({ g, cls: simIncidentClass(g.kind) }))
    .filter((x): x is { g: GroundTruth; cls: FlowLabel } => x.cls !== null);
  return flows.map((f) => incidents.find((x) => incidentFlow(x.g, f))?.cls ?? 'benign');
}

/** The source address that originates the most flows (ties: the smaller address text). */
export function topOriginator(flows: readonly IngestFlow[]): string | null {
  const n = new Map<string, number>();
  for (const f of flows) n.set(f.srcIp, (n.get(f.srcIp) ?? 0) + 1);
  let best: string | null = null;
  let bestN = 0;
  for (const [ip, c] of [...n].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
    if (c > bestN) {
      best = ip;
      bestN = c;
    }
  return best;
}

/** Loads one source into a labelled scenario. */
export async function loadScenario(spec: SourceSpec): Promise<LabelledScenario> {
  if (spec.kind.startsWith('sim:')) {
    const seed = Number(spec.kind.slice(4));
    const { flows, truth } = await simulateFlows(seed);
    return { group: spec.kind, flows, labels: labelSimFlows(flows, truth) };
  }
  const { format, flows } = await readFlows(spec.path).catch((e: unknown) => {
    throw new ThreatLabelsError(e instanceof Error ? e.message : String(e));
  });
  if (spec.kind === 'iot23') {
    if (format !== 'zeek')
      throw new ThreatLabelsError(`${spec.path}: an iot23 source must be a Zeek conn log`);
    const kept: IngestFlow[] = [];
    const labels: FlowLabel[] = [];
    for (const f of flows) {
      const c = iot23Class(f.label);
      if (c === null) continue;
      kept.push(f);
      labels.push(c);
    }
    if (kept.length === 0)
      throw new ThreatLabelsError(`${spec.path}: no labelled flows (not an IoT-23 conn.log.labeled?)`);
    return { group: spec.path, flows: kept, labels };
  }
  if (spec.kind === 'pcap-benign') return { group: spec.path, flows, labels: flows.map(() => 'benign') };
  const cls = spec.kind.slice(6);
  if (!isFlowLabel(cls)) throw new ThreatLabelsError(`${spec.path}: bad class ${cls}`);
  const attacker = topOriginator(flows);
  return { group: spec.path, flows, labels: flows.map((f) => (f.srcIp === attacker ? cls : 'benign')) };
}
