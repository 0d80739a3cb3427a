/**
 * Synthetic NetFlow v9 and IPFIX exports for the collector benchmark: templates first (and again every
 * `templateEvery` datagrams, as exporters refresh them), then data sets of IPv4 flows between a few hundred
 * local devices (with MACs, so the collector keys devices by MAC) and internet peers. Deterministic per seed.
 */
import { rng } from '../src/wire/test-support/data.js';

export interface FlowExportGenOptions {
  protocol: 'v9' | 'ipfix';
  /** Data records in all. */
  records: number;
  /** Records per data datagram (default 24: about 1.4 KB, below a 1500-byte MTU). */
  perDatagram?: number;
  /** Flow times start here (ms since the epoch) and advance 1 ms per record. */
  startMs: number;
  seed?: number;
  /** Observation domain (IPFIX) / source id (v9). */
  domain?: number;
  templateEvery?: number;
}

const TEMPLATE_ID = 256;
/** [information element, length]: the same fields for v9 and IPFIX except the times. */
const COMMON: [number, number][] = [
  [8, 4], // sourceIPv4Address
  [12, 4], // destinationIPv4Address
  [7, 2], // sourceTransportPort
  [11, 2], // destinationTransportPort
  [4, 1], // protocolIdentifier
  [6, 1], // tcpControlBits
  [1, 8], // octetDeltaCount
  [2, 8], // packetDeltaCount
  [56, 6], // sourceMacAddress
  [80, 6], // destinationMacAddress
];
/** IPFIX: flowStartMilliseconds / flowEndMilliseconds (absolute); v9: FIRST/LAST_SWITCHED (uptime ms). */
const IPFIX_TIMES: [number, number][] = [
  [152, 8],
  [153, 8],
];
const V9_TIMES: [number, number][] = [
  [22, 4],
  [21, 4],
];

/** The datagrams of one exporter, in sending order. */
export function flowExportDatagrams(o: FlowExportGenOptions): Buffer[] {
  const ipfix = o.protocol === 'ipfix';
  const fields = [...COMMON, ...(ipfix ? IPFIX_TIMES : V9_TIMES)];
  const recLen = fields.reduce((n, [, l]) => n + l, 0);
  const per = o.perDatagram ?? 24;
  const every = o.templateEvery ?? 100;
  const domain = o.domain ?? 1;
  const r = rng(o.seed ?? 1);
  const bootMs = o.startMs - 3_600_000; // v9 uptime counts from here
  const out: Buffer[] = [];
  let seq = 0;
  let sent = 0;
  let n = 0;

  const templateSet = (): Buffer => {
    const b = Buffer.alloc(8 + fields.length * 4);
    b.writeUInt16BE(ipfix ? 2 : 0, 0); // template set / flowset id
    b.writeUInt16BE(b.length, 2);
    b.writeUInt16BE(TEMPLATE_ID, 4);
    b.writeUInt16BE(fields.length, 6);
    fields.forEach(([ie, len], i) => {
      b.writeUInt16BE(ie, 8 + i * 4);
      b.writeUInt16BE(len, 10 + i * 4);
    });
    return b;
  };

  const header = (nowMs: number, setsLen: number, count: number): Buffer => {
    if (ipfix) {
      const h = Buffer.alloc(16);
      h.writeUInt16BE(10, 0);
      h.writeUInt16BE(16 + setsLen, 2);
      h.writeUInt32BE(Math.floor(nowMs / 1000), 4);
      h.writeUInt32BE(seq >>> 0, 8); // data records sent before this message
      h.writeUInt32BE(domain, 12);
      return h;
    }
    const h = Buffer.alloc(20);
    h.writeUInt16BE(9, 0);
    h.writeUInt16BE(count, 2); // records (templates and data) in this packet
    h.writeUInt32BE((nowMs - bootMs) >>> 0, 4);
    h.writeUInt32BE(Math.floor(nowMs / 1000), 8);
    h.writeUInt32BE(seq >>> 0, 12); // packets sent before this one
    h.writeUInt32BE(domain, 16);
    return h;
  };

  while (sent < o.records) {
    const k = Math.min(per, o.records - sent);
    const withTemplate = n % every === 0;
    const data = Buffer.alloc(4 + k * recLen + ((4 - ((k * recLen) % 4)) % 4));
    data.writeUInt16BE(TEMPLATE_ID, 0);
    data.writeUInt16BE(data.length, 2);
    let p = 4;
    const nowMs = o.startMs + sent + k;
    for (let i = 0; i < k; i++) {
      const dev = Math.floor(r() * 300);
      // Exported as it ends (no flow ends after its export: the collector drops such times).
      const dur = Math.floor(r() * 60_000);
      const start = o.startMs + sent + i - dur;
      const tcp = r() < 0.7;
      data.writeUInt32BE((0x0a000000 | (dev + 10)) >>> 0, p); // 10.0.x.y
      data.writeUInt32BE((0x5db80000 | Math.floor(r() * 0xffff)) >>> 0, p + 4); // 93.184.x.y
      data.writeUInt16BE(32768 + Math.floor(r() * 28000), p + 8);
      data.writeUInt16BE(tcp ? (r() < 0.8 ? 443 : 80) : r() < 0.5 ? 53 : 123, p + 10);
      data.writeUInt8(tcp ? 6 : 17, p + 12);
      data.writeUInt8(tcp ? 0x1b : 0, p + 13);
      data.writeBigUInt64BE(BigInt(64 + Math.floor(r() * 100_000)), p + 14);
      data.writeBigUInt64BE(BigInt(1 + Math.floor(r() * 100)), p + 22);
      data.writeUInt16BE(0x9410, p + 30); // 94:10:3e:00:xx:xx (a vendor OUI: stable device MACs)
      data.writeUInt32BE((0x3e000000 | dev) >>> 0, p + 32);
      data.writeUInt16BE(0x0011, p + 36); // the gateway, 00:11:22:33:44:55
      data.writeUInt32BE(0x22334455, p + 38);
      if (ipfix) {
        data.writeBigUInt64BE(BigInt(start), p + 42);
        data.writeBigUInt64BE(BigInt(start + dur), p + 50);
      } else {
        data.writeUInt32BE((start - bootMs) >>> 0, p + 42);
        data.writeUInt32BE((start + dur - bootMs) >>> 0, p + 46);
      }
      p += recLen;
    }
    const sets = withTemplate ? [templateSet(), data] : [data];
    const setsLen = sets.reduce((s, b) => s + b.length, 0);
    out.push(Buffer.concat([header(nowMs, setsLen, k + (withTemplate ? 1 : 0)), ...sets]));
    seq += ipfix ? k : 1;
    sent += k;
    n++;
  }
  return out;
}
