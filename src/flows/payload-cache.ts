/**
 * A one-packet memo of app-layer decodes, shared by the flow table (DNS names, SNI, HTTP Host, DHCP/SSDP
 * validation) and the observation extractor (DNS queries, mDNS names, JA3/JA4, User-Agent, DHCP, SSDP) so that a payload both look at is
 * decoded once. Each decoder has one slot keyed by (frame identity, offset, length, mode); a DecodeError is
 * memoised too and rethrown. The results are shared: callers must not mutate them.
 *
 * The owner calls clear() before every packet (a frame buffer may be reused with new contents).
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

  /** Forget everything (call before each packet). */
  clear(): void {
    if (this.dnsSlot.frame) this.dnsSlot.clear();
    if (this.tlsSlot.frame) this.tlsSlot.clear();
    if (this.httpSlot.frame) this.httpSlot.clear();
    if (this.dhcpSlot.frame) this.dhcpSlot.clear();
    if (this.ssdpSlot.frame) this.ssdpSlot.clear();
  }

  dns(frame: Uint8Array, off: number, len: number, mode: DnsMode): DnsSummary {
    return run(this.dnsSlot, frame, off, len, mode, dnsDecoder);
  }

  tlsClientHello(frame: Uint8Array, off: number, len: number): TlsClientHello {
    return run(this.tlsSlot, frame, off, len, 0, tlsDecoder);
  }

  http(frame: Uint8Array, off: number, len: number): HttpMessage {
    return run(this.httpSlot, frame, off, len, 0, httpDecoder);
  }

  dhcp(frame: Uint8Array, off: number, len: number): DhcpMessage {
    return run(this.dhcpSlot, frame, off, len, 0, dhcpDecoder);
  }

  ssdp(frame: Uint8Array, off: number, len: number): SsdpMessage {
    return run(this.ssdpSlot, frame, off, len, 0, ssdpDecoder);
  }
}

function run<T>(s: Slot<T>, frame: Uint8Array, off: number, len: number, mode: number, d: Decoder<T>): T {
  if (s.hit(frame, off, len, mode)) return s.get();
  s.key(frame, off, len, mode);
  try {
    return s.ok(d(frame, off, len, mode));
  } catch (e) {
    throw s.fail(e);
  }
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
