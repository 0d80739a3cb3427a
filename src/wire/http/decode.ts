import { Buffer } from 'node:buffer';
import { DecodeError } from '../errors.js';
import { HTTP_MAX_LINE, headerValue, readHeaderBlock } from './headers.js';
import type { HttpMessage, HttpRequest, HttpResponse } from './types.js';

const D = 'http';
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;
const VERSION = /^HTTP\/(\d\.\d)$/;

/** Known request methods: a quick check for "is this HTTP?" on the first bytes of a TCP payload. */
const METHODS = ['GET ', 'POST ', 'HEAD ', 'PUT ', 'DELETE ', 'OPTIONS ', 'CONNECT ', 'PATCH ', 'TRACE '];

export function looksLikeHttpRequest(b: Uint8Array, offset = 0, length = b.length - offset): boolean {
  // Every method starts with one of C D G H O P T: most payloads are rejected by their first byte.
  switch (b[offset]) {
    case 0x43: // C
    case 0x44: // D
    case 0x47: // G
    case 0x48: // H
    case 0x4f: // O
    case 0x50: // P
    case 0x54: // T
      break;
    default:
      return false;
  }
  outer: for (let k = 0; k < METHODS.length; k++) {
    const m = METHODS[k] as string;
    if (length < m.length) continue;
    for (let i = 0; i < m.length; i++) if (b[offset + i] !== m.charCodeAt(i)) continue outer;
    return true;
  }
  return false;
}

export function looksLikeHttpResponse(b: Uint8Array, offset = 0, length = b.length - offset): boolean {
  const p = 'HTTP/1.';
  if (length < p.length) return false;
  for (let i = 0; i < p.length; i++) if (b[offset + i] !== p.charCodeAt(i)) return false;
  return true;
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;

/** Bytes [p, p+8) are "HTTP/d.d". */
function isVersionAt(b: Uint8Array, p: number): boolean {
  return (
    b[p] === 0x48 &&
    b[p + 1] === 0x54 &&
    b[p + 2] === 0x54 &&
    b[p + 3] === 0x50 &&
    b[p + 4] === 0x2f &&
    isDigit(b[p + 5]) &&
    b[p + 6] === 0x2e &&
    isDigit(b[p + 7])
  );
}

/** A byte of an HTTP token (RFC 9110 tchar), as the TOKEN pattern. */
function isTchar(c: number): boolean {
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return true;
  switch (c) {
    case 0x21: // !
    case 0x23: // #
    case 0x24: // $
    case 0x25: // %
    case 0x26: // &
    case 0x27: // '
    case 0x2a: // *
    case 0x2b: // +
    case 0x2d: // -
    case 0x2e: // .
    case 0x5e: // ^
    case 0x5f: // _
    case 0x60: // `
    case 0x7c: // |
    case 0x7e: // ~
      return true;
    default:
      return false;
  }
}

/**
 * A cheap, allocation-free look at the start line only: false when decodeHttp is certain to throw (no start
 * line, a first line over HTTP_MAX_LINE, or a start line that is neither a request line nor a status line).
 * True does not promise success (the header block may still hit a limit). Lets a caller that only counts
 * failures skip decoding segments that are not an HTTP head (bodies, continuations).
 */
export function httpStartLineOk(bytes: Uint8Array, offset = 0, length = bytes.length - offset): boolean {
  const end = Math.min(bytes.length, offset + Math.max(0, length));
  let p = offset;
  if (p >= 0 && p < end) {
    // The first line starts here unless this is a line break, and a line starting with neither a token
    // character (every method, and the "H" of a status line) can be neither kind of start line: this
    // rejects most segments of a binary body without looking for the end of their first "line".
    const c = bytes[p] ?? 0;
    if (c !== 0x0d && c !== 0x0a && !isTchar(c)) return false;
  }
  // As readHeaderBlock: skip empty lines, stop at the first line.
  let ls = -1;
  let le = -1;
  while (p < end) {
    let e = p;
    const lim = Math.min(end, p + HTTP_MAX_LINE);
    while (e < lim && bytes[e] !== 0x0a) e++;
    if (e >= end) {
      if (e - p >= HTTP_MAX_LINE) return false;
      ls = p;
      le = e > p && bytes[e - 1] === 0x0d ? e - 1 : e;
      break;
    }
    if (bytes[e] !== 0x0a) return false;
    let l = e;
    if (l > p && bytes[l - 1] === 0x0d) l--;
    if (l > p) {
      ls = p;
      le = l;
      break;
    }
    p = e + 1;
  }
  if (ls < 0) return false;
  // Status line: "HTTP/d.d" SP 3DIGIT [SP reason].
  if (le - ls >= 5 && bytes[ls] === 0x48 && bytes[ls + 1] === 0x54 && bytes[ls + 2] === 0x54) {
    if (bytes[ls + 3] === 0x50 && bytes[ls + 4] === 0x2f) {
      return (
        le - ls >= 12 &&
        isVersionAt(bytes, ls) &&
        bytes[ls + 8] === 0x20 &&
        isDigit(bytes[ls + 9]) &&
        isDigit(bytes[ls + 10]) &&
        isDigit(bytes[ls + 11]) &&
        (le - ls === 12 || bytes[ls + 12] === 0x20)
      );
    }
  }
  // Request line: exactly three space-separated parts: token (1–32), non-empty target, "HTTP/d.d".
  let q = ls;
  while (q < le && bytes[q] !== 0x20) {
    if (!isTchar(bytes[q] ?? 0)) return false;
    q++;
  }
  const methodLen = q - ls;
  if (methodLen < 1 || methodLen > 32 || q >= le) return false;
  const ts = q + 1;
  let t = ts;
  while (t < le && bytes[t] !== 0x20) t++;
  if (t === ts || t >= le) return false;
  return le - (t + 1) === 8 && isVersionAt(bytes, t + 1);
}

/**
 * Decodes an HTTP/1.x request or response head from the start of a TCP payload. A header block cut by the
 * end of the segment is returned with headersComplete=false. Throws only DecodeError.
 */
export function decodeHttp(bytes: Uint8Array, offset = 0, length = bytes.length - offset): HttpMessage {
  const end = Math.min(bytes.length, offset + Math.max(0, length));
  const block = readHeaderBlock(bytes, offset, end, D);
  const parts = block.startLine.split(' ');
  if (block.startLine.startsWith('HTTP/')) {
    const vm = VERSION.exec(parts[0] ?? '');
    const status = Number(parts[1]);
    if (!vm || !/^\d{3}$/.test(parts[1] ?? ''))
      throw new DecodeError('malformed', D, 'bad status line', offset);
    const res: HttpResponse = {
      kind: 'response',
      version: vm[1] ?? '',
      status,
      reason: parts.slice(2).join(' '),
      server: headerValue(block.headers, 'server'),
      headers: block.headers,
      headersComplete: block.complete,
    };
    return res;
  }
  if (parts.length !== 3) throw new DecodeError('malformed', D, 'bad request line', offset);
  const [method = '', target = '', ver = ''] = parts;
  const vm = VERSION.exec(ver);
  if (!TOKEN.test(method) || !vm || target.length === 0)
    throw new DecodeError('malformed', D, 'bad request line', offset);
  let basicAuthUser: string | null = null;
  let basicAuthPasswordPresent = false;
  let authorizationPresent = false;
  for (const h of block.headers) {
    if (h.name !== 'authorization') continue;
    authorizationPresent = true;
    const m = /^basic\s+([A-Za-z0-9+/=]+)$/i.exec(h.value);
    if (m && basicAuthUser === null) {
      const decoded = Buffer.from(m[1] ?? '', 'base64').toString('latin1');
      const colon = decoded.indexOf(':');
      basicAuthUser = colon >= 0 ? decoded.slice(0, colon) : decoded;
      basicAuthPasswordPresent = colon >= 0 && colon < decoded.length - 1;
    }
    h.value = '[redacted]';
  }
  const req: HttpRequest = {
    kind: 'request',
    method,
    target,
    version: vm[1] ?? '',
    host: headerValue(block.headers, 'host'),
    userAgent: headerValue(block.headers, 'user-agent'),
    authorizationPresent,
    basicAuthUser,
    basicAuthPasswordPresent,
    headers: block.headers,
    headersComplete: block.complete,
  };
  return req;
}
