import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { communityId, communityIdV4, ipTextToBytes } from './community-id.js';
import { HAVE_ZEEK_DATA, MISSING_DATA_MESSAGE, readZeekLog } from './test-support/trace.js';

const cid = (
  src: string,
  dst: string,
  proto: number,
  sport?: number,
  dport?: number,
  seed?: number,
): string =>
  communityId({
    srcIp: ipTextToBytes(src),
    dstIp: ipTextToBytes(dst),
    proto,
    srcPort: sport,
    dstPort: dport,
    seed,
  });

describe('Community ID v1', () => {
  // Vectors from corelight/community-id-spec (baseline for its tcp/udp/icmp/icmp6 sample pcaps).
  const vectors: [string, string, number, number, number, string][] = [
    ['128.232.110.120', '66.35.250.204', 6, 34855, 80, '1:LQU9qZlK+B5F3KDmev6m5PMibrg='],
    ['192.168.1.52', '8.8.8.8', 17, 54585, 53, '1:d/FP5EW3wiY1vCndhwleRRKHowQ='],
    ['192.168.0.89', '192.168.0.1', 1, 8, 0, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk='],
    ['192.168.0.1', '192.168.0.89', 1, 0, 0, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk='],
    ['fe80::200:86ff:fe05:80da', 'fe80::260:97ff:fe07:69ea', 58, 135, 0, '1:dGHyGvjMfljg6Bppwm3bg0LO8TY='],
    ['fe80::260:97ff:fe07:69ea', 'fe80::200:86ff:fe05:80da', 58, 136, 0, '1:dGHyGvjMfljg6Bppwm3bg0LO8TY='],
    [
      '3ffe:507:0:1:260:97ff:fe07:69ea',
      '3ffe:507:0:1:200:86ff:fe05:80da',
      58,
      3,
      0,
      '1:NdobDX8PQNJbAyfkWxhtL2Pqp5w=',
    ],
    [
      '3ffe:507:0:1:200:86ff:fe05:80da',
      '3ffe:507:0:1:260:97ff:fe07:69ea',
      58,
      3,
      0,
      '1:/OGBt9BN1ofenrmSPWYicpij2Vc=',
    ],
  ];
  for (const [s, d, p, sp, dp, want] of vectors) {
    it(`${s} → ${d} proto ${p} ${sp}/${dp}`, () => {
      expect(cid(s, d, p, sp, dp)).toBe(want);
    });
  }

  it('is symmetric for two-way traffic and not for one-way ICMP', () => {
    expect(cid('66.35.250.204', '128.232.110.120', 6, 80, 34855)).toBe('1:LQU9qZlK+B5F3KDmev6m5PMibrg=');
    expect(cid('8.8.8.8', '192.168.1.52', 17, 53, 54585)).toBe('1:d/FP5EW3wiY1vCndhwleRRKHowQ=');
    expect(cid('10.0.0.1', '10.0.0.2', 132, 7, 7)).toBe(cid('10.0.0.2', '10.0.0.1', 132, 7, 7));
    // Same address both ends: ordered by port.
    expect(cid('10.0.0.1', '10.0.0.1', 17, 5000, 53)).toBe(cid('10.0.0.1', '10.0.0.1', 17, 53, 5000));
  });

  it('seed changes the hash; protocols without ports hash addresses only', () => {
    expect(cid('128.232.110.120', '66.35.250.204', 6, 34855, 80, 1)).not.toBe(
      '1:LQU9qZlK+B5F3KDmev6m5PMibrg=',
    );
    const gre = cid('10.1.1.1', '10.2.2.2', 47);
    expect(gre).toMatch(/^1:[A-Za-z0-9+/]{27}=$/);
    expect(cid('10.2.2.2', '10.1.1.1', 47)).toBe(gre);
  });
});

describe.skipIf(!HAVE_ZEEK_DATA)(
  `Community ID vs Zeek conn.log ${HAVE_ZEEK_DATA ? '' : MISSING_DATA_MESSAGE}`,
  () => {
    it('http/get.pcap community_id column', () => {
      const [row] = readZeekLog('scripts.policy.protocols.conn.community-id-logging/conn.log.cut', [
        'id.orig_h',
        'id.orig_p',
        'id.resp_h',
        'id.resp_p',
        'proto',
        'service',
        'community_id',
      ]);
      expect(
        cid(row!['id.orig_h']!, row!['id.resp_h']!, 6, Number(row!['id.orig_p']), Number(row!['id.resp_p'])),
      ).toBe(row!.community_id);
    });
  },
);

describe('communityIdV4', () => {
  it('equals communityId on the 4-byte addresses', () => {
    const bytes = (v: number) => Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constant(0x0a000001)),
        fc.constantFrom(1, 6, 17, 58, 132, 47),
        fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
        fc.integer({ min: 0, max: 65535 }),
        (s, d, proto, sp, dp, seed) => {
          const srcPort = proto === 1 || proto === 58 ? (sp ?? 0) & 0xff : sp;
          const dstPort = proto === 1 || proto === 58 ? (dp ?? 0) & 0xff : dp;
          expect(communityIdV4(s, d, proto, srcPort, dstPort, seed)).toBe(
            communityId({ srcIp: bytes(s), dstIp: bytes(d), proto, srcPort, dstPort, seed }),
          );
          expect(communityIdV4(s, s, proto, srcPort, dstPort, seed)).toBe(
            communityId({ srcIp: bytes(s), dstIp: bytes(s), proto, srcPort, dstPort, seed }),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('gives the same id from its memo as computed afresh, also when tuples evict each other', () => {
    const bytes = (v: number) => Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    const tuples = Array.from(
      { length: 20_000 },
      (_, i) => [0x0a000000 + (i % 97), 0xc0a80001, 1024 + i] as const,
    );
    for (let round = 0; round < 2; round++)
      for (const [s, d, sp] of tuples.slice(round * 5000, round * 5000 + 15_000))
        for (const [proto, seed] of [
          [17, 0],
          [17, 1],
          [6, 0],
        ] as const)
          expect(communityIdV4(s, d, proto, sp, 53, seed)).toBe(
            communityId({ srcIp: bytes(s), dstIp: bytes(d), proto, srcPort: sp, dstPort: 53, seed }),
          );
  });
});
