/** TEST AND BENCH ONLY: one complete flow record (a TLS connection from a local device), with overrides. */
import type { IngestFlow } from '../sources/types.js';

export function ingestFlow(over: Partial<IngestFlow> = {}): IngestFlow {
  return {
    tsStart: 1_700_000_000_000_000,
    tsEnd: 1_700_000_000_500_000,
    srcIp: '10.42.0.100',
    dstIp: '198.51.100.7',
    srcPort: 40000,
    dstPort: 443,
    proto: 6,
    appProto: 'tls',
    bytesOut: 1000,
    bytesIn: 2000,
    packetsOut: 10,
    packetsIn: 10,
    payloadBytesOut: 500,
    payloadBytesIn: 1500,
    tcpFlagsOut: 0x1b,
    tcpFlagsIn: 0x1b,
    connState: 'SF',
    communityId: '1:abc=',
    srcMac: '50:c7:bf:00:00:01',
    dstMac: '74:83:c2:00:00:01',
    vlan: null,
    sni: null,
    httpHost: null,
    dnsNames: [],
    closeReason: 'fin',
    ...over,
  };
}
