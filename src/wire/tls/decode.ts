import { Buffer } from 'node:buffer';
import { hash } from 'node:crypto';
import { Cursor, latin1Text } from '../cursor.js';
import { DecodeError } from '../errors.js';
import type { Ja3, Ja4, TlsClientHello, TlsServerHello } from './types.js';

const D = 'tls';
/** Caps on attacker-controlled lists (a real ClientHello has < 100 ciphers and < 30 extensions). */
export const TLS_MAX_HANDSHAKE = 64 * 1024;
export const TLS_MAX_LIST = 1024;

/** GREASE values (RFC 8701): 0x0a0a, 0x1a1a, … 0xfafa. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

/** Does this TCP payload start like a TLS handshake record (content type 22, version 3.x)? */
export function looksLikeTlsHandshake(b: Uint8Array, offset = 0, length = b.length - offset): boolean {
  return length >= 3 && b[offset] === 0x16 && b[offset + 1] === 0x03 && (b[offset + 2] ?? 0xff) <= 0x04;
}

/**
 * Collects the first handshake message from consecutive handshake records. Throws DecodeError('truncated')
 * when the message is not complete in the given bytes: the caller treats that as "incomplete" and may retry
 * with more of the stream (see tlsHandshakeBytesNeeded).
 */
function firstHandshake(
  bytes: Uint8Array,
  offset: number,
  length: number,
  wantType: number,
): { recordVersion: number; body: Cursor } {
  const end = Math.min(bytes.length, offset + Math.max(0, length));
  const c = new Cursor(bytes, D, offset, end);
  const type = c.u8();
  if (type !== 22) throw new DecodeError('malformed', D, `record type ${type} is not handshake`, offset);
  const recordVersion = c.u16();
  if (recordVersion >> 8 !== 3)
    throw new DecodeError('unsupported', D, `record version 0x${recordVersion.toString(16)}`, offset + 1);
  const recLen = c.u16();
  if (recLen === 0 || recLen > 16384 + 2048)
    throw new DecodeError('malformed', D, `record length ${recLen}`, offset + 3);
  const firstAvail = Math.min(recLen, c.remaining);
  if (firstAvail < 4) throw new DecodeError('truncated', D, 'handshake header cut', c.pos);
  const hsType = bytes[c.pos] ?? 0;
  if (hsType !== wantType)
    throw new DecodeError('malformed', D, `handshake type ${hsType}, expected ${wantType}`, c.pos);
  const hsLen = ((bytes[c.pos + 1] ?? 0) << 16) | ((bytes[c.pos + 2] ?? 0) << 8) | (bytes[c.pos + 3] ?? 0);
  if (hsLen > TLS_MAX_HANDSHAKE) throw new DecodeError('limit', D, `handshake length ${hsLen}`, c.pos + 1);
  const total = hsLen + 4;
  if (total <= recLen) {
    // Common case: the whole message is inside the first record; no copy.
    c.need(total);
    return { recordVersion, body: new Cursor(bytes, D, c.pos + 4, c.pos + total) };
  }
  // The message spans records: copy fragments (bounded by TLS_MAX_HANDSHAKE).
  const buf = new Uint8Array(total);
  let have = 0;
  let p = c.pos;
  let avail = recLen;
  for (;;) {
    const want = Math.min(avail, total - have);
    if (p + want > end) throw new DecodeError('truncated', D, 'handshake record cut', p);
    buf.set(bytes.subarray(p, p + want), have);
    have += want;
    p += want;
    if (have === total) break;
    const rc = new Cursor(bytes, D, p, end);
    if (rc.u8() !== 22)
      throw new DecodeError('malformed', D, 'handshake continues in a non-handshake record', p);
    rc.u16();
    avail = rc.u16();
    if (avail === 0) throw new DecodeError('malformed', D, 'empty handshake record', p);
    p = rc.pos;
  }
  return { recordVersion, body: new Cursor(buf, D, 4, total) };
}

/**
 * The type of the first handshake message when its record header passes the checks decodeTls*Hello make
 * first (type 22, version 3.x, sane record length, at least the 4-byte handshake header present), else -1.
 * A caller can skip a decode that is certain to fail: any other type than the one wanted is 'malformed'.
 */
export function tlsFirstHandshakeType(bytes: Uint8Array, offset = 0, length = bytes.length - offset): number {
  const end = Math.min(bytes.length, offset + Math.max(0, length));
  if (end - offset < 5 || bytes[offset] !== 22 || bytes[offset + 1] !== 3) return -1;
  const recLen = ((bytes[offset + 3] ?? 0) << 8) | (bytes[offset + 4] ?? 0);
  if (recLen === 0 || recLen > 16384 + 2048 || Math.min(recLen, end - offset - 5) < 4) return -1;
  return bytes[offset + 5] ?? -1;
}

/**
 * How many bytes from `offset` a complete first handshake message needs (across records), or -1 when the
 * header is not even there yet. Lets a caller reassemble a ClientHello split across TCP segments.
 */
export function tlsHandshakeBytesNeeded(
  bytes: Uint8Array,
  offset = 0,
  length = bytes.length - offset,
): number {
  if (length < 9 || bytes[offset] !== 22) return -1;
  const hsLen = ((bytes[offset + 6] ?? 0) << 16) | ((bytes[offset + 7] ?? 0) << 8) | (bytes[offset + 8] ?? 0);
  const recLen = ((bytes[offset + 3] ?? 0) << 8) | (bytes[offset + 4] ?? 0);
  if (hsLen + 4 <= recLen) return 5 + hsLen + 4;
  // Spans records: 5 header bytes per 16 KiB record, an upper bound.
  return 5 + hsLen + 4 + 5 * Math.ceil((hsLen + 4) / Math.max(1, recLen));
}

/**
 * A list of 16-bit values. The array is allocated at its final size: growing it value by value copied a
 * ClientHello's ~100 cipher suites several times over, most of the decode's garbage.
 */
function u16List(c: Cursor, lenBytes: 1 | 2, what: string): number[] {
  const len = lenBytes === 1 ? c.u8() : c.u16();
  if (len % 2) throw new DecodeError('malformed', D, `${what} length ${len} is odd`, c.pos);
  const start = c.pos;
  c.skip(len);
  const n = len >> 1;
  // Reported at the first value beyond the cap, as a value-by-value read would.
  if (n > TLS_MAX_LIST) throw new DecodeError('limit', D, `too many ${what}`, start + 2 * TLS_MAX_LIST);
  const b = c.bytes;
  const out = new Array<number>(n);
  for (let i = 0, p = start; i < n; i++, p += 2) out[i] = ((b[p] ?? 0) << 8) | (b[p + 1] ?? 0);
  return out;
}

function u8List(c: Cursor, what: string): number[] {
  const len = c.u8();
  const start = c.pos;
  c.skip(len);
  if (len > TLS_MAX_LIST) throw new DecodeError('limit', D, `too many ${what}`, c.pos);
  const b = c.bytes;
  const out = new Array<number>(len);
  for (let i = 0; i < len; i++) out[i] = b[start + i] ?? 0;
  return out;
}

function alpnList(c: Cursor): string[] {
  const len = c.u16();
  const sub = c.sub(len);
  const out: string[] = [];
  while (sub.remaining > 0) {
    if (out.length >= 64) throw new DecodeError('limit', D, 'too many ALPN values', sub.pos);
    const l = sub.u8();
    out.push(latin1Text(sub.bytesView(l)));
  }
  return out;
}

/** Decodes a ClientHello at the start of a TCP payload (record header first). Throws only DecodeError. */
export function decodeTlsClientHello(
  bytes: Uint8Array,
  offset = 0,
  length = bytes.length - offset,
): TlsClientHello {
  const { recordVersion, body: c } = firstHandshake(bytes, offset, length, 1);
  const version = c.u16();
  c.skip(32); // random
  const sessionIdLength = c.u8();
  if (sessionIdLength > 32)
    throw new DecodeError('malformed', D, `session id length ${sessionIdLength}`, c.pos - 1);
  c.skip(sessionIdLength);
  const cipherSuites = u16List(c, 2, 'cipher suites');
  const compressionMethods = u8List(c, 'compression methods');
  const hello: TlsClientHello = {
    recordVersion,
    version,
    supportedVersions: [],
    sessionIdLength,
    cipherSuites,
    compressionMethods,
    extensions: [],
    sni: null,
    alpn: [],
    supportedGroups: [],
    ecPointFormats: [],
    signatureAlgorithms: [],
  };
  if (c.remaining === 0) return hello; // no extensions (SSLv3 / old TLS)
  const extLen = c.u16();
  const ext = c.sub(extLen);
  while (ext.remaining > 0) {
    if (hello.extensions.length >= TLS_MAX_LIST)
      throw new DecodeError('limit', D, 'too many extensions', ext.pos);
    const type = ext.u16();
    const len = ext.u16();
    const v = ext.sub(len);
    hello.extensions.push(type);
    switch (type) {
      case 0x0000: {
        // server_name list: take the first host_name entry.
        if (len === 0) break;
        const listLen = v.u16();
        const list = v.sub(listLen);
        while (list.remaining > 0) {
          const nameType = list.u8();
          const nameLen = list.u16();
          const name = list.bytesView(nameLen);
          if (nameType === 0 && hello.sni === null) hello.sni = latin1Text(name);
        }
        break;
      }
      case 0x000a:
        hello.supportedGroups = u16List(v, 2, 'groups');
        break;
      case 0x000b:
        hello.ecPointFormats = u8List(v, 'point formats');
        break;
      case 0x000d:
        hello.signatureAlgorithms = u16List(v, 2, 'signature algorithms');
        break;
      case 0x0010:
        hello.alpn = alpnList(v);
        break;
      case 0x002b:
        hello.supportedVersions = u16List(v, 1, 'versions');
        break;
      default:
        break;
    }
  }
  return hello;
}

/** Decodes a ServerHello at the start of a TCP payload. Throws only DecodeError. */
export function decodeTlsServerHello(
  bytes: Uint8Array,
  offset = 0,
  length = bytes.length - offset,
): TlsServerHello {
  const { recordVersion, body: c } = firstHandshake(bytes, offset, length, 2);
  const version = c.u16();
  c.skip(32);
  const sidLen = c.u8();
  if (sidLen > 32) throw new DecodeError('malformed', D, `session id length ${sidLen}`, c.pos - 1);
  c.skip(sidLen);
  const cipherSuite = c.u16();
  const compressionMethod = c.u8();
  const hello: TlsServerHello = {
    recordVersion,
    version,
    selectedVersion: null,
    cipherSuite,
    compressionMethod,
    extensions: [],
    alpn: null,
  };
  if (c.remaining === 0) return hello;
  const ext = c.sub(c.u16());
  while (ext.remaining > 0) {
    if (hello.extensions.length >= TLS_MAX_LIST)
      throw new DecodeError('limit', D, 'too many extensions', ext.pos);
    const type = ext.u16();
    const v = ext.sub(ext.u16());
    hello.extensions.push(type);
    if (type === 0x002b && v.remaining >= 2) hello.selectedVersion = v.u16();
    else if (type === 0x0010) hello.alpn = alpnList(v)[0] ?? null;
  }
  return hello;
}

/**
 * Fingerprint inputs repeat (a device sends the same ClientHello shape again and again) and hashing costs far
 * more than a Map lookup, so digests are memoised. Bounded (cleared when full): inputs are attacker-controlled.
 */
const DIGEST_CACHE_MAX = 2048;
const md5Cache = new Map<string, string>();
const sha256Cache = new Map<string, string>();

function memo(cache: Map<string, string>, s: string, f: (s: string) => string): string {
  let h = cache.get(s);
  if (h === undefined) {
    h = f(s);
    if (cache.size >= DIGEST_CACHE_MAX) cache.clear();
    cache.set(s, h);
  }
  return h;
}

const md5Hex = (s: string): string => hash('md5', Buffer.from(s, 'latin1'), 'hex');
const sha256Hex12 = (s: string): string => hash('sha256', Buffer.from(s, 'latin1'), 'hex').slice(0, 12);
const md5 = (s: string): string => memo(md5Cache, s, md5Hex);
const sha256_12 = (s: string): string => memo(sha256Cache, s, sha256Hex12);
const noGrease = (xs: number[]): number[] => xs.filter((x) => !isGrease(x));

/** JA3 (Salesforce): SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats with GREASE removed. */
export function ja3(h: TlsClientHello): Ja3 {
  const s = [
    String(h.version),
    noGrease(h.cipherSuites).join('-'),
    noGrease(h.extensions).join('-'),
    noGrease(h.supportedGroups).join('-'),
    h.ecPointFormats.join('-'),
  ].join(',');
  return { string: s, hash: md5(s) };
}

/**
 * JA3 hash and JA4 fingerprint of a ClientHello, memoised by exactly the fields they are computed from
 * (GREASE dropped where both ignore it; ALPN only by its first and last character, as JA4 reads it): devices
 * repeat the same hello shape, and building the fingerprint strings costs far more than comparing the
 * numbers. Direct-mapped (PRINT_SLOTS entries), verified element by element, so a hit is exact.
 */
export function clientHelloPrints(h: TlsClientHello): { ja3: string; ja4: string } {
  printLen = 0;
  printPut(h.version);
  printList(h.cipherSuites, true);
  printList(h.extensions, true);
  printList(h.supportedGroups, true);
  printList(h.ecPointFormats, false);
  printList(h.supportedVersions, true);
  printList(h.signatureAlgorithms, false);
  printPut(h.sni !== null ? 1 : 0);
  const alpn = h.alpn[0];
  if (alpn === undefined) printPut(-1);
  else {
    printPut(alpn.length);
    printPut(alpn.length ? alpn.charCodeAt(0) : 0);
    printPut(alpn.length ? alpn.charCodeAt(alpn.length - 1) : 0);
  }
  const n = printLen;
  let hash = 0x811c9dc5;
  for (let i = 0; i < n; i++) hash = Math.imul(hash ^ (printScratch[i] as number), 0x01000193);
  const slot = (hash ^ (hash >>> 16)) & (PRINT_SLOTS - 1);
  const key = printKeys[slot];
  if (key && key.length === n) {
    let same = true;
    for (let i = 0; i < n; i++)
      if (key[i] !== printScratch[i]) {
        same = false;
        break;
      }
    const v = printValues[slot];
    if (same && v) return v;
  }
  const v = { ja3: ja3(h).hash, ja4: ja4(h).fingerprint };
  printKeys[slot] = printScratch.slice(0, n);
  printValues[slot] = v;
  return v;
}

const PRINT_SLOTS = 64;
let printScratch = new Int32Array(256);
let printLen = 0;

function printPut(v: number): void {
  if (printLen === printScratch.length) {
    const g = new Int32Array(printScratch.length * 2);
    g.set(printScratch);
    printScratch = g;
  }
  printScratch[printLen++] = v;
}

/** A list as its length (of the values kept) followed by the values. */
function printList(xs: readonly number[], dropGrease: boolean): void {
  const at = printLen;
  printPut(0);
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i] as number;
    if (!dropGrease || !isGrease(x)) printPut(x);
  }
  printScratch[at] = printLen - at - 1;
}
const printKeys: (Int32Array | null)[] = new Array<Int32Array | null>(PRINT_SLOTS).fill(null);
const printValues: ({ ja3: string; ja4: string } | null)[] = new Array<{
  ja3: string;
  ja4: string;
} | null>(PRINT_SLOTS).fill(null);

/** JA3S: SSLVersion,Cipher,SSLExtension. */
export function ja3s(h: TlsServerHello): Ja3 {
  const s = `${h.version},${h.cipherSuite},${h.extensions.join('-')}`;
  return { string: s, hash: md5(s) };
}

const JA4_VERSIONS: Record<number, string> = {
  0x0304: '13',
  0x0303: '12',
  0x0302: '11',
  0x0301: '10',
  0x0300: 's3',
  0x0002: 's2',
  0xfeff: 'd1',
  0xfefd: 'd2',
  0xfefc: 'd3',
};

const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** 4-digit lower-case hex of a 16-bit value. */
const hex4 = (v: number): string => (HEX2[(v >>> 8) & 0xff] as string) + (HEX2[v & 0xff] as string);
/** Fixed-width lower-case hex sorts as its number does, so sort numerically first (no string compares). */
const sortedHex = (xs: number[]): string =>
  xs
    .sort((a, b) => a - b)
    .map(hex4)
    .join(',');
const isAlnum = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

function ja4Alpn(alpn: string | undefined): string {
  if (alpn === undefined || alpn.length === 0) return '00';
  const first = alpn.charCodeAt(0);
  const last = alpn.charCodeAt(alpn.length - 1);
  if (isAlnum(first) && isAlnum(last)) return alpn[0] + alpn.charAt(alpn.length - 1);
  // Non-alphanumeric: first and last characters of the hex representation of the value.
  const hex = Array.from(alpn, (ch) => ch.charCodeAt(0).toString(16).padStart(2, '0')).join('');
  return hex[0] + hex.charAt(hex.length - 1);
}

/**
 * JA4 (FoxIO) for a ClientHello: protocol ('t' TCP, 'q' QUIC, 'd' DTLS), TLS version, SNI d/i, cipher and
 * extension counts, ALPN first+last char, then truncated SHA-256 of the sorted ciphers and of the sorted
 * extensions (without SNI and ALPN) followed by "_" and the signature algorithms in wire order.
 */
export function ja4(h: TlsClientHello, transport: 't' | 'q' | 'd' = 't'): Ja4 {
  const versions = noGrease(h.supportedVersions);
  const v = versions.length ? Math.max(...versions) : h.version;
  const ver = JA4_VERSIONS[v] ?? '00';
  const ciphers = noGrease(h.cipherSuites);
  const exts = noGrease(h.extensions);
  const sni = h.sni !== null || exts.includes(0x0000) ? 'd' : 'i';
  const count = (n: number): string => String(Math.min(n, 99)).padStart(2, '0');
  const a = `${transport}${ver}${sni}${count(ciphers.length)}${count(exts.length)}${ja4Alpn(h.alpn[0])}`;
  const cipherText = sortedHex([...ciphers]);
  const extText = sortedHex(exts.filter((e) => e !== 0x0000 && e !== 0x0010));
  const sigText = h.signatureAlgorithms.map(hex4).join(',');
  const cText = sigText ? `${extText}_${sigText}` : extText;
  const b = ciphers.length ? sha256_12(cipherText) : '000000000000';
  const c = exts.length ? sha256_12(cText) : '000000000000';
  return { fingerprint: `${a}_${b}_${c}`, raw: `${a}_${cipherText}_${cText}` };
}
