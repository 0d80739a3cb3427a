import { latin1Text } from '../cursor.js';
import { DecodeError } from '../errors.js';
import type { HttpHeader } from './types.js';

/** Hard caps for HTTP-like header blocks (HTTP over TCP and SSDP over UDP). */
export const HTTP_MAX_LINE = 8192;
export const HTTP_MAX_HEADERS = 100;
export const HTTP_MAX_VALUE = 2048;

export interface HeaderBlock {
  startLine: string;
  headers: HttpHeader[];
  complete: boolean;
}

/**
 * Splits an HTTP/1.x-style message into its start line and headers. Lines end in CRLF or bare LF; obsolete
 * line folding is appended to the previous header. A block that runs out of bytes is returned with
 * complete=false (incomplete, not an error); values longer than HTTP_MAX_VALUE are cut.
 */
export function readHeaderBlock(b: Uint8Array, offset: number, end: number, decoder: string): HeaderBlock {
  let p = offset;
  const lines: string[] = [];
  let complete = false;
  while (p < end) {
    let e = p;
    const lim = Math.min(end, p + HTTP_MAX_LINE);
    while (e < lim && b[e] !== 0x0a) e++;
    if (e >= end) {
      if (e - p >= HTTP_MAX_LINE) throw new DecodeError('limit', decoder, 'header line too long', p);
      // A final line without newline: keep it only if it looks finished? Treat as cut and stop.
      if (lines.length === 0 && e > p) lines.push(latin1Text(b.subarray(p, e)).replace(/\r$/, ''));
      break;
    }
    if (b[e] !== 0x0a) throw new DecodeError('limit', decoder, 'header line too long', p);
    let le = e;
    if (le > p && b[le - 1] === 0x0d) le--;
    const line = latin1Text(b.subarray(p, le));
    p = e + 1;
    if (line === '') {
      if (lines.length === 0) continue; // tolerate leading empty lines
      complete = true;
      break;
    }
    if (lines.length > HTTP_MAX_HEADERS) throw new DecodeError('limit', decoder, 'too many header lines', p);
    lines.push(line);
  }
  const startLine = lines[0];
  if (startLine === undefined) throw new DecodeError('truncated', decoder, 'no start line', offset);
  const headers: HttpHeader[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const last = headers[headers.length - 1];
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      last.value = (last.value + ' ' + line.trim()).slice(0, HTTP_MAX_VALUE);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue; // not a header; ignore like most parsers
    headers.push({
      name: line.slice(0, colon).trim().toLowerCase(),
      value: line
        .slice(colon + 1)
        .trim()
        .slice(0, HTTP_MAX_VALUE),
    });
  }
  return { startLine, headers, complete };
}

export function headerValue(headers: HttpHeader[], name: string): string | null {
  for (const h of headers) if (h.name === name) return h.value;
  return null;
}
