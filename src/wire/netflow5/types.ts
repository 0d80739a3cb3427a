import type { FlowExportRecord } from '../flowexport/types.js';

export type { FlowExportRecord } from '../flowexport/types.js';

/** The 24-byte NetFlow v5 header. */
export interface Netflow5Header {
  version: 5;
  count: number;
  sysUptimeMs: number;
  unixSecs: number;
  unixNsecs: number;
  flowSequence: number;
  engineType: number;
  engineId: number;
  /** Sampling mode (top 2 bits) and interval (low 14 bits). */
  samplingMode: number;
  samplingInterval: number;
  /** True when flowSequence was not the expected one (needs a cache). */
  sequenceGap: boolean;
}

export interface Netflow5Result {
  header: Netflow5Header;
  records: FlowExportRecord[];
}
