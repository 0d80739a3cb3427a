/**
 * HTTP/1.x response bodies, for the few responses worth reading (device descriptions): a cheap scan of a
 * response head for what reassembly needs (no allocation: fields of a caller-owned object), and a bounded
 * de-chunker for Transfer-Encoding: chunked.
 */
import { HTTP_MAX_HEADERS, HTTP_MAX_LINE } from './headers.js';

/** Filled by scanHttpResponseHead. */
export class HttpResponseHead {
  /** Bytes of the head including the blank line: the body starts here. */
  headLength = -1;
  status = 0;
  /** Content-Length, -1 when absent or invalid. */
  contentLength = -1;
  /** Transfer-Encoding names "chunked". */
  chunked = false;
  /** Content-Type names an XML type (text/xml, application/xml, application/soap+xml, …). */
  xml = false;
  /** Content-Encoding is present and not "identity" (a compressed body). */
  encoded = false;
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;
const lower = (c: number): number => (c >= 0x41 && c <= 0x5a ? c + 0x20 : c);

/** If the line [p, le) is header `name` (lower case), the index just after its colon, else -1. */
function headerName(b: Uint8Array, p: number, le: number, name: string): number {
  const n = name.length;
  if (le - p <= n) return -1;
  for (let i = 0; i < n; i++) if (lower(b[p + i] ?? 0) !== name.charCodeAt(i)) return -1;
  let q = p + n;
  while (q < le && (b[q] === 0x20 || b[q] === 0x09)) q++;
  return q < le && b[q] === 0x3a ? q + 1 : -1;
}

/** Does [p, le) contain `pat` (lower-case ASCII), case-insensitively? */
function containsCi(b: Uint8Array, p: number, le: number, pat: string): boolean {
  const n = pat.length;
  outer: for (let i = p; i + n <= le; i++) {
    for (let j = 0; j < n; j++) if (lower(b[i + j] ?? 0) !== pat.charCodeAt(j)) continue outer;
    return true;
  }
  return false;
}

function skipSpace(b: Uint8Array, p: number, le: number): number {
  let q = p;
  while (q < le && (b[q] === 0x20 || b[q] === 0x09)) q++;
  return q;
}

/**
 * Reads an HTTP/1.x response head ("HTTP/d.d NNN …" then header lines up to a blank line) at the start of
 * the bytes into `out`. False when the bytes are not a response head or the head does not end inside them
 * (or breaks the header caps of decodeHttp); `out` is then reset.
 */
export function scanHttpResponseHead(
  b: Uint8Array,
  offset: number,
  length: number,
  out: HttpResponseHead,
): boolean {
  out.headLength = -1;
  out.status = 0;
  out.contentLength = -1;
  out.chunked = false;
  out.xml = false;
  out.encoded = false;
  const end = Math.min(b.length, offset + Math.max(0, length));
  const o = offset;
  if (
    end - o < 12 ||
    b[o] !== 0x48 ||
    b[o + 1] !== 0x54 ||
    b[o + 2] !== 0x54 ||
    b[o + 3] !== 0x50 ||
    b[o + 4] !== 0x2f ||
    !isDigit(b[o + 5]) ||
    b[o + 6] !== 0x2e ||
    !isDigit(b[o + 7]) ||
    b[o + 8] !== 0x20 ||
    !isDigit(b[o + 9]) ||
    !isDigit(b[o + 10]) ||
    !isDigit(b[o + 11])
  )
    return false;
  const status = ((b[o + 9] ?? 0) - 0x30) * 100 + ((b[o + 10] ?? 0) - 0x30) * 10 + (b[o + 11] ?? 0) - 0x30;
  let p = o;
  let lines = 0;
  for (;;) {
    let e = p;
    const lim = Math.min(end, p + HTTP_MAX_LINE);
    while (e < lim && b[e] !== 0x0a) e++;
    if (e >= lim) break; // head not complete here (or a line over the cap)
    let le = e;
    if (le > p && b[le - 1] === 0x0d) le--;
    if (le === p) {
      out.headLength = e + 1 - o;
      out.status = status;
      return true;
    }
    if (lines > 0) {
      let v = headerName(b, p, le, 'content-type');
      if (v >= 0) out.xml = containsCi(b, v, le, 'xml');
      else if ((v = headerName(b, p, le, 'content-length')) >= 0) {
        let q = skipSpace(b, v, le);
        let n = 0;
        let digits = 0;
        while (q < le && isDigit(b[q]) && digits < 10) {
          n = n * 10 + (b[q] ?? 0) - 0x30;
          q++;
          digits++;
        }
        q = skipSpace(b, q, le);
        out.contentLength = digits > 0 && q === le ? n : -1;
      } else if ((v = headerName(b, p, le, 'transfer-encoding')) >= 0)
        out.chunked = containsCi(b, v, le, 'chunked');
      else if ((v = headerName(b, p, le, 'content-encoding')) >= 0) {
        const s = skipSpace(b, v, le);
        out.encoded = s < le && !containsCi(b, s, le, 'identity');
      }
    }
    if (++lines > HTTP_MAX_HEADERS + 1) break;
    p = e + 1;
  }
  out.contentLength = -1;
  out.chunked = false;
  out.xml = false;
  out.encoded = false;
  return false;
}

/**
 * De-chunks a Transfer-Encoding: chunked body held in [offset, offset + length), keeping at most `max`
 * bytes of data. `done` is true once the last (zero-size) chunk was read, or when the framing is broken or
 * `max` was reached (nothing more worth waiting for); false when the bytes end inside the body.
 */
export function dechunk(
  b: Uint8Array,
  offset: number,
  length: number,
  max: number,
): { body: Uint8Array; done: boolean } {
  const end = Math.min(b.length, offset + Math.max(0, length));
  const out = new Uint8Array(Math.max(0, Math.min(max, end - offset)));
  let n = 0;
  let p = offset;
  for (;;) {
    // Chunk size line: hex digits, optional extensions, CRLF.
    let q = p;
    let size = 0;
    let digits = 0;
    for (;;) {
      const c = b[q];
      if (q >= end || c === undefined) return { body: out.subarray(0, n), done: false };
      const v =
        c >= 0x30 && c <= 0x39
          ? c - 0x30
          : c >= 0x61 && c <= 0x66
            ? c - 0x57
            : c >= 0x41 && c <= 0x46
              ? c - 0x37
              : -1;
      if (v < 0) break;
      if (++digits > 7) return { body: out.subarray(0, n), done: true }; // over 256 MB: broken
      size = size * 16 + v;
      q++;
    }
    if (digits === 0) return { body: out.subarray(0, n), done: true };
    let lf = q;
    const lim = Math.min(end, q + 256);
    while (lf < lim && b[lf] !== 0x0a) lf++;
    if (lf >= end) return { body: out.subarray(0, n), done: false };
    if (b[lf] !== 0x0a) return { body: out.subarray(0, n), done: true };
    if (size === 0) return { body: out.subarray(0, n), done: true };
    const dataStart = lf + 1;
    const take = Math.min(size, end - dataStart, out.length - n);
    if (take > 0) out.set(b.subarray(dataStart, dataStart + take), n);
    n += Math.max(0, take);
    if (n >= out.length && out.length >= max) return { body: out.subarray(0, n), done: true };
    if (dataStart + size > end) return { body: out.subarray(0, n), done: false };
    p = dataStart + size;
    // CRLF after the data.
    if (p < end && b[p] === 0x0d) p++;
    if (p < end && b[p] === 0x0a) p++;
    else if (p < end) return { body: out.subarray(0, n), done: true };
  }
}
