import { DecodeError } from '../errors.js';
import { headerValue, readHeaderBlock } from '../http/headers.js';
import type { SsdpKind, SsdpMessage } from './types.js';

const D = 'ssdp';

/**
 * Decodes an SSDP datagram: "M-SEARCH * HTTP/1.1", "NOTIFY * HTTP/1.1" or "HTTP/1.1 200 OK" and its headers
 * (names matched case-insensitively; header count and length capped). Throws only DecodeError.
 */
export function decodeSsdp(bytes: Uint8Array, offset = 0, length = bytes.length - offset): SsdpMessage {
  const end = Math.min(bytes.length, offset + Math.max(0, length));
  const block = readHeaderBlock(bytes, offset, end, D);
  const parts = block.startLine.split(' ');
  let kind: SsdpKind;
  let method: string | null = null;
  let status: number | null = null;
  if (/^HTTP\/\d\.\d$/i.test(parts[0] ?? '')) {
    if (!/^\d{3}$/.test(parts[1] ?? '')) throw new DecodeError('malformed', D, 'bad status line', offset);
    kind = 'response';
    status = Number(parts[1]);
  } else {
    if (
      parts.length < 3 ||
      !/^HTTP\/\d\.\d$/i.test(parts[2] ?? '') ||
      !/^[A-Z-]{1,32}$/i.test(parts[0] ?? '')
    ) {
      throw new DecodeError('malformed', D, 'bad start line', offset);
    }
    method = (parts[0] ?? '').toUpperCase();
    kind = method === 'M-SEARCH' ? 'msearch' : method === 'NOTIFY' ? 'notify' : 'other';
  }
  const h = block.headers;
  return {
    kind,
    method,
    status,
    server: headerValue(h, 'server'),
    usn: headerValue(h, 'usn'),
    nt: headerValue(h, 'nt'),
    nts: headerValue(h, 'nts'),
    st: headerValue(h, 'st'),
    location: headerValue(h, 'location'),
    userAgent: headerValue(h, 'user-agent'),
    man: headerValue(h, 'man'),
    cacheControl: headerValue(h, 'cache-control'),
    headers: h,
  };
}
