import { Cursor } from '../cursor.js';
import { DecodeError } from '../errors.js';
import { ipv4BytesToString, ipv6ToString } from './addr.js';
import type { DnsDecodeOptions, DnsMessage, DnsQuestion, DnsRData, DnsRecord, DnsSection } from './types.js';

const D = 'dns';
/** Hard caps: attacker-controlled counts. */
export const DNS_MAX_QUESTIONS = 64;
export const DNS_MAX_RECORDS = 512;
export const DNS_MAX_NAME_LENGTH = 255;
export const DNS_MAX_POINTER_JUMPS = 32;
export const DNS_MAX_TXT_STRINGS = 64;

/** Label bytes as text: printable ASCII kept (A–Z lower-cased, like Zeek), anything else escaped as \xHH. */
function labelText(b: Uint8Array, start: number, len: number): string {
  let s = '';
  for (let i = start; i < start + len; i++) {
    let c = b[i] ?? 0;
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    s += c > 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s;
}

/**
 * Reads a possibly compressed domain name at `pos`. Pointers must point strictly backwards (before the
 * pointer itself) and at most DNS_MAX_POINTER_JUMPS are followed, so a loop cannot hang. Returns the name
 * and the position just after the name in the original (uncompressed) stream.
 */
export function readDnsName(
  b: Uint8Array,
  msgStart: number,
  end: number,
  pos: number,
): { name: string; next: number } {
  let p = pos;
  let next = -1;
  let jumps = 0;
  let wireLen = 0;
  let name = '';
  for (;;) {
    if (p >= end) throw new DecodeError('truncated', D, 'name runs past the end', p);
    const len = b[p] ?? 0;
    if (len === 0) {
      if (next < 0) next = p + 1;
      break;
    }
    const top = len & 0xc0;
    if (top === 0xc0) {
      if (p + 1 >= end) throw new DecodeError('truncated', D, 'compression pointer cut', p);
      const target = msgStart + (((len & 0x3f) << 8) | (b[p + 1] ?? 0));
      if (target >= p) throw new DecodeError('malformed', D, 'compression pointer does not go backwards', p);
      if (++jumps > DNS_MAX_POINTER_JUMPS)
        throw new DecodeError('limit', D, 'too many compression pointers', p);
      if (next < 0) next = p + 2;
      p = target;
      continue;
    }
    if (top !== 0) throw new DecodeError('malformed', D, `unsupported label type 0x${len.toString(16)}`, p);
    if (p + 1 + len > end) throw new DecodeError('truncated', D, 'label runs past the end', p);
    wireLen += len + 1;
    if (wireLen > DNS_MAX_NAME_LENGTH) throw new DecodeError('malformed', D, 'name longer than 255 bytes', p);
    name += (name.length ? '.' : '') + labelText(b, p + 1, len);
    p += 1 + len;
  }
  return { name, next };
}

function readRData(c: Cursor, msgStart: number, type: number, rdlen: number): DnsRData {
  const start = c.pos;
  const rdEnd = start + rdlen;
  c.need(rdlen);
  const b = c.bytes;
  switch (type) {
    case 1:
      if (rdlen !== 4) throw new DecodeError('malformed', D, `A record length ${rdlen}`, start);
      return { kind: 'a', address: ipv4BytesToString(b, start) };
    case 28:
      if (rdlen !== 16) throw new DecodeError('malformed', D, `AAAA record length ${rdlen}`, start);
      return { kind: 'aaaa', address: ipv6ToString(b, start) };
    case 2:
    case 5:
    case 12: {
      const { name, next } = readDnsName(b, msgStart, rdEnd, start);
      if (next > rdEnd) throw new DecodeError('malformed', D, 'name overruns rdata', start);
      return { kind: 'name', name };
    }
    case 33: {
      if (rdlen < 7) throw new DecodeError('malformed', D, `SRV record length ${rdlen}`, start);
      const sub = new Cursor(b, D, start, rdEnd);
      const priority = sub.u16();
      const weight = sub.u16();
      const port = sub.u16();
      const { name } = readDnsName(b, msgStart, rdEnd, sub.pos);
      return { kind: 'srv', priority, weight, port, target: name };
    }
    case 16: {
      const strings: string[] = [];
      let p = start;
      while (p < rdEnd) {
        const l = b[p] ?? 0;
        if (p + 1 + l > rdEnd) throw new DecodeError('malformed', D, 'TXT string overruns rdata', p);
        if (strings.length >= DNS_MAX_TXT_STRINGS)
          throw new DecodeError('limit', D, 'too many TXT strings', p);
        strings.push(labelTextLoose(b, p + 1, l));
        p += 1 + l;
      }
      return { kind: 'txt', strings };
    }
    default:
      return { kind: 'other', length: rdlen };
  }
}

/** TXT strings: printable ASCII and spaces kept, other bytes escaped. */
function labelTextLoose(b: Uint8Array, start: number, len: number): string {
  let s = '';
  for (let i = start; i < start + len; i++) {
    const c = b[i] ?? 0;
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s;
}

/**
 * Decodes a DNS or mDNS message from `bytes[offset, offset+length)`. Throws only DecodeError. Record counts
 * above the caps raise DecodeError('limit'); rdata of unknown types is skipped and kept as its length.
 */
export function decodeDns(
  bytes: Uint8Array,
  offset = 0,
  length = bytes.length - offset,
  opts: DnsDecodeOptions = {},
): DnsMessage {
  let start = offset;
  let end = Math.min(bytes.length, offset + Math.max(0, length));
  if (opts.tcp) {
    const lc = new Cursor(bytes, D, start, end);
    const l = lc.u16();
    start += 2;
    end = Math.min(end, start + l);
  }
  const c = new Cursor(bytes, D, start, end);
  const id = c.u16();
  const flags = c.u16();
  const qd = c.u16();
  const an = c.u16();
  const ns = c.u16();
  const ar = c.u16();
  if (qd > DNS_MAX_QUESTIONS) throw new DecodeError('limit', D, `${qd} questions`, start + 4);
  if (an + ns + ar > DNS_MAX_RECORDS) throw new DecodeError('limit', D, `${an + ns + ar} records`, start + 6);
  const mdns = opts.mdns === true;
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < qd; i++) {
    const { name, next } = readDnsName(bytes, start, end, c.pos);
    c.pos = next;
    const type = c.u16();
    const cls = c.u16();
    questions.push({
      name,
      type,
      class: mdns ? cls & 0x7fff : cls,
      unicastResponse: mdns && (cls & 0x8000) !== 0,
    });
  }
  const records: DnsRecord[] = [];
  const sections: [DnsSection, number][] = [
    ['answer', an],
    ['authority', ns],
    ['additional', ar],
  ];
  for (const [section, count] of sections) {
    for (let i = 0; i < count; i++) {
      const { name, next } = readDnsName(bytes, start, end, c.pos);
      c.pos = next;
      const type = c.u16();
      const cls = c.u16();
      const ttl = c.u32();
      const rdlen = c.u16();
      c.need(rdlen);
      const rdStart = c.pos;
      const data = type === 41 ? { kind: 'other' as const, length: rdlen } : readRData(c, start, type, rdlen);
      c.pos = rdStart + rdlen;
      const flush = mdns && type !== 41 && (cls & 0x8000) !== 0;
      records.push({
        section,
        name,
        type,
        class: mdns && type !== 41 ? cls & 0x7fff : cls,
        cacheFlush: flush,
        ttl,
        data,
      });
    }
  }
  return {
    id,
    isResponse: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0x0f,
    authoritative: (flags & 0x0400) !== 0,
    truncated: (flags & 0x0200) !== 0,
    recursionDesired: (flags & 0x0100) !== 0,
    recursionAvailable: (flags & 0x0080) !== 0,
    z: (flags >> 4) & 0x07,
    rcode: flags & 0x0f,
    questions,
    records,
    counts: { qd, an, ns, ar },
  };
}
