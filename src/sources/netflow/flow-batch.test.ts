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
    ];
    const back = roundTrip(flows);
    expect(back).toEqual(flows);
    // Absent optional properties stay absent (not undefined-valued, not null).
    expect('uid' in (back[0] as IngestFlow)).toBe(false);
    expect('label' in (back[3] as IngestFlow)).toBe(false);
    expect('uid' in (back[4] as IngestFlow)).toBe(false);
    expect(back[2]).toHaveProperty('uid', null);
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
    // 10 Community IDs, and each repeated value once: 2 IPs, app, state, 2 MACs, close reason.
    expect(b?.strings.length).toBe(10 + 7);
    expect(decodeFlowItems(b!).map((i) => (i.kind === 'flow' ? i.flow.communityId : ''))).toEqual(
      Array.from({ length: 10 }, (_, i) => `1:${i}`),
    );
  });
});
