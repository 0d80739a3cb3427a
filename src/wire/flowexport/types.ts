import type { DecodeError } from '../errors.js';

/**
 * Shared shapes of the flow-export decoders (NetFlow v5, NetFlow v9, IPFIX): a normalized flow record,
 * templates, options records and "pending" data sets waiting for their template.
 */

/** One flow as exported by a router, normalized across NetFlow v5/v9 and IPFIX. Absent values are null. */
export interface FlowExportRecord {
  /** Export protocol: 5, 9 or 10 (IPFIX). */
  version: 5 | 9 | 10;
  /** The caller's key for the exporter (e.g. its IP address) as given to the decoder. */
  exporter: string;
  /** v9 source id / IPFIX observation domain id / v5 (engine_type << 8 | engine_id). */
  domainId: number;
  /** Template that described the record (0 for v5). */
  templateId: number;
  /** Export time of the datagram, seconds since the Unix epoch. */
  exportTimeSec: number;
  /** 4 or 6 (from the addresses or IE 60), 0 when unknown. */
  ipVersion: 0 | 4 | 6;
  /** Dotted IPv4 or RFC 5952 IPv6 text. */
  srcAddr: string | null;
  dstAddr: string | null;
  srcPort: number | null;
  dstPort: number | null;
  /** IP protocol number. */
  protocol: number | null;
  /** TCP control bits (cumulative OR over the flow). */
  tcpFlags: number | null;
  /** IPv4 TOS / IPv6 traffic class. */
  tos: number | null;
  /** Delta counts (octetDeltaCount / packetDeltaCount; IN_BYTES / IN_PKTS in v9); 0 when absent. */
  octets: number;
  packets: number;
  /** Flow start / end, milliseconds since the Unix epoch, null when the record has no usable time. */
  startMs: number | null;
  endMs: number | null;
  inputIf: number | null;
  outputIf: number | null;
  srcMask: number | null;
  dstMask: number | null;
  nextHop: string | null;
  srcAs: number | null;
  dstAs: number | null;
  /**
   * Every other IANA field of ≤ 8 bytes by element id → its unsigned big-endian value (exact below 2^53).
   * Includes post/total counters (23, 24, 85, 86), direction (61), ICMP type-code (32, 139), MPLS labels …
   * Enterprise-specific fields are skipped. A Map: element ids as keys of a plain object made V8 reserve
   * an array up to the largest id for every record (800 bytes for a record with MAC addresses, id 80).
   */
  extra: Map<number, number>;
}

/** One field specifier of a template. */
export interface TemplateField {
  /** Information element id (without the enterprise bit). */
  id: number;
  /** Field length in bytes; 65535 = variable length (IPFIX). */
  length: number;
  /** Private enterprise number, 0 for IANA elements. */
  pen: number;
}

export interface Template {
  id: number;
  fields: TemplateField[];
  /** True for an options template (its records come back as OptionsRecord). */
  isOptions: boolean;
  /** Options templates: the first scopeCount fields are scope fields. 0 for data templates. */
  scopeCount: number;
  /** Smallest possible record length (fixed lengths + 1 per variable-length field). */
  minLength: number;
  /** True when a field has variable length. */
  variable: boolean;
}

/** A decoded options data record (sampling, interface/VRF names, system init time, …). */
export interface OptionsRecord {
  version: 9 | 10;
  exporter: string;
  domainId: number;
  templateId: number;
  /** Scope fields by id (v9: scope type 1 system, 2 interface, 3 line card, 4 cache, 5 template). */
  scope: Record<number, number | string>;
  /** Option fields by id: ≤ 8 bytes → number, string elements (names) → text, longer others → hex. */
  values: Record<number, number | string>;
}

/** A data set whose template was not (yet) known: keep it briefly and retry with decodePendingSet. */
export interface PendingSet {
  version: 9 | 10;
  exporter: string;
  domainId: number;
  templateId: number;
  exportTimeSec: number;
  /** v9 header sysUptime (ms) needed to convert first/last switched; 0 for IPFIX. */
  sysUptimeMs: number;
  /** A copy of the set's records (after the set header). */
  data: Uint8Array;
}

export interface FlowExportResult<H> {
  header: H;
  records: FlowExportRecord[];
  options: OptionsRecord[];
  pendingSets: PendingSet[];
  /** Non-fatal problems (a bad set or template is skipped, the rest of the datagram is still decoded). */
  errors: DecodeError[];
  templatesAdded: number;
  templatesWithdrawn: number;
}

export interface FlowExportLimits {
  /** Records (data + options) per datagram before DecodeError('limit'). Default 8192. */
  maxRecordsPerDatagram?: number;
}
