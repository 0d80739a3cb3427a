/**
 * A compact, columnar form of a batch of IngestFlow, for handing flows from the receiving thread to the main
 * thread (src/sources/netflow/worker.ts): numbers travel in one ArrayBuffer (transferred, not copied) and
 * strings once per batch in a table that each flow refers to by index. Structured-cloning the flow objects
 * themselves costs several times more on both sides (every property name and value is serialised per flow).
 * The values every flow has its own of stay out of the string table: IPv4 addresses travel as numbers and
 * ASCII Community IDs as bytes in the buffer. A batch waiting in the receiving thread's queue is then one
 * ArrayBuffer and a short table, rather than a string per flow for the garbage collector to copy and
 * promote while the database catches up (that was a third of the thread's time under load).
 *
 * Every IngestFlow field is carried, so the flows decoded on the other side are equal to the ones encoded
 * (flow-batch.test.ts checks this on every field), whatever the source.
 */
import type { CloseReason, ConnState } from '../../flows/types.js';
import { ipv4Text, parseIp4 } from '../../wire/addr.js';
import type { IngestFlow, SourceItem } from '../types.js';

/** What crosses the thread boundary: `buffer` is transferable. */
export interface FlowBatch {
  n: number;
  buffer: ArrayBuffer;
  strings: string[];
}

// Number columns (Float64: exact for every integer below 2^53, NaN stands for null).
const TS_START = 0;
const TS_END = 1;
const SRC_PORT = 2;
const DST_PORT = 3;
const PROTO = 4;
const BYTES_OUT = 5;
const BYTES_IN = 6;
const PACKETS_OUT = 7;
const PACKETS_IN = 8;
const PAYLOAD_OUT = 9;
const PAYLOAD_IN = 10;
const FLAGS_OUT = 11;
const FLAGS_IN = 12;
const VLAN = 13;
/** The source and destination addresses as unsigned 32-bit numbers when they are dotted quads (see IPV4). */
const SRC_IP4 = 14;
const DST_IP4 = 15;
const NUM_COLS = 16;
// String columns: an index into `strings`, -1 for null; UID -2 for an absent (undefined) uid/label.
const SRC_IP = 0;
const DST_IP = 1;
const APP_PROTO = 2;
const CONN_STATE = 3;
const COMMUNITY_ID = 4;
const SRC_MAC = 5;
const DST_MAC = 6;
const SNI = 7;
const HTTP_HOST = 8;
/** JSON of dnsNames when not empty. */
const DNS_NAMES = 9;
const CLOSE_REASON = 10;
const UID = 11;
const LABEL = 12;
const STR_COLS = 13;

const ABSENT = -2;
/** SRC_IP/DST_IP: the address is the number in SRC_IP4/DST_IP4 (a dotted quad, which it gives back exactly). */
const IPV4 = -3;
/** COMMUNITY_ID at or below this: the ID is ASCII, in the flow's byte slot, its length INLINE - value. */
const INLINE = -100;
/** Bytes per flow for the Community ID (v1 IDs take 30); a longer or non-ASCII one goes to the table. */
const CID_BYTES = 32;

/** Bytes per flow in the buffer. */
export const FLOW_BATCH_BYTES_PER_FLOW = NUM_COLS * 8 + STR_COLS * 4 + CID_BYTES;

/** Builds FlowBatch values: add() flows, then take() the batch (and start the next one). */
export class FlowBatchEncoder {
  private flows: IngestFlow[] = [];

  get size(): number {
    return this.flows.length;
  }

  add(f: IngestFlow): void {
    this.flows.push(f);
  }

  /** The batch of the flows added since the last take(), or null when there are none. */
  take(): FlowBatch | null {
    const flows = this.flows;
    if (flows.length === 0) return null;
    this.flows = [];
    return encodeFlows(flows);
  }
}

export function encodeFlows(flows: readonly IngestFlow[]): FlowBatch {
  const n = flows.length;
  const buffer = new ArrayBuffer(n * FLOW_BATCH_BYTES_PER_FLOW);
  const num = new Float64Array(buffer, 0, n * NUM_COLS);
  const str = new Int32Array(buffer, n * NUM_COLS * 8, n * STR_COLS);
  const cidBase = n * (NUM_COLS * 8 + STR_COLS * 4);
  const bytes = new Uint8Array(buffer);
  const strings: string[] = [];
  const index = new Map<string, number>();
  const ref = (s: string | null | undefined): number => {
    if (s === null) return -1;
    if (s === undefined) return ABSENT;
    let i = index.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      index.set(s, i);
    }
    return i;
  };
  // Few distinct values (protocol names, states, reasons): compared with the previous one before the map.
  const last: (string | null | undefined)[] = new Array<string | null | undefined>(STR_COLS).fill(null);
  const lastRef = new Int32Array(STR_COLS).fill(-1);
  const few = (col: number, v: string | null | undefined): number => {
    if (v === last[col]) return lastRef[col] as number;
    const i = ref(v);
    last[col] = v;
    lastRef[col] = i;
    return i;
  };
  /** A value nearly always different (the Community ID): no lookup. */
  const unique = (v: string): number => strings.push(v) - 1;
  const opt = (v: number | null): number => (v === null ? NaN : v);
  /** An address: its number in `col4` when it is a dotted quad, else a table entry. */
  const address = (a: number, col4: number, ip: string): number => {
    const v = parseIp4(ip);
    num[a + col4] = v ?? NaN;
    return v === null ? ref(ip) : IPV4;
  };
  /** The Community ID in flow k's byte slot when it fits and is ASCII, else a table entry. */
  const communityId = (k: number, id: string): number => {
    const len = id.length;
    if (len > CID_BYTES) return unique(id);
    const o = cidBase + k * CID_BYTES;
    for (let i = 0; i < len; i++) {
      const c = id.charCodeAt(i);
      if (c > 0x7f) return unique(id);
      bytes[o + i] = c;
    }
    return INLINE - len;
  };
  for (let k = 0; k < n; k++) {
    const f = flows[k] as IngestFlow;
    const a = k * NUM_COLS;
    num[a + TS_START] = f.tsStart;
    num[a + TS_END] = f.tsEnd;
    num[a + SRC_PORT] = opt(f.srcPort);
    num[a + DST_PORT] = opt(f.dstPort);
    num[a + PROTO] = f.proto;
    num[a + BYTES_OUT] = f.bytesOut;
    num[a + BYTES_IN] = f.bytesIn;
    num[a + PACKETS_OUT] = f.packetsOut;
    num[a + PACKETS_IN] = f.packetsIn;
    num[a + PAYLOAD_OUT] = f.payloadBytesOut;
    num[a + PAYLOAD_IN] = f.payloadBytesIn;
    num[a + FLAGS_OUT] = f.tcpFlagsOut;
    num[a + FLAGS_IN] = f.tcpFlagsIn;
    num[a + VLAN] = opt(f.vlan);
    const b = k * STR_COLS;
    str[b + SRC_IP] = address(a, SRC_IP4, f.srcIp);
    str[b + DST_IP] = address(a, DST_IP4, f.dstIp);
    str[b + APP_PROTO] = few(APP_PROTO, f.appProto);
    str[b + CONN_STATE] = few(CONN_STATE, f.connState);
    str[b + COMMUNITY_ID] = communityId(k, f.communityId);
    str[b + SRC_MAC] = few(SRC_MAC, f.srcMac);
    str[b + DST_MAC] = few(DST_MAC, f.dstMac);
    str[b + SNI] = few(SNI, f.sni);
    str[b + HTTP_HOST] = few(HTTP_HOST, f.httpHost);
    str[b + DNS_NAMES] = f.dnsNames.length === 0 ? -1 : ref(JSON.stringify(f.dnsNames));
    str[b + CLOSE_REASON] = few(CLOSE_REASON, f.closeReason);
    str[b + UID] = 'uid' in f ? few(UID, f.uid) : ABSENT;
    str[b + LABEL] = 'label' in f ? few(LABEL, f.label) : ABSENT;
  }
  return { n, buffer, strings };
}

/**
 * A counter read back from its Float64 column as an integer when it is one (−0 reads as 0). V8 keeps a
 * small integer in the flow object itself, but a value that arrives as a float64 in a heap box of its own:
 * 14 boxes per flow made the decoded flows half again as large (528 against 352 bytes each), and the
 * collector's main thread allocates and collects every one of them.
 */
const int = (v: number): number => ((v | 0) === v ? v | 0 : v);

/** Flows without DNS names share one (frozen) empty list. */
const NO_NAMES: readonly string[] = Object.freeze([]);

/** The flows of a batch, as source items (in order). */
export function decodeFlowItems(batch: FlowBatch): SourceItem[] {
  const { n, buffer, strings } = batch;
  const num = new Float64Array(buffer, 0, n * NUM_COLS);
  const str = new Int32Array(buffer, n * NUM_COLS * 8, n * STR_COLS);
  const cidBase = n * (NUM_COLS * 8 + STR_COLS * 4);
  const bytes = Buffer.from(buffer);
  const s = (i: number): string | null => (i < 0 ? null : (strings[i] ?? null));
  const address = (i: number, v: number): string => (i === IPV4 ? ipv4Text(v) : (s(i) ?? ''));
  const communityId = (k: number, i: number): string => {
    if (i > INLINE) return s(i) ?? '';
    const o = cidBase + k * CID_BYTES;
    return bytes.toString('latin1', o, o + INLINE - i);
  };
  const opt = (v: number): number | null => (v !== v ? null : int(v)); // NaN → null
  const items = new Array<SourceItem>(n);
  for (let k = 0; k < n; k++) {
    const a = k * NUM_COLS;
    const b = k * STR_COLS;
    const dns = str[b + DNS_NAMES] as number;
    const uid = str[b + UID] as number;
    const label = str[b + LABEL] as number;
    // Same property order as flowExportToIngest (one hidden class for every NetFlow flow).
    const flow: IngestFlow = {
      tsStart: num[a + TS_START] as number,
      tsEnd: num[a + TS_END] as number,
      srcIp: address(str[b + SRC_IP] as number, num[a + SRC_IP4] as number),
      dstIp: address(str[b + DST_IP] as number, num[a + DST_IP4] as number),
      srcPort: opt(num[a + SRC_PORT] as number),
      dstPort: opt(num[a + DST_PORT] as number),
      proto: int(num[a + PROTO] as number),
      appProto: s(str[b + APP_PROTO] as number),
      bytesOut: int(num[a + BYTES_OUT] as number),
      bytesIn: int(num[a + BYTES_IN] as number),
      packetsOut: int(num[a + PACKETS_OUT] as number),
      packetsIn: int(num[a + PACKETS_IN] as number),
      payloadBytesOut: int(num[a + PAYLOAD_OUT] as number),
      payloadBytesIn: int(num[a + PAYLOAD_IN] as number),
      tcpFlagsOut: int(num[a + FLAGS_OUT] as number),
      tcpFlagsIn: int(num[a + FLAGS_IN] as number),
      connState: (s(str[b + CONN_STATE] as number) ?? 'OTH') as ConnState,
      communityId: communityId(k, str[b + COMMUNITY_ID] as number),
      srcMac: s(str[b + SRC_MAC] as number),
      dstMac: s(str[b + DST_MAC] as number),
      vlan: opt(num[a + VLAN] as number),
      sni: s(str[b + SNI] as number),
      httpHost: s(str[b + HTTP_HOST] as number),
      dnsNames: dns < 0 ? NO_NAMES : (JSON.parse(strings[dns] ?? '[]') as string[]),
      closeReason: (s(str[b + CLOSE_REASON] as number) ?? 'idle') as CloseReason,
      uid: s(uid),
      label: s(label),
    };
    items[k] = {
      kind: 'flow',
      flow: uid === ABSENT || label === ABSENT ? withoutAbsent(flow, uid, label) : flow,
    };
  }
  return items;
}

/** A flow without the optional uid/label properties that its source did not set (rare: most set both). */
function withoutAbsent(flow: IngestFlow, uid: number, label: number): IngestFlow {
  const { uid: u, label: l, ...rest } = flow;
  const out: IngestFlow = rest;
  if (uid !== ABSENT) out.uid = u ?? null;
  if (label !== ABSENT) out.label = l ?? null;
  return out;
}
