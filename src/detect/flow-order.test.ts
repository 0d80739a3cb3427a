import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IngestFlow } from '../sources/types.js';
import { ingestFlow } from '../test-support/flows.js';
import { exportedFlows } from '../test-support/netflow.js';
import { inFlowTimeOrder } from './flow-order.js';

/** What inFlowTimeOrder must equal: the stable sort by start time. */
const reference = (flows: readonly IngestFlow[]): IngestFlow[] =>
  [...flows].sort((a, b) => a.tsStart - b.tsStart);

/** Positions in `flows` of the flows of `order` (the same objects, not equal ones). */
const positions = (flows: readonly IngestFlow[], order: readonly IngestFlow[]): number[] => {
  const at = new Map(flows.map((f, i) => [f, i]));
  return order.map((f) => at.get(f) ?? -1);
};

/** Flows with these start times. */
const flowsAt = (starts: readonly number[]): IngestFlow[] =>
  starts.map((tsStart) => ingestFlow({ tsStart, tsEnd: tsStart }));

describe('inFlowTimeOrder', () => {
  it('equals the stable sort by start time, ties in input order, whatever the times', () => {
    const base = 1_700_000_000_000_000;
    const time = fc.oneof(
      fc.integer({ min: 0, max: 60_000_000 }).map((d) => base + d), // a live batch: minutes of µs
      fc.integer({ min: 0, max: 5 }).map((d) => base + d), // many ties
      fc.integer({ min: 0, max: 2 ** 50 }), // a span too wide for one number per flow
      fc.double({ min: 0, max: 1e6, noNaN: true }), // fractions (a converted log)
    );
    fc.assert(
      fc.property(fc.array(time, { maxLength: 300 }), (starts) => {
        const flows = flowsAt(starts);
        const before = [...flows];
        const out = inFlowTimeOrder(flows);
        expect(positions(flows, out)).toEqual(positions(flows, reference(flows)));
        expect(positions(flows, flows)).toEqual(positions(flows, before)); // the input is left as it was
        expect(out).not.toBe(flows);
      }),
      { numRuns: 300 },
    );
  });

  it('orders a real NetFlow batch (two exporters, out-of-order starts) like the stable sort', () => {
    const startMs = Date.UTC(2024, 4, 1);
    const flows = exportedFlows([
      { protocol: 'v9', records: 3000, startMs, seed: 1 },
      { protocol: 'ipfix', records: 3000, startMs, seed: 2 },
    ]);
    expect(flows.length).toBe(6000);
    const out = inFlowTimeOrder(flows);
    expect(out).not.toEqual(flows); // the batch was out of order
    expect(positions(flows, out)).toEqual(positions(flows, reference(flows)));
  });

  it('copies a batch already in order, and handles none or one flow', () => {
    const sorted = flowsAt([1, 2, 2, 3]);
    expect(inFlowTimeOrder(sorted)).toEqual(sorted);
    expect(inFlowTimeOrder([])).toEqual([]);
    expect(inFlowTimeOrder(flowsAt([5]))).toEqual(flowsAt([5]));
  });
});
