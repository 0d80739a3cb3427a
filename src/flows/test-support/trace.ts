/**
 * TEST-ONLY helpers: locate the shared real-data folder, read classic pcap files and fill PacketInfo with a
 * deliberately small Ethernet/VLAN/IPv4/IPv6/TCP/UDP/ICMP parser. The production decoder is
 * src/wire/packet/decode.ts (decodePacket); tests will switch to it once it exists. Nothing in src/ may import
 * this folder outside *.test.ts files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PacketInfo } from '../../wire/packet/types.js';

/** /work/main/src/flows/test-support → repo root is three levels up; data lives in ../shared/data. */
export const SHARED_DATA_DIR = fileURLToPath(new URL('../../../../shared/data/', import.meta.url));
export const ZEEK_DIR = `${SHARED_DATA_DIR}zeek-btest-traces/`;
export const HAVE_ZEEK_DATA = existsSync(`${ZEEK_DIR}manifest.json`);
export const MISSING_DATA_MESSAGE = `real test data not found at ${ZEEK_DIR} (expected ../shared/data relative to the repo root)`;

export function tracePath(rel: string): string {
  return `${ZEEK_DIR}Traces/${rel}`;
}

export interface PcapRecord {
  tsMicros: number;
  capLen: number;
  wireLen: number;
  frame: Uint8Array;
}

/** Reads every record of a classic little/big-endian microsecond or nanosecond pcap. */
export function readPcap(path: string): { linkType: number; records: PcapRecord[] } {
  const buf = new Uint8Array(readFileSync(path));
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = dv.getUint32(0, true);
  let le: boolean;
  let nanos = false;
  if (magic === 0xa1b2c3d4) le = true;
  else if (magic === 0xd4c3b2a1) le = false;
  else if (magic === 0xa1b23c4d) {
    le = true;
    nanos = true;
  } else if (magic === 0x4d3cb2a1) {
    le = false;
    nanos = true;
  } else throw new Error(`${path}: not a classic pcap`);
  const linkType = dv.getUint32(20, le) & 0x0fffffff;
  const records: PcapRecord[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const capLen = dv.getUint32(off + 8, le);
    const wireLen = dv.getUint32(off + 12, le);
    off += 16;
    if (off + capLen > buf.length) break;
    records.push({
      tsMicros: sec * 1_000_000 + (nanos ? Math.floor(frac / 1000) : frac),
      capLen,
      wireLen,
      frame: buf.subarray(off, off + capLen),
    });
    off += capLen;
  }
  return { linkType, records };
}

function mac48(b: Uint8Array, o: number): number {
  return (
    (b[o] ?? 0) * 2 ** 40 +
    (b[o + 1] ?? 0) * 2 ** 32 +
    (b[o + 2] ?? 0) * 2 ** 24 +
    (b[o + 3] ?? 0) * 2 ** 16 +
    (b[o + 4] ?? 0) * 2 ** 8 +
    (b[o + 5] ?? 0)
  );
}

/** Fills `info` from an Ethernet frame; returns false when there is no IP layer we understand. */
export function parseEthernet(rec: PcapRecord, info: PacketInfo): boolean {
  info.reset();
  const b = rec.frame;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  info.tsMicros = rec.tsMicros;
  info.capLen = rec.capLen;
  info.wireLen = rec.wireLen;
  info.data = b;
  if (b.length < 14) return false;
  info.hasL2 = true;
  info.dstMac = mac48(b, 0);
  info.srcMac = mac48(b, 6);
  let off = 12;
  let et = dv.getUint16(off);
  off += 2;
  while ((et === 0x8100 || et === 0x88a8) && off + 4 <= b.length) {
    if (info.vlan < 0) info.vlan = dv.getUint16(off) & 0x0fff;
    et = dv.getUint16(off + 2);
    off += 4;
  }
  info.etherType = et;
  if (et === 0x0806) {
    info.arpOffset = off;
    return false;
  }
  let proto: number;
  if (et === 0x0800) {
    if (off + 20 > b.length) return false;
    const ihl = ((b[off] ?? 0) & 0x0f) * 4;
    info.ipVersion = 4;
    info.l3Offset = off;
    info.ttl = b[off + 8] ?? 0;
    info.ipLen = dv.getUint16(off + 2);
    const fragField = dv.getUint16(off + 6);
    info.fragment = (fragField & 0x3fff) !== 0;
    info.nonFirstFragment = (fragField & 0x1fff) !== 0;
    proto = b[off + 9] ?? 0;
    info.srcIp4 = dv.getUint32(off + 12);
    info.dstIp4 = dv.getUint32(off + 16);
    off += ihl;
  } else if (et === 0x86dd) {
    if (off + 40 > b.length) return false;
    info.ipVersion = 6;
    info.l3Offset = off;
    info.ipLen = dv.getUint16(off + 4) + 40;
    info.ttl = b[off + 7] ?? 0;
    proto = b[off + 6] ?? 0;
    info.srcIp6Offset = off + 8;
    info.dstIp6Offset = off + 24;
    off += 40;
    // Hop-by-hop, routing, destination options (enough for test traces).
    while ((proto === 0 || proto === 43 || proto === 60) && off + 8 <= b.length) {
      proto = b[off] ?? 0;
      off += ((b[off + 1] ?? 0) + 1) * 8;
    }
  } else return false;
  info.ipProto = proto;
  if (info.nonFirstFragment) return true;
  const ipEnd = Math.min(b.length, info.l3Offset + info.ipLen);
  info.l4Offset = off;
  if (proto === 6 && off + 20 <= b.length) {
    info.srcPort = dv.getUint16(off);
    info.dstPort = dv.getUint16(off + 2);
    info.tcpSeq = dv.getUint32(off + 4);
    info.tcpAck = dv.getUint32(off + 8);
    const doff = ((b[off + 12] ?? 0) >> 4) * 4;
    info.tcpFlags = b[off + 13] ?? 0;
    info.payloadOffset = off + doff;
    info.payloadLength = Math.max(0, ipEnd - info.payloadOffset);
  } else if ((proto === 17 || proto === 132) && off + 8 <= b.length) {
    info.srcPort = dv.getUint16(off);
    info.dstPort = dv.getUint16(off + 2);
    info.payloadOffset = off + (proto === 17 ? 8 : 12);
    info.payloadLength = Math.max(0, ipEnd - info.payloadOffset);
  } else if ((proto === 1 || proto === 58) && off + 4 <= b.length) {
    info.icmpType = b[off] ?? 0;
    info.icmpCode = b[off + 1] ?? 0;
    info.payloadOffset = off + 8;
    info.payloadLength = Math.max(0, ipEnd - info.payloadOffset);
  }
  return true;
}

/** Decoded packets of a trace, each with its own PacketInfo (tests only: allocation is fine here). */
export function loadTrace(rel: string): PacketInfo[] {
  const { records } = readPcap(tracePath(rel));
  const out: PacketInfo[] = [];
  for (const r of records) {
    const info = new PacketInfo();
    if (parseEthernet(r, info)) out.push(info);
  }
  return out;
}

/** The application payload of a decoded packet. */
export function payloadOf(p: PacketInfo): Uint8Array {
  if (p.payloadOffset < 0) return new Uint8Array(0);
  return p.data.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength);
}

/** Parses a Zeek TSV log (btest baseline or zeek-cut -m output) into rows keyed by field name. */
export function readZeekLog(relBaseline: string, fieldsOverride?: string[]): Record<string, string>[] {
  const text = readFileSync(`${ZEEK_DIR}Baseline/${relBaseline}`, 'utf8');
  let fields = fieldsOverride;
  const rows: Record<string, string>[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('###')) continue;
    if (line.startsWith('#fields\t')) {
      fields = line.slice(8).split('\t');
      continue;
    }
    if (line.startsWith('#')) continue;
    const cols = line.split('\t');
    if (!fields) {
      // zeek-cut -m: first non-comment line is the header.
      fields = cols;
      continue;
    }
    const row: Record<string, string> = {};
    fields.forEach((f, i) => {
      row[f] = cols[i] ?? '';
    });
    rows.push(row);
  }
  return rows;
}
