import { describe, expect, it } from 'vitest';
import { extractMatrix, featureSetSignature } from './feature-set.js';
import { aggregateRollupWindows, ROLLUP_WINDOW_FEATURES, type RollupMinute } from './rollup-window.js';

const minute = (deviceId: number, m: number, over: Partial<RollupMinute> = {}): RollupMinute => ({
  deviceId,
  minute: new Date(Date.UTC(2024, 0, 1, 0, m)),
  bytesOut: 100,
  bytesIn: 200,
  packetsOut: 1,
  packetsIn: 2,
  flows: 1,
  distinctPeers: 1,
  distinctPorts: 1,
  dnsQueries: 0,
  dnsFailures: 0,
  synNoAck: 0,
  ...over,
});

describe('rollup-window feature set', () => {
  it('sums counts and takes the busiest minute for distinct peers/ports, per device and window', () => {
    const w = aggregateRollupWindows(
      [
        minute(2, 0),
        minute(1, 6, { distinctPeers: 7 }),
        minute(1, 5, { distinctPeers: 3, bytesOut: 50 }),
        minute(1, 0),
      ],
      5,
    );
    expect(w.map((x) => [x.deviceId, x.windowStart.getUTCMinutes(), x.activeMinutes])).toEqual([
      [1, 0, 1],
      [1, 5, 2],
      [2, 0, 1],
    ]);
    expect(w[1]!.bytesOut).toBe(150);
    expect(w[1]!.maxDistinctPeers).toBe(7);
  });

  it('extracts log1p rows in the order of its signature', () => {
    const sig = featureSetSignature(ROLLUP_WINDOW_FEATURES);
    expect(sig.featureNames).toEqual([
      'bytes_out',
      'bytes_in',
      'packets_out',
      'packets_in',
      'flows',
      'distinct_peers',
      'distinct_ports',
      'dns_queries',
      'dns_failures',
      'syn_no_ack',
    ]);
    const X = extractMatrix(ROLLUP_WINDOW_FEATURES, aggregateRollupWindows([minute(1, 0)], 5));
    expect(X.nCols).toBe(10);
    expect(X.data[0]).toBeCloseTo(Math.log1p(100));
    expect(X.data[9]).toBe(0);
  });

  it('rejects a bad window size', () => {
    expect(() => aggregateRollupWindows([], 0)).toThrow(RangeError);
  });
});
