import { isDeviceIp, isPublicIp } from '../devices/ip.js';
import type { IngestFlow } from '../sources/types.js';
import { TcpFlag } from '../wire/packet/types.js';
import type { DeviceRef, Finding } from './types.js';

export const SEC = 1_000_000;
export const MIN = 60 * SEC;

/** Community ids kept per finding (the CLI labels these flows) and shown in an alert's evidence. */
export const MAX_FINDING_FLOWS = 5000;
export const MAX_EVIDENCE_FLOWS = 50;

/** Local (RFC 1918, ULA, link-local …) and not multicast/broadcast: a device address (memoised in ip.ts). */
export const isLocal = isDeviceIp;

/** A public unicast address (an internet peer). */
export const isExternal = isPublicIp;

export function srcRef(f: IngestFlow): DeviceRef {
  return { ip: f.srcIp, mac: f.srcMac };
}
export function dstRef(f: IngestFlow): DeviceRef {
  return { ip: f.dstIp, mac: f.dstMac };
}

/** The responder completed a TCP handshake (SYN+ACK seen from it). */
export function answered(f: IngestFlow): boolean {
  return (f.tcpFlagsIn & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK);
}

/** A TCP flow that carried no payload either way and few packets: a probe (scan, failed connect). */
export function isTcpProbe(f: IngestFlow): boolean {
  return f.proto === 6 && f.payloadBytesOut === 0 && f.payloadBytesIn === 0 && f.packetsOut <= 3;
}

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

/** Coefficient of variation (population standard deviation / mean); Infinity for a zero mean. */
export function coefficientOfVariation(xs: readonly number[]): number {
  const m = mean(xs);
  if (m <= 0) return Infinity;
  const v = xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length;
  return Math.sqrt(v) / m;
}

/** Appends to a bounded list of community ids. */
export function pushBounded(list: string[], id: string, max = MAX_FINDING_FLOWS): void {
  if (list.length < max) list.push(id);
}

export function sample(ids: readonly string[]): string[] {
  return ids.slice(0, MAX_EVIDENCE_FLOWS);
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
/** A flow names its peer (TLS SNI or an HTTP Host that is not an address literal). */
export function namedPeer(f: IngestFlow): boolean {
  if (f.sni) return true;
  if (f.httpHost) {
    const h = f.httpHost.replace(/:\d+$/, '');
    return !IPV4.test(h) && !h.startsWith('[');
  }
  return false;
}

/**
 * Per-key episodes: a detector that fired for a key reports again only every `everyUs` of flow time or
 * `everyFlows` new flows, collecting the flows in between, so one attack gives a few findings (the alert
 * service folds them into one alert) while every flow behind it is still cited.
 */
export class Episodes {
  private readonly active = new Map<
    string,
    { lastUs: number; emittedUs: number; pending: string[]; template: Finding }
  >();
  constructor(
    private readonly everyUs: number,
    private readonly everyFlows: number,
    private readonly expireUs: number,
    private readonly maxKeys = 10_000,
  ) {}

  isActive(key: string, nowUs: number): boolean {
    const a = this.active.get(key);
    if (!a) return false;
    if (nowUs - a.lastUs > this.expireUs) {
      this.active.delete(key);
      return false;
    }
    return true;
  }

  /** Records that `finding` was just emitted for `key`; later flows of the key go through `add`. */
  start(key: string, finding: Finding): void {
    if (this.active.size >= this.maxKeys) evictOldest(this.active, this.maxKeys >> 4);
    this.active.set(key, {
      lastUs: finding.lastUs,
      emittedUs: finding.lastUs,
      pending: [],
      template: finding,
    });
  }

  /** Adds a flow to an active episode; returns a follow-up finding when it is time to report. */
  add(key: string, nowUs: number, communityId: string): Finding | null {
    const a = this.active.get(key);
    if (!a) return null;
    a.lastUs = Math.max(a.lastUs, nowUs);
    pushBounded(a.pending, communityId);
    if (a.pending.length >= this.everyFlows || nowUs - a.emittedUs >= this.everyUs) {
      a.emittedUs = nowUs;
      return this.take(a);
    }
    return null;
  }

  private take(a: { lastUs: number; pending: string[]; template: Finding }): Finding {
    const flows = a.pending;
    a.pending = [];
    const t = a.template;
    return {
      ...t,
      firstUs: t.firstUs,
      lastUs: a.lastUs,
      flows,
      evidence: { ...t.evidence, flows: flows.length, community_ids: sample(flows), continued: true },
    };
  }

  /** Follow-up findings for every episode with unreported flows (end of input). */
  drain(): Finding[] {
    const out: Finding[] = [];
    for (const a of this.active.values()) if (a.pending.length) out.push(this.take(a));
    return out;
  }
}

/**
 * Deletes the `n` (at least 1) oldest keys of a map (insertion order) in one pass. Evicting one key at a
 * time at capacity is quadratic in V8: a deleted entry stays a hole at the front of the table until it is
 * rehashed, and every `keys().next()` walks over all of them (16 µs per insert at 20 000 keys).
 */
export function evictOldest<K>(m: Map<K, unknown>, n: number): void {
  let left = Math.max(1, n);
  for (const k of m.keys()) {
    if (left-- <= 0) break;
    m.delete(k);
  }
}

/** A map that forgets its oldest keys beyond `max` (insertion order), a sixteenth of them at a time. */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }
  override set(key: K, value: V): this {
    if (this.size >= this.max && !this.has(key)) evictOldest(this, this.max >> 4);
    return super.set(key, value);
  }
}

/**
 * Flows an analysis handles between two turns of the event loop (nextTurn): about 20 ms of detection on the
 * bench machine, so a write going on beside it (its database replies) waits at most that long.
 */
export const FLOWS_PER_TURN = 4096;

/** Resolves on a later turn of the event loop, after the I/O callbacks due meanwhile. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
