import { describe, expect, it } from 'vitest';
import { FlowItem, FlowRecordObject, NO_NAMES } from './flow-record.js';
import type { FlowRecord } from './types.js';

describe('FlowRecordObject / FlowItem', () => {
  it('have the fields of a FlowRecord literal, in the same order, and serialise alike', () => {
    const literal: FlowRecord = {
      tsStart: 1,
      tsEnd: 2,
      srcIp: '10.0.0.1',
      dstIp: '10.0.0.2',
      srcPort: 40000,
      dstPort: 53,
      proto: 17,
      appProto: 'dns',
      bytesOut: 60,
      bytesIn: 120,
      packetsOut: 1,
      packetsIn: 1,
      payloadBytesOut: 32,
      payloadBytesIn: 92,
      tcpFlagsOut: 0,
      tcpFlagsIn: 0,
      connState: 'SF',
      communityId: '1:abc=',
      srcMac: null,
      dstMac: null,
      vlan: null,
      sni: null,
      httpHost: null,
      dnsNames: ['a.b'],
      closeReason: 'idle',
    };
    const rec = new FlowRecordObject();
    expect(Object.keys(rec)).toEqual(Object.keys(literal));
    Object.assign(rec, literal);
    expect(JSON.stringify(rec)).toBe(JSON.stringify(literal));
    expect(structuredClone(rec)).toEqual(literal);
    const item = new FlowItem(rec);
    expect(JSON.stringify(item)).toBe(JSON.stringify({ kind: 'flow', flow: literal }));
    expect(new FlowRecordObject().dnsNames).toBe(NO_NAMES);
  });
});
