import type { FlowExportResult } from '../flowexport/types.js';

export type {
  FlowExportRecord,
  OptionsRecord,
  PendingSet,
  Template,
  TemplateField,
  FlowExportLimits,
} from '../flowexport/types.js';

/** The 20-byte NetFlow v9 export packet header (RFC 3954). */
export interface Netflow9Header {
  version: 9;
  /** Records (template + data) the exporter says the packet holds. */
  count: number;
  sysUptimeMs: number;
  unixSecs: number;
  sequence: number;
  sourceId: number;
  /** True when the sequence number was not the expected one for this (exporter, source id). */
  sequenceGap: boolean;
}

export type Netflow9Result = FlowExportResult<Netflow9Header>;
