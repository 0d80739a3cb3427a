import type { IngestFlow } from '../sources/types.js';

/** The threat classes of the `detect` CLI contract (ARCHITECTURE.md §6), plus `benign`. */
export const THREAT_CLASSES = [
  'scan',
  'c2',
  'ddos',
  'dos',
  'bruteforce',
  'exploit',
  'download',
  'other',
] as const;
export type ThreatClass = (typeof THREAT_CLASSES)[number];
export type FlowLabel = ThreatClass | 'benign';

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

/** The local device a finding is about: its IP and, when layer 2 was visible, its MAC. */
export interface DeviceRef {
  ip: string;
  mac: string | null;
}

/**
 * What a detector reports. Times are flow times (microseconds), never the wall clock, so triage of a capture
 * gives the same findings as live traffic. `flows` lists the community ids of every flow behind this finding
 * (bounded); `evidence` is what the alert stores (counts, thresholds, a sample of community ids).
 */
export interface Finding {
  detector: string;
  /** Alert kind: port_scan, telnet_scan, bruteforce, c2_beacon, ddos, dos, dns_tunnel, dga, … */
  kind: string;
  /** The threat class flows behind this finding get in `iotsec detect`; null for exposures (not attacks). */
  threat: ThreatClass | null;
  severity: Severity;
  /** 0..1: how sure the rule is (the `score` of `iotsec detect`). */
  confidence: number;
  /** The local device concerned; null when none is local (an inbound sweep of many hosts). */
  device: DeviceRef | null;
  /** The other side: attacker, target, C&C server, DNS zone; null for a sweep. */
  peer: string | null;
  title: string;
  description: string;
  firstUs: number;
  lastUs: number;
  flows: string[];
  evidence: Record<string, unknown>;
}

export type Emit = (f: Finding) => void;

/** A stateful detector over flows. `observe` must be cheap; state is bounded and expires by flow time. */
export interface Detector {
  readonly name: string;
  observe(flow: IngestFlow, emit: Emit): void;
  /** End of input (a capture read to its end): report what is still pending. */
  flush?(emit: Emit): void;
}

export type DetectFlow = IngestFlow;
