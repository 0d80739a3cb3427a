import { describe, expect, it } from 'vitest';
import { DecodeError } from '../wire/errors.js';
import { PacketInfo } from '../wire/packet/types.js';
import {
  emitObservations,
  extractObservations,
  ObservationAggregator,
  type Observation,
} from './observations.js';
import { DNS_PLAIN, PayloadCache } from './payload-cache.js';

/** A DNS query for "a.b" (id 1, RD). */
const query = Uint8Array.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x61, 1, 0x62, 0, 0, 1, 0, 1]);

function dnsPacket(frame: Uint8Array, ts: number): PacketInfo {
  const p = new PacketInfo();
  p.ipVersion = 4;
  p.ipProto = 17;
  p.srcIp4 = 0xc0a80105;
  p.srcPort = 40000;
  p.dstPort = 53;
  p.hasL2 = true;
  p.srcMac = 0x001122334455;
  p.data = frame;
  p.payloadOffset = 0;
  p.payloadLength = frame.length;
  p.tsMicros = ts;
  return p;
}

describe('PayloadCache', () => {
  it('decodes a payload once per key and rethrows a cached DecodeError', () => {
    const c = new PayloadCache();
    const a = c.dns(query, 0, query.length, DNS_PLAIN);
    expect(c.dns(query, 0, query.length, DNS_PLAIN)).toBe(a);
    expect(a.questions).toEqual(['a.b']);
    const cut = query.subarray(0, 15);
    let first: unknown;
    try {
      c.dns(cut, 0, cut.length, DNS_PLAIN);
    } catch (e) {
      first = e;
    }
    expect(first).toBeInstanceOf(DecodeError);
    expect(() => c.dns(cut, 0, cut.length, DNS_PLAIN)).toThrow(first as Error);
    c.clear();
    expect(c.dns(query, 0, query.length, DNS_PLAIN)).not.toBe(a);
  });
});

describe('ObservationAggregator', () => {
  it('folds identical sightings into one with count and first/last times, in stream order of the latest', () => {
    const agg = new ObservationAggregator();
    const other = Uint8Array.from(query);
    other[13] = 0x63; // "c.b"
    for (const [frame, ts] of [
      [query, 30],
      [other, 10],
      [query, 20],
      [query, 40],
      [other, 35],
    ] as const)
      emitObservations(dnsPacket(frame, ts), frame, agg);
    expect(agg.size).toBe(2);
    expect(agg.sightings).toBe(5);
    const out = agg.take();
    const base = { kind: 'dns_query' as const, mac: '00:11:22:33:44:55', ip: '192.168.1.5' };
    expect(out).toEqual<Observation[]>([
      // In stream order of each one's latest sighting (a.b at 40 came before c.b at 35).
      { ...base, value: 'a.b', tsMicros: 40, count: 3, firstMicros: 20 },
      { ...base, value: 'c.b', tsMicros: 35, count: 2, firstMicros: 10 },
    ]);
    expect(agg.size).toBe(0);
    // The per-packet API gives the same observation without aggregation.
    expect(extractObservations(dnsPacket(query, 5))).toEqual([{ ...base, value: 'a.b', tsMicros: 5 }]);
  });
});
