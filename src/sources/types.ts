import type { FlowRecord } from '../flows/types.js';
import type { Observation } from '../flows/observations.js';

/**
 * What every source yields, whatever the input (pcap, live capture, NetFlow/IPFIX, Zeek, Suricata): flows,
 * device observations, and alerts raised by an external engine. The ingest pipeline (src/ingest) stores
 * them in batches together with the source's checkpoint, in one transaction.
 */

/** A flow with the fields only some inputs carry. */
export interface IngestFlow extends FlowRecord {
  /** Zeek's connection uid, echoed by `iotsec detect` for Zeek logs. */
  uid?: string | null;
  /** A ground-truth label from labelled data (IoT-23 `label`/`detailed-label`), else null. */
  label?: string | null;
}

/** An alert raised by another engine (Suricata `alert` events). */
export interface ExternalAlert {
  tsMicros: number;
  engine: 'suricata';
  signatureId: number;
  signature: string;
  category: string | null;
  /** Suricata severity 1 (high) … 3 (low). */
  severity: number;
  srcIp: string;
  srcPort: number | null;
  dstIp: string;
  dstPort: number | null;
  proto: number;
  communityId: string | null;
}

export type SourceItem =
  | { kind: 'flow'; flow: IngestFlow }
  | { kind: 'observation'; observation: Observation }
  | { kind: 'alert'; alert: ExternalAlert };

/** Counters every source keeps; shown by `iotsec ingest` and on the Sources page. */
export interface SourceStats {
  /** Packets read (captures), records read (logs, NetFlow). */
  records: number;
  bytes: number;
  flows: number;
  /** Decode errors by kind ("truncated", "malformed", "unsupported", "limit", or a source-specific kind). */
  errors: Record<string, number>;
}

export function emptyStats(): SourceStats {
  return { records: 0, bytes: 0, flows: 0, errors: {} };
}

export function countError(stats: SourceStats, kind: string): void {
  stats.errors[kind] = (stats.errors[kind] ?? 0) + 1;
}
