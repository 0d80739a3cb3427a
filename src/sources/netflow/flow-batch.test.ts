import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ingestFlow } from '../../test-support/flows.js';
import { exportedFlows } from '../../test-support/netflow.js';
import type { IngestFlow } from '../types.js';
import { decodeFlowItems, encodeFlows, FlowBatchEncoder, FLOW_BATCH_BYTES_PER_FLOW } from './flow-batch.js';

/** Encoded, sent through a real structured clone with the buffer transferred, decoded. */
function roundTrip(flows: IngestFlow[]): IngestFlow[] {
  const b = encodeFlows(flows);
  const copy = structuredClone(b, { transfer: [b.buffer] });
  expect(b.buffer.byteLength).toBe(0); // transferred, not copied
  return decodeFlowItems(copy).map((i) => {
    expect(i.kind).toBe('flow');
    return (i as { flow: IngestFlow }).flow;
  });
}

describe('FlowBatch (columnar flows between threads)', () => {
  it('gives back every field of every flow: nulls, absent uid/label, DNS names, big counters, IPv6', () => {
    const flows: IngestFlow[] = [
      ingestFlow(),
      ingestFlow({
        srcIp: '2001:db8::1',
        dstIp: 'fe80::1',
        srcPort: null,
        dstPort: null,
        proto: 58,
        appProto: null,
        srcMac: null,
        dstMac: null,
        vlan: 4095,
        sni: 'example.com',
        httpHost: 'h.example',
        dnsNames: ['a.example', 'b\nodd\u0000name'],
        connState: 'OTH',
        closeReason: 'idle',
        bytesOut: Number.MAX_SAFE_INTEGER,
        packetsIn: 2 ** 40,
        tsStart: 1.5,
        tsEnd: 2.25,
        uid: 'CabC12',
        label: 'Malicious   PartOfAHorizontalPortScan',
      }),
      ingestFlow({ uid: null, label: null, communityId: '1:abc=' }), // same strings as the first
      ingestFlow({ uid: 'only-uid' }),
      ingestFlow({ label: 'only-label' }),
      ingestFlow({ srcPort: 0, dstPort: 65535, vlan: 0, tcpFlagsOut: 0x1ff }),
      // Addresses that are not plain dotted quads travel as text, exactly as they were.
      ingestFlow({ srcIp: '010.0.0.1', dstIp: ' 10.0.0.2' }),
      ingestFlow({ srcIp: '0.0.0.0', dstIp: '255.255.255.255' }),
      ingestFlow({ srcIp: '', dstIp: '::ffff:10.0.0.1' }),
      // Community IDs that do not fit the byte slot, or are not ASCII, travel as text.
      ingestFlow({ communityId: '' }),
      ingestFlow({ communityId: `1:${'x'.repeat(30)}` }), // 32 characters: the slot's size
      ingestFlow({ communityId: `1:${'x'.repeat(31)}` }),
      ingestFlow({ communityId: '1:é' }),
      ingestFlow({ communityId: '1:\u{1f600}' }),
    ];
    const back = roundTrip(flows);
    expect(back).toEqual(flows);
    // Absent optional properties stay absent (not undefined-valued, not null).
    expect('uid' in (back[0] as IngestFlow)).toBe(false);
    expect('label' in (back[3] as IngestFlow)).toBe(false);
    expect('uid' in (back[4] as IngestFlow)).toBe(false);
    expect(back[2]).toHaveProperty('uid', null);
  });

  it('gives back any address and Community ID text exactly (numbers, bytes or table, whichever it took)', () => {
    const quad = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
    const text = fc.oneof(quad, fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(text, text, text), { minLength: 1, maxLength: 20 }), (rows) => {
        const flows = rows.map(([srcIp, dstIp, communityId]) => ingestFlow({ srcIp, dstIp, communityId }));
        expect(roundTrip(flows)).toEqual(flows);
      }),
      { numRuns: 300 },
    );
  });

  it('equals the in-process conversion on NetFlow v9 and IPFIX exports', () => {
    const startMs = Date.UTC(2024, 4, 1);
    const flows = exportedFlows([
      { protocol: 'v9', records: 1000, startMs, seed: 3 },
      { protocol: 'ipfix', records: 1000, startMs, seed: 3 },
    ]);
    expect(flows.length).toBe(2000);
    expect(roundTrip(flows)).toEqual(flows);
  });

  it('encoder: batches of what was added, strings shared within a batch', () => {
    const e = new FlowBatchEncoder();
    expect(e.take()).toBeNull();
    for (let i = 0; i < 10; i++) e.add(ingestFlow({ communityId: `1:${i}` }));
    expect(e.size).toBe(10);
    const b = e.take();
    expect(e.size).toBe(0);
    expect(b?.n).toBe(10);
    expect(b?.buffer.byteLength).toBe(10 * FLOW_BATCH_BYTES_PER_FLOW);
    // Each repeated value once: app, state, 2 MACs, close reason. The dotted-quad addresses travel as
    // numbers and the Community IDs as bytes: no string per flow.
    expect(b?.strings.length).toBe(5);
    expect(decodeFlowItems(b!).map((i) => (i.kind === 'flow' ? i.flow.communityId : ''))).toEqual(
      Array.from({ length: 10 }, (_, i) => `1:${i}`),
    );
  });
});
