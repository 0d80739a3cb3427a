import { trafficRollups } from './schema.js';

/** The columns of `traffic_rollups` as one RollupMinute (src/ml/features/rollup-window.ts) per row. */
export const ROLLUP_MINUTE_COLUMNS = {
  deviceId: trafficRollups.deviceId,
  minute: trafficRollups.minute,
  bytesOut: trafficRollups.bytesOut,
  bytesIn: trafficRollups.bytesIn,
  packetsOut: trafficRollups.packetsOut,
  packetsIn: trafficRollups.packetsIn,
  flows: trafficRollups.flows,
  distinctPeers: trafficRollups.distinctPeers,
  distinctPorts: trafficRollups.distinctPorts,
  dnsQueries: trafficRollups.dnsQueries,
  dnsFailures: trafficRollups.dnsFailures,
  synNoAck: trafficRollups.synNoAck,
};
