import type { FlowExportResult } from '../flowexport/types.js';

export type {
  FlowExportRecord,
  OptionsRecord,
  PendingSet,
  Template,
  TemplateField,
  FlowExportLimits,
} from '../flowexport/types.js';

/** The 16-byte IPFIX message header (RFC 7011). */
export interface IpfixHeader {
  version: 10;
  /** Message length from the header. */
  length: number;
  exportTimeSec: number;
  sequence: number;
  observationDomainId: number;
  /** True when the sequence number was not the expected one for this (exporter, domain). */
  sequenceGap: boolean;
}

export type IpfixResult = FlowExportResult<IpfixHeader>;
