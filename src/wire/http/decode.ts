import { Buffer } from 'node:buffer';
import { DecodeError } from '../errors.js';
import { headerValue, readHeaderBlock } from './headers.js';
import type { HttpMessage, HttpRequest, HttpResponse } from './types.js';

const D = 'http';
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;
const VERSION = /^HTTP\/(\d\.\d)$/;

/** Known request methods: a quick check for "is this HTTP?" on the first bytes of a TCP payload. */
const METHODS = ['GET ', 'POST ', 'HEAD ', 'PUT ', 'DELETE ', 'OPTIONS ', 'CONNECT ', 'PATCH ', 'TRACE '];

export function looksLikeHttpRequest(b: Uint8Array, offset = 0, length = b.length - offset): boolean {
  outer: for (const m of METHODS) {
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
