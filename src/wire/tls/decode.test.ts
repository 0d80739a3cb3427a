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
import {
  clientHelloPrints,
  decodeTlsClientHello,
  decodeTlsServerHello,
  isGrease,
  ja3,
  ja3s,
  ja4,
  tlsFirstHandshakeType,
  tlsHandshakeBytesNeeded,
} from './decode.js';

const u16 = (v: number): number[] => [v >> 8, v & 0xff];
const list16 = (xs: number[]): number[] => [...u16(xs.length * 2), ...xs.flatMap(u16)];

interface HelloSpec {
  version: number;
  ciphers: number[];
  /** [type, body] in wire order. */
  extensions: [number, number[]][];
}

function ext(type: number, body: number[]): [number, number[]] {
  return [type, body];
}
const sniExt = (host: string): [number, number[]] => {
  const h = [...Buffer.from(host)];
  return ext(0, [...u16(h.length + 3), 0, ...u16(h.length), ...h]);
};
const alpnExt = (protos: string[]): [number, number[]] => {
  const body = protos.flatMap((p) => [p.length, ...Buffer.from(p, 'latin1')]);
  return ext(0x10, [...u16(body.length), ...body]);
};

/** Builds a ClientHello TLS record (one record unless `splitAt` splits the handshake into two records). */
function clientHello(spec: HelloSpec, splitAt?: number): Uint8Array {
  const exts = spec.extensions.flatMap(([t, b]) => [...u16(t), ...u16(b.length), ...b]);
  const body = [
    ...u16(spec.version),
    ...new Array<number>(32).fill(7),
    0,
    ...list16(spec.ciphers),
    1,
    0,
    ...u16(exts.length),
    ...exts,
  ];
  const hs = [1, 0, body.length >> 8, body.length & 0xff, ...body];
  if (splitAt === undefined) return Uint8Array.from([22, 3, 1, ...u16(hs.length), ...hs]);
  const a = hs.slice(0, splitAt);
  const b = hs.slice(splitAt);
  return Uint8Array.from([22, 3, 1, ...u16(a.length), ...a, 22, 3, 1, ...u16(b.length), ...b]);
}

/** The ClientHello behind the JA4 specification's example "t13d1516h2_8daaf6152771_e5627efa2ab1". */
const JA4_SPEC_HELLO: HelloSpec = {
  version: 0x0303,
  ciphers: [
    0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c,
    0x009d, 0x002f, 0x0035,
  ],
  extensions: [
    ext(0x1a1a, []),
    ext(0x0033, [0, 0]),
    ext(0x0017, []),
    sniExt('example.com'),
    ext(0x000d, list16([0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601])),
    ext(0x002d, [1, 1]),
    ext(0x0005, [1, 0, 0, 0, 0]),
    alpnExt(['h2', 'http/1.1']),
    ext(0x000a, list16([0x4a4a, 0x001d, 0x0017, 0x0018])),
    ext(0x000b, [1, 0]),
    ext(0x0012, []),
    ext(0x002b, [6, ...u16(0x3a3a), ...u16(0x0304), ...u16(0x0303)]),
    ext(0x0023, []),
    ext(0x001b, [2, 0, 2]),
    ext(0x4469, []),
    ext(0xff01, [0]),
    ext(0x0015, [0, 0]),
    ext(0x2a2a, [0]),
  ],
};

describe('TLS ClientHello (synthetic)', () => {
  it('decodes fields and matches the JA4 spec example t13d1516h2_8daaf6152771_e5627efa2ab1', () => {
    const h = decodeTlsClientHello(clientHello(JA4_SPEC_HELLO));
    expect(h.sni).toBe('example.com');
    expect(h.alpn).toEqual(['h2', 'http/1.1']);
    expect(h.supportedVersions).toEqual([0x3a3a, 0x0304, 0x0303]);
    expect(h.supportedGroups).toEqual([0x4a4a, 0x1d, 0x17, 0x18]);
    expect(h.ecPointFormats).toEqual([0]);
    expect(h.extensions[0]).toBe(0x1a1a);
    const j = ja4(h);
    expect(j.fingerprint).toBe('t13d1516h2_8daaf6152771_e5627efa2ab1');
    expect(j.raw).toBe(
      't13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601',
    );
    expect(ja4(h, 'q').fingerprint.startsWith('q13d1516h2_')).toBe(true);
    // JA3 keeps wire order and drops GREASE from ciphers, extensions and groups.
    expect(ja3(h).string).toBe(
      '771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,51-23-0-13-45-5-16-10-11-18-43-35-27-17513-65281-21,29-23-24,0',
    );
  });

  it('matches the JA3 README example (ada70206e40642a3e4461f35503241d5)', () => {
    const h = decodeTlsClientHello(
      clientHello({
        version: 0x0301,
        ciphers: [47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4],
        extensions: [sniExt('a.example'), ext(10, list16([23, 24, 25])), ext(11, [1, 0])],
      }),
    );
    expect(ja3(h)).toEqual({
      string: '769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0',
      hash: 'ada70206e40642a3e4461f35503241d5',
    });
    // No ALPN, no supported_versions: JA4 uses the legacy version and "00".
    expect(ja4(h).fingerprint.slice(0, 10)).toBe('t10d120300');
  });

  it('JA4 ALPN edge cases and SNI absent', () => {
    const base = { version: 0x0303, ciphers: [0x1301] };
    const a = (protos: string[]): string =>
      ja4(decodeTlsClientHello(clientHello({ ...base, extensions: [alpnExt(protos)] }))).fingerprint.slice(
        0,
        10,
      );
    expect(a(['http/1.1'])).toBe('t12i0101h1');
    expect(a(['\xab\xcd'])).toBe('t12i0101ad');
    expect(a(['x'])).toBe('t12i0101xx');
  });

  it('reassembles a ClientHello split over two records; reports truncation as incomplete', () => {
    const whole = clientHello(JA4_SPEC_HELLO);
    const split = clientHello(JA4_SPEC_HELLO, 60);
    expect(ja4(decodeTlsClientHello(split)).fingerprint).toBe(ja4(decodeTlsClientHello(whole)).fingerprint);
    for (const cut of [3, 9, 50, whole.length - 1]) {
      expect(() => decodeTlsClientHello(whole.subarray(0, cut))).toThrow(
        expect.objectContaining({ kind: 'truncated' }),
      );
    }
    expect(tlsHandshakeBytesNeeded(whole.subarray(0, 20))).toBe(whole.length);
    expect(() => decodeTlsClientHello(Uint8Array.from([23, 3, 3, 0, 5, 1, 2, 3, 4, 5]))).toThrow(DecodeError);
  });

  it('clientHelloPrints: memoised JA3/JA4 always equal a fresh computation', () => {
    const check = (spec: HelloSpec) => {
      const h = decodeTlsClientHello(clientHello(spec));
      const fresh = { ja3: ja3(h).hash, ja4: ja4(h).fingerprint };
      expect(clientHelloPrints(h)).toEqual(fresh);
      expect(clientHelloPrints(h)).toEqual(fresh); // a hit
    };
    check(JA4_SPEC_HELLO);
    // Other GREASE values: the same prints, served from the memo.
    const regreased: HelloSpec = {
      ...JA4_SPEC_HELLO,
      ciphers: JA4_SPEC_HELLO.ciphers.map((c) => (isGrease(c) ? 0xdada : c)),
    };
    check(regreased);
    fc.assert(
      fc.property(
        fc.subarray([0x1301, 0x1302, 0xc02b, 0x002f, 0x0a0a, 0x0035]),
        fc.subarray(['h2', 'http/1.1', 'x', '\xab\xcd']),
        fc.boolean(),
        (ciphers, protos, sni) =>
          check({
            version: 0x0303,
            ciphers: ciphers.length ? ciphers : [0x1301],
            extensions: [...(sni ? [sniExt('a.example')] : []), ...(protos.length ? [alpnExt(protos)] : [])],
          }),
      ),
      { numRuns: 200 },
    );
  });

  it('GREASE detection', () => {
    expect([0x0a0a, 0x1a1a, 0xfafa].every(isGrease)).toBe(true);
    expect([0x0a1a, 0x1301, 0x0000].some(isGrease)).toBe(false);
  });
});

const CIPHERS: Record<string, number> = {
  TLS_ECDHE_RSA_WITH_RC4_128_SHA: 0xc011,
  TLS_AES_128_GCM_SHA256: 0x1301,
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 0xc014,
  TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA: 0x0088,
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 0xc02b,
};
const VERSIONS: Record<string, number> = { TLSv10: 0x0301, TLSv12: 0x0303, 'TLSv13-draft23': 0x7f17 };

function hellos(trace: string, type: 1 | 2): Uint8Array[] {
  return loadTrace(trace)
    .filter((p) => p.ipProto === 6)
    .map(payloadOf)
    .filter((b) => b[0] === 22 && b[5] === type);
}

describe.skipIf(!HAVE_ZEEK_DATA)(`TLS vs Zeek ssl.log ${HAVE_ZEEK_DATA ? '' : MISSING_DATA_MESSAGE}`, () => {
  const cases: [string, string][] = [
    ['tls/tls-conn-with-extensions.pcap', 'scripts.base.protocols.ssl.basic/ssl.log'],
    ['tls/tls13draft23-chrome67.0.3368.0-canary.pcap', 'scripts.base.protocols.ssl.tls13-version/ssl.log'],
    ['tls/ecdhe.pcap', 'scripts.base.protocols.ssl.ecdhe/ssl.log'],
    ['tls/dhe.pcap', 'scripts.base.protocols.ssl.dhe/ssl.log'],
    ['tls/ecdsa-cert.pcap', 'scripts.base.protocols.ssl.ecdsa/ssl.log'],
  ];
  for (const [trace, log] of cases) {
    it(`${trace}: SNI, negotiated version and cipher match ssl.log`, () => {
      const [z] = readZeekLog(log);
      const ch = hellos(trace, 1).map((b) => decodeTlsClientHello(b));
      const sh = hellos(trace, 2).map((b) => decodeTlsServerHello(b));
      expect(ch).toHaveLength(1);
      expect(sh).toHaveLength(1);
      expect(ch[0]?.sni ?? '-').toBe(z?.server_name);
      expect(sh[0]?.selectedVersion ?? sh[0]?.version).toBe(VERSIONS[z?.version ?? '']);
      expect(sh[0]?.cipherSuite).toBe(CIPHERS[z?.cipher ?? '']);
      expect(ch[0]?.cipherSuites).toContain(sh[0]?.cipherSuite);
      expect(ja3s(sh[0]!).hash).toMatch(/^[0-9a-f]{32}$/);
    });
  }

  it('chrome-34-google.pcap: fingerprints of a real Chrome 34 hello', () => {
    const [b] = hellos('tls/chrome-34-google.pcap', 1);
    const h = decodeTlsClientHello(b!);
    expect(h.sni).toBe('google.de');
    expect(h.alpn).toEqual(['spdy/3', 'spdy/3.1', 'http/1.1']);
    // Regression values computed by this implementation (no third-party ground truth in the data set);
    // the algorithms themselves are pinned by the published JA3/JA4 examples above.
    expect(ja3(h).hash).toBe('a607f3a5c94c2ee592af1456f36c8367');
    expect(ja4(h).fingerprint).toBe('t12d2011s3_8dd61975155f_06a4338d0495');
  });
});

describe('TLS fuzz', () => {
  const seeds = HAVE_ZEEK_DATA
    ? [...hellos('tls/chrome-34-google.pcap', 1), ...hellos('tls/ecdhe.pcap', 2), clientHello(JA4_SPEC_HELLO)]
    : [clientHello(JA4_SPEC_HELLO)];
  it('random bytes and mutated real hellos throw only DecodeError', () => {
    fc.assert(
      fc.property(
        fc.oneof(randomBytes([22, 3, 1]), mutated(seeds)),
        (b) =>
          onlyDecodeError(() => {
            ja4(decodeTlsClientHello(b));
          }) && onlyDecodeError(() => decodeTlsServerHello(b)),
      ),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('tlsFirstHandshakeType: any other type than 1 means decodeTlsClientHello fails as malformed', () => {
    fc.assert(
      fc.property(fc.oneof(randomBytes([22, 3, 1]), mutated(seeds)), (b) => {
        const t = tlsFirstHandshakeType(b);
        if (t >= 0 && t !== 1) expect(() => decodeTlsClientHello(b)).toThrow(/handshake type/);
      }),
      { numRuns: FUZZ_RUNS },
    );
    expect(tlsFirstHandshakeType(clientHello(JA4_SPEC_HELLO))).toBe(1);
  });
});
