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

/** Line bounds (start, end) of the block being read: at most HTTP_MAX_HEADERS + 1 lines are kept. */
const bounds = new Int32Array(2 * (HTTP_MAX_HEADERS + 2));

/**
 * Splits an HTTP/1.x-style message into its start line and headers. Lines end in CRLF or bare LF; obsolete
 * line folding is appended to the previous header. A block that runs out of bytes is returned with
 * complete=false (incomplete, not an error); values longer than HTTP_MAX_VALUE are cut.
 */
export function readHeaderBlock(b: Uint8Array, offset: number, end: number, decoder: string): HeaderBlock {
  // Find the lines first (bytes only), then decode the whole span once and cut the lines out of it: one
  // text decode per block instead of one per line. (Latin-1 decoding is one UTF-16 unit per byte, so byte
  // and string positions agree.)
  let p = offset;
  let n = 0;
  let complete = false;
  while (p < end) {
    const start = p;
    let e = p;
    const lim = Math.min(end, p + HTTP_MAX_LINE);
    while (e < lim && b[e] !== 0x0a) e++;
    if (e >= end) {
      if (e - p >= HTTP_MAX_LINE) throw new DecodeError('limit', decoder, 'header line too long', p);
      // A final line without newline: keep it only if it looks finished? Treat as cut and stop.
      if (n === 0 && e > p) {
        bounds[n++] = p;
        bounds[n++] = b[e - 1] === 0x0d ? e - 1 : e;
      }
      break;
    }
    if (b[e] !== 0x0a) throw new DecodeError('limit', decoder, 'header line too long', p);
    let le = e;
    if (le > p && b[le - 1] === 0x0d) le--;
    p = e + 1;
    if (le === start) {
      if (n === 0) continue; // tolerate leading empty lines
      complete = true;
      break;
    }
    if (n / 2 > HTTP_MAX_HEADERS) throw new DecodeError('limit', decoder, 'too many header lines', p);
    bounds[n++] = start;
    bounds[n++] = le;
  }
  if (n === 0) throw new DecodeError('truncated', decoder, 'no start line', offset);
  const base = bounds[0] ?? 0;
  const text = latin1Text(b.subarray(base, bounds[n - 1] ?? base));
  const lineAt = (i: number): string =>
    text.slice((bounds[2 * i] ?? 0) - base, (bounds[2 * i + 1] ?? 0) - base);
  const startLine = lineAt(0);
  const headers: HttpHeader[] = [];
  for (let i = 1; i < n / 2; i++) {
    const line = lineAt(i);
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
