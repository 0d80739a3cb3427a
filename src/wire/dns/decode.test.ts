import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_RUNS, mutated, onlyDecodeError, randomBytes } from '../../flows/test-support/fuzz.js';
import {
  HAVE_ZEEK_DATA,
  MISSING_DATA_MESSAGE,
  loadTrace,
  payloadOf,
  readZeekLog,
} from '../../flows/test-support/trace.js';
import { DecodeError } from '../errors.js';
import { ipv6ToString } from '../addr.js';
import { decodeDns, summarizeDns } from './decode.js';
import type { DnsMessage } from './types.js';

function udpPayloads(trace: string, port: number): Uint8Array[] {
  return loadTrace(trace)
    .filter((p) => p.ipProto === 17 && (p.srcPort === port || p.dstPort === port))
    .map(payloadOf);
}

/** Zeek's answers column: addresses and names as text; other types as "<TYPE> …" which we do not model. */
function answersText(m: DnsMessage): string[] {
  return m.records
    .filter((r) => r.section === 'answer')
    .map((r) => {
      const d = r.data;
      if (d.kind === 'a' || d.kind === 'aaaa') return d.address;
      if (d.kind === 'name') return d.name;
      if (d.kind === 'txt') return d.strings.map((s) => `TXT ${s.length} ${s}`).join(' ');
      return `type${r.type}`;
    });
}

function name(labels: string[]): number[] {
  const out: number[] = [];
  for (const l of labels) out.push(l.length, ...Buffer.from(l, 'latin1'));
  out.push(0);
  return out;
}

function header(id: number, flags: number, qd: number, an: number, ns = 0, ar = 0): number[] {
  return [id >> 8, id & 0xff, flags >> 8, flags & 0xff, 0, qd, 0, an, 0, ns, 0, ar];
}

describe('decodeDns (synthetic)', () => {
  it('decodes a query, an NXDOMAIN response and the QR flag', () => {
    const q = Uint8Array.from([...header(0x1234, 0x0100, 1, 0), ...name(['example', 'com']), 0, 1, 0, 1]);
    const m = decodeDns(q);
    expect(m.isResponse).toBe(false);
    expect(m.recursionDesired).toBe(true);
    expect(m.questions).toEqual([{ name: 'example.com', type: 1, class: 1, unicastResponse: false }]);
    const r = Uint8Array.from([...header(0x1234, 0x8183, 1, 0), ...name(['nope', 'example']), 0, 1, 0, 1]);
    const rm = decodeDns(r);
    expect(rm.isResponse).toBe(true);
    expect(rm.rcode).toBe(3);
  });

  it('follows backward compression pointers and decodes A, AAAA, PTR, SRV, TXT, CNAME and unknown types', () => {
    const q = name(['_ipp', '_tcp', 'local']); // at offset 12
    const rr = (nameBytes: number[], type: number, cls: number, rdata: number[]): number[] => [
      ...nameBytes,
      type >> 8,
      type & 0xff,
      cls >> 8,
      cls & 0xff,
      0,
      0,
      0,
      120,
      rdata.length >> 8,
      rdata.length & 0xff,
      ...rdata,
    ];
    const ptrToQ = [0xc0, 12];
    const inst = [4, ...Buffer.from('prnt'), 0xc0, 12];
    const msg = Uint8Array.from([
      ...header(0, 0x8400, 1, 7),
      ...q,
      0,
      12,
      0x80,
      1, // QU bit set
      ...rr(ptrToQ, 12, 1, inst),
      ...rr(ptrToQ, 33, 0x8001, [
        0,
        0,
        0,
        0,
        0x02,
        0x77,
        4,
        ...Buffer.from('host'),
        5,
        ...Buffer.from('local'),
        0,
      ]),
      ...rr(ptrToQ, 16, 1, [3, ...Buffer.from('a=1'), 2, ...Buffer.from('bc')]),
      ...rr(ptrToQ, 1, 0x8001, [192, 168, 1, 9]),
      ...rr(ptrToQ, 28, 1, [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
      ...rr(ptrToQ, 5, 1, [0xc0, 12]),
      ...rr(ptrToQ, 99, 1, [1, 2, 3]),
    ]);
    const m = decodeDns(msg, 0, msg.length, { mdns: true });
    expect(m.questions[0]).toEqual({ name: '_ipp._tcp.local', type: 12, class: 1, unicastResponse: true });
    const data = m.records.map((r) => r.data);
    expect(data[0]).toEqual({ kind: 'name', name: 'prnt._ipp._tcp.local' });
    expect(data[1]).toEqual({ kind: 'srv', priority: 0, weight: 0, port: 631, target: 'host.local' });
    expect(data[2]).toEqual({ kind: 'txt', strings: ['a=1', 'bc'] });
    expect(data[3]).toEqual({ kind: 'a', address: '192.168.1.9' });
    expect(data[4]).toEqual({ kind: 'aaaa', address: 'fe80::1' });
    expect(data[5]).toEqual({ kind: 'name', name: '_ipp._tcp.local' });
    expect(data[6]).toEqual({ kind: 'other', length: 3 });
    expect(m.records[1]?.cacheFlush).toBe(true);
    expect(m.records[1]?.class).toBe(1);
    expect(m.records[0]?.cacheFlush).toBe(false);
    // Without the mDNS option the top class bit is kept as part of the class.
    expect(decodeDns(msg).records[1]?.class).toBe(0x8001);
  });

  it('rejects pointer loops and forward pointers, and caps counts', () => {
    const self = Uint8Array.from([...header(1, 0, 1, 0), 0xc0, 12, 0, 1, 0, 1]);
    expect(() => decodeDns(self)).toThrow(DecodeError);
    const fwd = Uint8Array.from([...header(1, 0, 1, 0), 0xc0, 20, 0, 1, 0, 1, 0, 0, 0]);
    expect(() => decodeDns(fwd)).toThrow(/backwards/);
    const many = Uint8Array.from(header(1, 0, 0, 0xff, 0xff, 0xff));
    expect(() => decodeDns(many)).toThrow(expect.objectContaining({ kind: 'limit' }));
    expect(() => decodeDns(Uint8Array.from([1, 2, 3]))).toThrow(
      expect.objectContaining({ kind: 'truncated' }),
    );
  });

  it('decodes DNS over TCP with the length prefix', () => {
    const body = [...header(7, 0x0100, 1, 0), ...name(['a', 'b']), 0, 28, 0, 1];
    const m = decodeDns(Uint8Array.from([0, body.length, ...body]), 0, body.length + 2, { tcp: true });
    expect(m.questions[0]?.name).toBe('a.b');
    expect(m.questions[0]?.type).toBe(28);
  });

  it('formats IPv6 per RFC 5952', () => {
    const b = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
    expect(ipv6ToString(b, 0)).toBe('2001:db8::1:0:0:1');
    expect(ipv6ToString(new Uint8Array(16), 0)).toBe('::');
  });
});

describe.skipIf(!HAVE_ZEEK_DATA)(
  `decodeDns vs Zeek dns.log ${HAVE_ZEEK_DATA ? '' : MISSING_DATA_MESSAGE}`,
  () => {
    it('dns53.pcap (flip): query name and answers match dns.log', () => {
      const zeek = readZeekLog('scripts.base.protocols.dns.flip/dns.log');
      const msgs = udpPayloads('dns53.pcap', 53).map((b) => decodeDns(b));
      const resp = msgs.find((m) => m.isResponse);
      expect(resp?.questions[0]?.name).toBe(zeek[0]?.query);
      expect(resp?.id).toBe(Number(zeek[0]?.trans_id));
      expect(answersText(resp!).join(',')).toBe(zeek[0]?.answers);
      expect(resp?.recursionAvailable).toBe(zeek[0]?.RA === 'T');
      expect(resp?.authoritative).toBe(zeek[0]?.AA === 'T');
    });

    it('dns-two-responses.pcap: CNAMEs, A and an RRSIG kept as its type number', () => {
      const zeek = readZeekLog('scripts.base.protocols.dns.duplicate-reponses/dns.log');
      const resps = udpPayloads('dns-two-responses.pcap', 53)
        .map((b) => decodeDns(b))
        .filter((m) => m.isResponse);
      expect(resps).toHaveLength(2);
      for (const [i, m] of resps.entries()) {
        expect(m.questions[0]?.name).toBe(zeek[i]?.query);
        // Zeek renders RRSIG as "RRSIG 5 cmu.edu"; we keep unknown types as a number (46).
        expect(answersText(m).join(',')).toBe((zeek[i]?.answers ?? '').replace('RRSIG 5 cmu.edu', 'type46'));
        expect(
          m.records
            .filter((r) => r.section === 'answer')
            .map((r) => r.ttl.toFixed(6))
            .join(','),
        ).toBe(zeek[i]?.TTLs);
        // Z is not compared: Zeek fills that row's Z from the request/reply pair it matched, not this message.
      }
    });

    it('dns-txt-multiple.pcap: multiple TXT strings', () => {
      const zeek = readZeekLog('scripts.base.protocols.dns.multiple-txt-strings/dns.log');
      const resp = udpPayloads('dns-txt-multiple.pcap', 53)
        .map((b) => decodeDns(b))
        .find((m) => m.isResponse);
      expect(resp?.questions[0]?.name).toBe(zeek[0]?.query);
      // Zeek joins TXT strings as "TXT <len> <text> TXT <len> <text>…".
      expect(answersText(resp!).join(',')).toBe(zeek[0]?.answers);
    });

    it('dns-binds.pcap: BIND signing records (type 65534) kept as other', () => {
      const zeek = readZeekLog('scripts.base.protocols.dns.binds/dns.log');
      const msgs = udpPayloads('dns/dns-binds.pcap', 53).map((b) => decodeDns(b));
      const q = msgs.find((m) => !m.isResponse);
      expect(q?.questions[0]?.name).toBe(zeek[0]?.query);
      expect(q?.questions[0]?.type).toBe(Number(zeek[0]?.qtype));
      const r = msgs.find((m) => m.isResponse);
      expect(r?.records.filter((x) => x.section === 'answer' && x.type === 65534)).toHaveLength(
        (zeek[0]?.answers ?? '').split(',').length,
      );
      expect(q?.z).toBe(Number(zeek[0]?.Z)); // the AD bit (Z=2) comes from dig's query
    });

    it('mdns-no-assoc.pcap: mDNS queries and unsolicited answers match dns.log', () => {
      const zeek = readZeekLog('scripts.base.protocols.dns.mdns-no-assoc/dns.log');
      const msgs = udpPayloads('dns/mdns-no-assoc.pcap', 5353).map((b) =>
        decodeDns(b, 0, b.length, { mdns: true }),
      );
      const ours: { query: string; answers: string }[] = [];
      for (const m of msgs) {
        if (m.isResponse) {
          for (const r of m.records.filter((x) => x.section === 'answer')) {
            ours.push({ query: r.name, answers: answersText({ ...m, records: [r] }).join(',') });
          }
        } else for (const q of m.questions) ours.push({ query: q.name, answers: '-' });
      }
      expect(ours).toEqual(zeek.map((z) => ({ query: z.query, answers: z.answers })));
    });

    it('mdns.pcap decodes every packet', () => {
      const msgs = udpPayloads('dns/mdns.pcap', 5353).map((b) => decodeDns(b, 0, b.length, { mdns: true }));
      expect(msgs.length).toBeGreaterThan(10);
      expect(msgs.some((m) => m.records.some((r) => r.cacheFlush))).toBe(true);
    });
  },
);

describe('decodeDns fuzz', () => {
  const seeds = HAVE_ZEEK_DATA
    ? [
        ...udpPayloads('dns53.pcap', 53),
        ...udpPayloads('dns/mdns.pcap', 5353),
        ...udpPayloads('dns-two-responses.pcap', 53),
      ]
    : [Uint8Array.from([...header(1, 0x0100, 1, 0), ...name(['x', 'y']), 0, 1, 0, 1])];
  it('random bytes and mutated real messages throw only DecodeError', () => {
    fc.assert(
      fc.property(fc.oneof(randomBytes(), mutated(seeds)), fc.boolean(), (b, mdns) =>
        onlyDecodeError(() => decodeDns(b, 0, b.length, { mdns })),
      ),
      { numRuns: FUZZ_RUNS },
    );
  });
});

describe('summarizeDns', () => {
  const seeds = HAVE_ZEEK_DATA
    ? [
        ...udpPayloads('dns53.pcap', 53),
        ...udpPayloads('dns/mdns.pcap', 5353),
        ...udpPayloads('dns-two-responses.pcap', 53),
      ]
    : [Uint8Array.from([...header(1, 0x0100, 1, 0), ...name(['x', 'y']), 0, 1, 0, 1])];
  const outcome = (f: () => unknown): unknown => {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      return `${e.kind}: ${e.message}`;
    }
  };
  const reduced = (m: DnsMessage) => ({
    isResponse: m.isResponse,
    questions: m.questions.map((q) => q.name),
    answers: m.records
      .filter((r) => r.section === 'answer')
      .map((r) => ({
        name: r.name,
        type: r.type,
        kind: r.data.kind,
        target: r.data.kind === 'name' ? r.data.name : r.data.kind === 'srv' ? r.data.target : null,
      })),
  });

  it('accepts and rejects exactly what decodeDns does, with the same names (fuzzed)', () => {
    fc.assert(
      fc.property(fc.oneof(randomBytes(), mutated(seeds)), fc.boolean(), fc.boolean(), (b, mdns, tcp) => {
        const full = outcome(() => reduced(decodeDns(b, 0, b.length, { mdns, tcp })));
        expect(outcome(() => summarizeDns(b, 0, b.length, { mdns, tcp }))).toEqual(full);
      }),
      { numRuns: FUZZ_RUNS * 5 },
    );
  });
});
