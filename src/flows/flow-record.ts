import type { CloseReason, ConnState, FlowRecord } from './types.js';

/** The dnsNames of every flow without names (shared, frozen: FlowRecord consumers only read it). */
export const NO_NAMES = Object.freeze([]) as unknown as string[];

/**
 * A FlowRecord as the flow table builds it: an instance of this class, filled field by field, rather than an
 * object literal. Records live until their batch is written, so V8 pretenures a literal's allocation site
 * (allocates its objects straight in the old generation), and building them got several times dearer: on
 * the TCP part of the bench capture, 73 ms per pass for the literal against 11 ms for this class (the
 * literal's cost also went away under --no-allocation-site-pretenuring). Objects made by `new` have no
 * allocation site, so they are never pretenured. The fields, their order and their values are those of
 * the FlowRecord interface; only the prototype differs from a literal's.
 */
export class FlowRecordObject implements FlowRecord {
  tsStart = 0;
  tsEnd = 0;
  srcIp = '';
  dstIp = '';
  srcPort: number | null = null;
  dstPort: number | null = null;
  proto = 0;
  appProto: string | null = null;
  bytesOut = 0;
  bytesIn = 0;
  packetsOut = 0;
  packetsIn = 0;
  payloadBytesOut = 0;
  payloadBytesIn = 0;
  tcpFlagsOut = 0;
  tcpFlagsIn = 0;
  connState: ConnState = 'OTH';
  communityId = '';
  srcMac: string | null = null;
  dstMac: string | null = null;
  vlan: number | null = null;
  sni: string | null = null;
  httpHost: string | null = null;
  dnsNames: string[] = NO_NAMES;
  closeReason: CloseReason = 'end';
}

/** A finished flow as a capture source's item (SourceItem kind 'flow'): made by `new` for the same reason. */
export class FlowItem {
  readonly kind = 'flow';
  readonly flow: FlowRecord;
  constructor(flow: FlowRecord) {
    this.flow = flow;
  }
}
