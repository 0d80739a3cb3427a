/**
 * A memo of app-layer decodes, shared by the flow table (DNS names, SNI, HTTP Host, DHCP/SSDP validation)
 * and the observation extractor (DNS queries, mDNS names, JA3/JA4, User-Agent, DHCP, SSDP), in two levels:
 *
 * - per packet: each decoder has one slot keyed by (frame identity, offset, length, mode), so a payload both
 *   look at is decoded once. The owner calls clear() before every packet (a frame buffer may be reused with
 *   new contents).
 * - by content (DNS, HTTP, DHCP, SSDP): IoT devices repeat themselves (mDNS announcements, SSDP NOTIFYs,
 *   the same DNS questions and HTTP polls), so results are also kept in a direct-mapped table keyed
 *   by the payload bytes (for DNS without the 2-byte message id, which the summary does not carry) and
 *   verified byte for byte before reuse: a decode depends only on those bytes, so a hit returns exactly what
 *   decoding again would (bounded: MEMO_SLOTS entries per decoder, payloads up to MEMO_MAX_BYTES, at most
 *   MEMO_BUDGET_BYTES of entries).
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

/**
 * Entries per decoder in the content memo (a power of two), the largest payload kept there and the most
 * bytes (entries with their keys) one memo holds. Real IoT captures repeat a few thousand distinct DNS,
 * SSDP and DHCP payloads; with fewer slots they evict each other (on the bench capture a direct-mapped
 * table with 256 slots missed 31% of DNS lookups, 8192 slots 8%, 16384 slots 5%). The byte budget bounds
 * memory when every payload is new (a flood of random ones).
 */
export const MEMO_SLOTS = 16384;
export const MEMO_MAX_BYTES = 2048;
export const MEMO_BUDGET_BYTES = 4 * 1024 * 1024;

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

/**
 * 32-bit hash of bytes [o, o + n). Four lanes each take every fourth word: one lane's multiply-xorshift
 * chain waits for the previous step (several cycles a word), four independent ones overlap. Words are read
 * little-endian (no byte swap): any fixed order hashes as well.
 */
function contentHash(v: DataView<ArrayBufferLike>, o: number, n: number, mode: number): number {
  let h0 = Math.imul(n ^ (mode << 16), 0x9e3779b1);
  let h1 = 0x85ebca6b;
  let h2 = 0xc2b2ae35;
  let h3 = 0x27d4eb2f;
  const e16 = o + (n & ~15);
  let i = o;
  for (; i < e16; i += 16) {
    h0 = Math.imul(h0 ^ v.getInt32(i, true), 0x5bd1e995);
    h1 = Math.imul(h1 ^ v.getInt32(i + 4, true), 0x5bd1e995);
    h2 = Math.imul(h2 ^ v.getInt32(i + 8, true), 0x5bd1e995);
    h3 = Math.imul(h3 ^ v.getInt32(i + 12, true), 0x5bd1e995);
    h0 ^= h0 >>> 15;
    h1 ^= h1 >>> 15;
    h2 ^= h2 >>> 15;
    h3 ^= h3 >>> 15;
  }
  let h = h0 ^ Math.imul(h1, 0x2c1b3c6d) ^ Math.imul(h2, 0x297a2d39) ^ Math.imul(h3, 0x1b873593);
  const e4 = o + (n & ~3);
  for (; i < e4; i += 4) {
    h = Math.imul(h ^ v.getInt32(i, true), 0x5bd1e995);
    h ^= h >>> 15;
  }
  for (; i < o + n; i++) h = Math.imul(h ^ v.getUint8(i), 0x5bd1e995);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return h ^ (h >>> 13);
}

/**
 * Do bytes [ao, ao + n) of `a` equal bytes [bo, bo + n) of `b`? Eight bytes per step, read as doubles: equal
 * doubles have equal bits except +0 and -0 (equal, different bits), and a NaN is unequal even to its own
 * bits, so a step whose doubles are zero or differ compares its two words instead (exact either way). Half
 * the steps of comparing words: a memo hit compares its whole payload (a few hundred bytes).
 */
export function sameBytes(
  a: DataView<ArrayBufferLike>,
  ao: number,
  b: DataView<ArrayBufferLike>,
  bo: number,
  n: number,
): boolean {
  const e8 = n & ~7;
  let j = 0;
  // Little-endian reads, like contentHash: equality does not depend on the order, and there is no swap.
  for (; j < e8; j += 8) {
    const x = a.getFloat64(ao + j, true);
    if (x === b.getFloat64(bo + j, true) && x !== 0) continue;
    if (a.getInt32(ao + j, true) !== b.getInt32(bo + j, true)) return false;
    if (a.getInt32(ao + j + 4, true) !== b.getInt32(bo + j + 4, true)) return false;
  }
  for (; j < n; j++) if (a.getUint8(ao + j) !== b.getUint8(bo + j)) return false;
  return true;
}

/**
 * An entry in a ContentMemo arena, at a 4-aligned offset: its hash, its mode (with MODE_ERROR when it holds
 * a DecodeError, tested without an instanceof per hit) and key length as int32, then the key bytes, padded
 * to a multiple of 4.
 */
const E_HASH = 0;
const E_MODE = 4;
const E_LEN = 8;
const E_KEY = 12;
const MODE_ERROR = 0x10000;
/** First size of a memo's arena (it doubles up to MEMO_BUDGET_BYTES). */
const ARENA_START = 64 * 1024;

/**
 * Decode results by payload content: direct-mapped by a 32-bit hash, each entry holding its full hash and a
 * copy of its key bytes (compared four bytes at a time). A miss replaces an entry only when the same
 * content missed before (one-off payloads, like most DNS questions, do not evict repeating ones).
 *
 * Entries live in one arena per memo, each header next to its key bytes: a hit reads one place (the
 * memory it compares against is mostly not in cache any more), and there is no ArrayBuffer per key to
 * allocate and for the GC to track. Replaced entries leave their bytes behind; once the arena holds
 * MEMO_BUDGET_BYTES the memo starts afresh, empty. The tables are allocated on the first store: a cache
 * that never sees a repeatable payload costs nothing.
 */
class ContentMemo<T> {
  /** Per slot: the arena offset of its entry, -1 when empty. */
  private slots: Int32Array | null = null;
  private values: (T | DecodeError | null)[] = [];
  private candidates: Int32Array | null = null;
  private arena = new Uint8Array(0);
  private arenaView = new DataView(this.arena.buffer);
  private used = 0;
  /** Hash of the last get() miss, for put(). */
  private hash = 0;
  /** The last get() hit returned a DecodeError. */
  hitError = false;

  /** The memoised result (or DecodeError, see hitError) for these bytes, or undefined. */
  get(b: Uint8Array, o: number, n: number, mode: number): T | DecodeError | undefined {
    const v = dataView(b);
    const h = contentHash(v, o, n, mode);
    this.hash = h;
    const slots = this.slots;
    if (slots === null) return undefined;
    const i = h & (MEMO_SLOTS - 1);
    const e = slots[i] ?? -1;
    if (e < 0) return undefined;
    const k = this.arenaView;
    const md = k.getInt32(e + E_MODE);
    if (k.getInt32(e + E_HASH) !== h || k.getInt32(e + E_LEN) !== n || (md & ~MODE_ERROR) !== mode)
      return undefined;
    if (!sameBytes(k, e + E_KEY, v, o, n)) return undefined;
    this.hitError = md !== mode;
    return this.values[i] ?? undefined;
  }

  /** Stores the result for the bytes of the last get() miss (see the class comment). */
  put(b: Uint8Array, o: number, n: number, mode: number, v: T | DecodeError, isError: boolean): void {
    const h = this.hash;
    const i = h & (MEMO_SLOTS - 1);
    const slots = this.slots ?? this.allocate();
    const candidates = this.candidates as Int32Array;
    if (slots[i] !== -1 && candidates[i] !== h) {
      candidates[i] = h;
      return;
    }
    const size = E_KEY + ((n + 3) & ~3);
    if (this.used + size > this.arena.length && !this.makeRoom(size)) {
      // Full: start afresh (every entry goes; later misses fill the memo again).
      slots.fill(-1);
      this.values.fill(null);
      candidates.fill(0);
      this.used = 0;
    }
    const e = this.used;
    const k = this.arenaView;
    k.setInt32(e + E_HASH, h);
    k.setInt32(e + E_MODE, isError ? mode | MODE_ERROR : mode);
    k.setInt32(e + E_LEN, n);
    this.arena.set(b.subarray(o, o + n), e + E_KEY);
    slots[i] = e;
    this.values[i] = v;
    this.used += size;
  }

  /**
   * The tables, on the first store. A method of its own, called once per memo, so the optimised put() does
   * not carry it: `new Array(n)` is born with the elements kind its allocation site last ended with, so the
   * next capture's memo would reach code specialised for the first one's and throw it away.
   */
  private allocate(): Int32Array {
    this.values = new Array<T | DecodeError | null>(MEMO_SLOTS).fill(null);
    this.candidates = new Int32Array(MEMO_SLOTS);
    return (this.slots = new Int32Array(MEMO_SLOTS).fill(-1));
  }

  /** Grows the arena (doubling, at most MEMO_BUDGET_BYTES) to fit n more bytes; false when it cannot. */
  private makeRoom(n: number): boolean {
    let size = Math.max(ARENA_START, this.arena.length);
    while (size < this.used + n) size *= 2;
    if (size > MEMO_BUDGET_BYTES) return false;
    const grown = new Uint8Array(size);
    grown.set(this.arena.subarray(0, this.used));
    this.arena = grown;
    this.arenaView = new DataView(grown.buffer);
    return true;
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
    if (memo.hitError) throw s.fail(m);
    return s.ok(m as T);
  }
  let v: T;
  try {
    v = d(frame, off, len, mode);
  } catch (e) {
    if (e instanceof DecodeError) memo.put(frame, k, n, mode, e, true);
    throw s.fail(e);
  }
  memo.put(frame, k, n, mode, v, false);
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
