/**
 * A memo of app-layer decodes, shared by the flow table (DNS names, SNI, HTTP Host, DHCP/SSDP validation)
 * and the observation extractor (DNS queries, mDNS names, JA3/JA4, User-Agent, DHCP, SSDP), in two levels:
 *
 * - per packet: each decoder has one slot keyed by (frame identity, offset, length, mode), so a payload both
 *   look at is decoded once. The owner calls clear() before every packet (a frame buffer may be reused with
 *   new contents).
 * - by content (DNS, HTTP, DHCP, SSDP): IoT devices repeat themselves (mDNS announcements, SSDP NOTIFYs,
 *   the same DNS questions and HTTP polls), so results are also kept in a small direct-mapped table keyed
 *   by the payload bytes (for DNS without the 2-byte message id, which the summary does not carry) and
 *   verified byte for byte before reuse: a decode depends only on those bytes, so a hit returns exactly what
 *   decoding again would (bounded: MEMO_SLOTS entries per decoder, payloads up to MEMO_MAX_BYTES).
 *
 * A DecodeError is memoised too and rethrown (its message may name the offset of the first sighting). The
 * results are shared: callers must not mutate them.
 */
import { decodeDhcp } from '../wire/dhcp/decode.js';
import type { DhcpMessage } from '../wire/dhcp/types.js';
import { summarizeDns, type DnsSummary } from '../wire/dns/decode.js';
import { DecodeError } from '../wire/errors.js';
import { decodeHttp } from '../wire/http/decode.js';
import type { HttpMessage } from '../wire/http/types.js';
import { decodeSsdp } from '../wire/ssdp/decode.js';
import type { SsdpMessage } from '../wire/ssdp/types.js';
import { decodeTlsClientHello } from '../wire/tls/decode.js';
import type { TlsClientHello } from '../wire/tls/types.js';

/** DNS decode modes: plain UDP, mDNS, DNS over TCP (length-prefixed). */
export const DNS_PLAIN = 0;
export const DNS_MDNS = 1;
export const DNS_TCP = 2;
export type DnsMode = typeof DNS_PLAIN | typeof DNS_MDNS | typeof DNS_TCP;

/** Entries per decoder in the content memo (a power of two) and the largest payload kept there. */
export const MEMO_SLOTS = 256;
export const MEMO_MAX_BYTES = 2048;

/** A DataView of a buffer, kept while the same buffer comes back (capture chunks hold many frames). */
let viewOf: Uint8Array | null = null;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

function dataView(b: Uint8Array): DataView<ArrayBufferLike> {
  if (b !== viewOf) {
    viewOf = b;
    view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  return view;
}

/** 32-bit hash of bytes [o, o + n) read four at a time. */
function contentHash(v: DataView<ArrayBufferLike>, o: number, n: number, mode: number): number {
  let h = Math.imul(n ^ (mode << 16), 0x9e3779b1);
  const e4 = o + (n & ~3);
  let i = o;
  for (; i < e4; i += 4) {
    h = Math.imul(h ^ v.getInt32(i), 0x5bd1e995);
    h ^= h >>> 15;
  }
  for (; i < o + n; i++) h = Math.imul(h ^ v.getUint8(i), 0x5bd1e995);
  return h ^ (h >>> 13);
}

/**
 * Decode results by payload content: direct-mapped by a 32-bit hash, each entry holding its full hash and a
 * copy of its key bytes (compared four bytes at a time). A miss replaces an entry only when the same
 * content missed before (one-off payloads, like most DNS questions, do not evict repeating ones).
 */
class ContentMemo<T> {
  private readonly keys: (DataView | null)[] = new Array<DataView | null>(MEMO_SLOTS).fill(null);
  private readonly hashes = new Int32Array(MEMO_SLOTS);
  private readonly candidates = new Int32Array(MEMO_SLOTS);
  private readonly modes = new Int32Array(MEMO_SLOTS);
  private readonly values: (T | DecodeError | null)[] = new Array<T | DecodeError | null>(MEMO_SLOTS).fill(
    null,
  );
  /** Hash of the last get() miss, for put(). */
  private hash = 0;

  /** The memoised result (or DecodeError) for these bytes, or undefined. */
  get(b: Uint8Array, o: number, n: number, mode: number): T | DecodeError | undefined {
    const v = dataView(b);
    const h = contentHash(v, o, n, mode);
    this.hash = h;
    const i = h & (MEMO_SLOTS - 1);
    const k = this.keys[i];
    if (k === null || k === undefined || this.hashes[i] !== h || k.byteLength !== n || this.modes[i] !== mode)
      return undefined;
    const e4 = n & ~3;
    let j = 0;
    for (; j < e4; j += 4) if (k.getInt32(j) !== v.getInt32(o + j)) return undefined;
    for (; j < n; j++) if (k.getUint8(j) !== v.getUint8(o + j)) return undefined;
    return this.values[i] ?? undefined;
  }

  /** Stores the result for the bytes of the last get() miss (see the class comment). */
  put(b: Uint8Array, o: number, n: number, mode: number, v: T | DecodeError): void {
    const h = this.hash;
    const i = h & (MEMO_SLOTS - 1);
    if (this.keys[i] !== null && this.candidates[i] !== h) {
      this.candidates[i] = h;
      return;
    }
    const copy = b.slice(o, o + n);
    this.keys[i] = new DataView(copy.buffer);
    this.hashes[i] = h;
    this.modes[i] = mode;
    this.values[i] = v;
  }
}

class Slot<T> {
  frame: Uint8Array | null = null;
  off = -1;
  len = -1;
  mode = -1;
  value: T | null = null;
  error: DecodeError | null = null;

  hit(frame: Uint8Array, off: number, len: number, mode: number): boolean {
    return this.frame === frame && this.off === off && this.len === len && this.mode === mode;
  }

  get(): T {
    if (this.error) throw this.error;
    return this.value as T;
  }

  /** Claims the slot for a new key (call the decoder next, then ok() or fail()). */
  key(frame: Uint8Array, off: number, len: number, mode: number): void {
    this.frame = frame;
    this.off = off;
    this.len = len;
    this.mode = mode;
    this.value = null;
    this.error = null;
  }

  ok(v: T): T {
    this.value = v;
    return v;
  }

  /** Remembers a DecodeError (anything else is not cached) and returns it for rethrowing. */
  fail(e: unknown): unknown {
    if (e instanceof DecodeError) this.error = e;
    else this.frame = null;
    return e;
  }

  clear(): void {
    this.frame = null;
    this.value = null;
    this.error = null;
  }
}

type Decoder<T> = (b: Uint8Array, off: number, len: number, mode: number) => T;

const tlsDecoder: Decoder<TlsClientHello> = (b, o, l) => decodeTlsClientHello(b, o, l);
const httpDecoder: Decoder<HttpMessage> = (b, o, l) => decodeHttp(b, o, l);
const dhcpDecoder: Decoder<DhcpMessage> = (b, o, l) => decodeDhcp(b, o, l);
const ssdpDecoder: Decoder<SsdpMessage> = (b, o, l) => decodeSsdp(b, o, l);
const dnsDecoder: Decoder<DnsSummary> = (b, o, l, m) => decodeDnsMode(b, o, l, m as DnsMode);

export class PayloadCache {
  private readonly dnsSlot = new Slot<DnsSummary>();
  private readonly tlsSlot = new Slot<TlsClientHello>();
  private readonly httpSlot = new Slot<HttpMessage>();
  private readonly dhcpSlot = new Slot<DhcpMessage>();
  private readonly ssdpSlot = new Slot<SsdpMessage>();
  private readonly dnsMemo = new ContentMemo<DnsSummary>();
  private readonly httpMemo = new ContentMemo<HttpMessage>();
  private readonly dhcpMemo = new ContentMemo<DhcpMessage>();
  private readonly ssdpMemo = new ContentMemo<SsdpMessage>();

  /** Forget everything (call before each packet). */
  clear(): void {
    if (this.dnsSlot.frame) this.dnsSlot.clear();
    if (this.tlsSlot.frame) this.tlsSlot.clear();
    if (this.httpSlot.frame) this.httpSlot.clear();
    if (this.dhcpSlot.frame) this.dhcpSlot.clear();
    if (this.ssdpSlot.frame) this.ssdpSlot.clear();
  }

  dns(frame: Uint8Array, off: number, len: number, mode: DnsMode): DnsSummary {
    // The summary never carries the message id: key plain and mDNS messages without it.
    const skip = mode === DNS_TCP ? 0 : 2;
    return run(this.dnsSlot, frame, off, len, mode, dnsDecoder, this.dnsMemo, skip);
  }

  tlsClientHello(frame: Uint8Array, off: number, len: number): TlsClientHello {
    return run(this.tlsSlot, frame, off, len, 0, tlsDecoder);
  }

  http(frame: Uint8Array, off: number, len: number): HttpMessage {
    return run(this.httpSlot, frame, off, len, 0, httpDecoder, this.httpMemo, 0);
  }

  dhcp(frame: Uint8Array, off: number, len: number): DhcpMessage {
    return run(this.dhcpSlot, frame, off, len, 0, dhcpDecoder, this.dhcpMemo, 0);
  }

  ssdp(frame: Uint8Array, off: number, len: number): SsdpMessage {
    return run(this.ssdpSlot, frame, off, len, 0, ssdpDecoder, this.ssdpMemo, 0);
  }
}

function run<T>(
  s: Slot<T>,
  frame: Uint8Array,
  off: number,
  len: number,
  mode: number,
  d: Decoder<T>,
  memo: ContentMemo<T> | null = null,
  skip = 0,
): T {
  if (s.hit(frame, off, len, mode)) return s.get();
  s.key(frame, off, len, mode);
  const n = Math.min(len, frame.length - off) - skip;
  if (memo === null || n <= 0 || n > MEMO_MAX_BYTES || off < 0) {
    try {
      return s.ok(d(frame, off, len, mode));
    } catch (e) {
      throw s.fail(e);
    }
  }
  const k = off + skip;
  const m = memo.get(frame, k, n, mode);
  if (m !== undefined) {
    if (m instanceof DecodeError) throw s.fail(m);
    return s.ok(m);
  }
  let v: T;
  try {
    v = d(frame, off, len, mode);
  } catch (e) {
    if (e instanceof DecodeError) memo.put(frame, k, n, mode, e);
    throw s.fail(e);
  }
  memo.put(frame, k, n, mode, v);
  return s.ok(v);
}

const MDNS_OPTS = { mdns: true } as const;
const TCP_OPTS = { tcp: true } as const;

/** summarizeDns for a mode, without a cache. */
export function decodeDnsMode(frame: Uint8Array, off: number, len: number, mode: DnsMode): DnsSummary {
  return mode === DNS_MDNS
    ? summarizeDns(frame, off, len, MDNS_OPTS)
    : mode === DNS_TCP
      ? summarizeDns(frame, off, len, TCP_OPTS)
      : summarizeDns(frame, off, len);
}
