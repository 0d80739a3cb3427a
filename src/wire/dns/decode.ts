import { Cursor } from '../cursor.js';
import { DecodeError } from '../errors.js';
import { ipv4BytesToString, ipv6ToString } from '../addr.js';
import type { DnsDecodeOptions, DnsMessage, DnsQuestion, DnsRData, DnsRecord, DnsSection } from './types.js';

const D = 'dns';
/** Hard caps: attacker-controlled counts. */
export const DNS_MAX_QUESTIONS = 64;
export const DNS_MAX_RECORDS = 512;
export const DNS_MAX_NAME_LENGTH = 255;
export const DNS_MAX_POINTER_JUMPS = 32;
export const DNS_MAX_TXT_STRINGS = 64;

const latin1 = new TextDecoder('latin1');

/** Label bytes as text: printable ASCII kept (A–Z lower-cased, like Zeek), anything else escaped as \xHH. */
function labelText(b: Uint8Array, start: number, len: number): string {
  let plain = true;
  let upper = false;
  for (let i = start; i < start + len; i++) {
    const c = b[i] ?? 0;
    if (c <= 0x20 || c >= 0x7f) {
      plain = false;
      break;
    }
    if (c >= 0x41 && c <= 0x5a) upper = true;
  }
  if (plain) {
    // Printable ASCII only: one native decode (lower-casing ASCII is exactly the A–Z mapping below).
    const t = latin1.decode(b.subarray(start, start + len));
    return upper ? t.toLowerCase() : t;
  }
  let s = '';
  for (let i = start; i < start + len; i++) {
    let c = b[i] ?? 0;
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    s += c > 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s;
}

/**
 * Decoded names by their label bytes: DNS and above all mDNS traffic repeats the same names (and every
 * record of a response repeats its owner's suffix), so building the text once per distinct name saves most
 * of the decode's allocation. Direct-mapped by a hash of the label bytes, verified byte for byte; bounded.
 */
const NAME_CACHE_SIZE = 4096;
const nameKeys: (Uint8Array | null)[] = new Array<Uint8Array | null>(NAME_CACHE_SIZE).fill(null);
const nameTexts: string[] = new Array<string>(NAME_CACHE_SIZE).fill('');
/** Label (start, length) pairs of the name being read; a name has at most 128 labels (255 bytes). */
const segs = new Int32Array(2 * 128);

/** Position just after the name read by readName (in the original, uncompressed stream). */
let nameNext = -1;

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
  const name = readName(b, msgStart, end, pos);
  return { name, next: nameNext };
}

/** readDnsName without the result object: the next position is left in `nameNext`. */
function readName(b: Uint8Array, msgStart: number, end: number, pos: number): string {
  let p = pos;
  let next = -1;
  let jumps = 0;
  let wireLen = 0;
  let n = 0;
  let h = 0x811c9dc5;
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
    segs[n++] = p + 1;
    segs[n++] = len;
    h = Math.imul(h ^ len, 0x01000193);
    for (let i = p + 1; i <= p + len; i++) h = Math.imul(h ^ (b[i] ?? 0), 0x01000193);
    p += 1 + len;
  }
  nameNext = next;
  if (n === 0) return '';
  // The cache key is the name in uncompressed wire form without the root label: wireLen bytes.
  const slot = (h >>> 0) & (NAME_CACHE_SIZE - 1);
  const key = nameKeys[slot];
  if (key !== null && key !== undefined && key.length === wireLen && sameName(b, n, key)) {
    return nameTexts[slot] ?? '';
  }
  let name = '';
  const k = new Uint8Array(wireLen);
  let o = 0;
  for (let i = 0; i < n; i += 2) {
    const st = segs[i] ?? 0;
    const l = segs[i + 1] ?? 0;
    name += (i ? '.' : '') + labelText(b, st, l);
    k[o++] = l;
    k.set(b.subarray(st, st + l), o);
    o += l;
  }
  nameKeys[slot] = k;
  nameTexts[slot] = name;
  return name;
}

/** Do the n/2 labels in `segs` spell exactly the wire bytes `key`? */
function sameName(b: Uint8Array, n: number, key: Uint8Array): boolean {
  let o = 0;
  for (let i = 0; i < n; i += 2) {
    const st = segs[i] ?? 0;
    const l = segs[i + 1] ?? 0;
    if (key[o++] !== l) return false;
    for (let j = 0; j < l; j++) if (key[o++] !== b[st + j]) return false;
  }
  return true;
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
      const name = readName(b, msgStart, rdEnd, start);
      if (nameNext > rdEnd) throw new DecodeError('malformed', D, 'name overruns rdata', start);
      return { kind: 'name', name };
    }
    case 33: {
      if (rdlen < 7) throw new DecodeError('malformed', D, `SRV record length ${rdlen}`, start);
      const sub = new Cursor(b, D, start, rdEnd);
      const priority = sub.u16();
      const weight = sub.u16();
      const port = sub.u16();
      const target = readName(b, msgStart, rdEnd, sub.pos);
      return { kind: 'srv', priority, weight, port, target };
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

/**
 * Validates rdata exactly as readRData does (same checks, same errors, same order) without building it;
 * returns the domain name of NS/CNAME/PTR and SRV rdata, else null.
 */
function checkRData(
  b: Uint8Array,
  msgStart: number,
  type: number,
  start: number,
  rdlen: number,
): string | null {
  const rdEnd = start + rdlen;
  switch (type) {
    case 1:
      if (rdlen !== 4) throw new DecodeError('malformed', D, `A record length ${rdlen}`, start);
      return null;
    case 28:
      if (rdlen !== 16) throw new DecodeError('malformed', D, `AAAA record length ${rdlen}`, start);
      return null;
    case 2:
    case 5:
    case 12: {
      const name = readName(b, msgStart, rdEnd, start);
      if (nameNext > rdEnd) throw new DecodeError('malformed', D, 'name overruns rdata', start);
      return name;
    }
    case 33:
      if (rdlen < 7) throw new DecodeError('malformed', D, `SRV record length ${rdlen}`, start);
      return readName(b, msgStart, rdEnd, start + 6);
    case 16: {
      let n = 0;
      let p = start;
      while (p < rdEnd) {
        const l = b[p] ?? 0;
        if (p + 1 + l > rdEnd) throw new DecodeError('malformed', D, 'TXT string overruns rdata', p);
        if (n >= DNS_MAX_TXT_STRINGS) throw new DecodeError('limit', D, 'too many TXT strings', p);
        n++;
        p += 1 + l;
      }
      return null;
    }
    default:
      return null;
  }
}

/** The rdata kind readRData gives a record type. */
function rdataKind(type: number): DnsRData['kind'] {
  switch (type) {
    case 1:
      return 'a';
    case 28:
      return 'aaaa';
    case 2:
    case 5:
    case 12:
      return 'name';
    case 33:
      return 'srv';
    case 16:
      return 'txt';
    default:
      return 'other';
  }
}

/** TXT strings: printable ASCII and spaces kept, other bytes escaped. */
function labelTextLoose(b: Uint8Array, start: number, len: number): string {
  let plain = true;
  for (let i = start; i < start + len; i++) {
    const c = b[i] ?? 0;
    if (c < 0x20 || c >= 0x7f) {
      plain = false;
      break;
    }
  }
  if (plain) return latin1.decode(b.subarray(start, start + len));
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
    const name = readName(bytes, start, end, c.pos);
    c.pos = nameNext;
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
      const name = readName(bytes, start, end, c.pos);
      c.pos = nameNext;
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

/**
 * What the flow table and the device observations need from a DNS/mDNS message, without the full model:
 * question names and the answer section's owner names and rdata names. summarizeDns accepts and rejects
 * exactly the messages decodeDns does (same checks, same DecodeErrors), so it can stand in for it.
 */
export interface DnsSummary {
  isResponse: boolean;
  /** Question names in wire order. */
  questions: string[];
  /** Answer-section records in wire order. */
  answers: DnsAnswerSummary[];
}

export interface DnsAnswerSummary {
  name: string;
  type: number;
  /** As DnsRData.kind (OPT records are 'other'). */
  kind: DnsRData['kind'];
  /** The name carried by NS/CNAME/PTR ('name') or SRV ('srv') rdata, else null. */
  target: string | null;
}

/** decodeDns reduced to a DnsSummary (see there); throws exactly when decodeDns throws. */
export function summarizeDns(
  bytes: Uint8Array,
  offset = 0,
  length = bytes.length - offset,
  opts: DnsDecodeOptions = {},
): DnsSummary {
  let start = offset;
  let end = Math.min(bytes.length, offset + Math.max(0, length));
  if (opts.tcp) {
    const lc = new Cursor(bytes, D, start, end);
    const l = lc.u16();
    start += 2;
    end = Math.min(end, start + l);
  }
  const c = new Cursor(bytes, D, start, end);
  c.u16(); // id
  const flags = c.u16();
  const qd = c.u16();
  const an = c.u16();
  const ns = c.u16();
  const ar = c.u16();
  if (qd > DNS_MAX_QUESTIONS) throw new DecodeError('limit', D, `${qd} questions`, start + 4);
  if (an + ns + ar > DNS_MAX_RECORDS) throw new DecodeError('limit', D, `${an + ns + ar} records`, start + 6);
  const questions: string[] = [];
  for (let i = 0; i < qd; i++) {
    const name = readName(bytes, start, end, c.pos);
    c.pos = nameNext;
    c.u16();
    c.u16();
    questions.push(name);
  }
  const answers: DnsAnswerSummary[] = [];
  const total = an + ns + ar;
  for (let i = 0; i < total; i++) {
    const name = readName(bytes, start, end, c.pos);
    c.pos = nameNext;
    const type = c.u16();
    c.u16(); // class
    c.u32(); // ttl
    const rdlen = c.u16();
    c.need(rdlen);
    const rdStart = c.pos;
    const target = type === 41 ? null : checkRData(bytes, start, type, rdStart, rdlen);
    c.pos = rdStart + rdlen;
    if (i < an) answers.push({ name, type, kind: type === 41 ? 'other' : rdataKind(type), target });
  }
  return { isResponse: (flags & 0x8000) !== 0, questions, answers };
}
