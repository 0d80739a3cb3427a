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
import { NTP_UNIX_OFFSET, decodeNtp, ntpDecodes } from './decode.js';

function ntpPayloads(trace: string): Uint8Array[] {
  return loadTrace(trace)
    .filter((p) => p.ipProto === 17 && (p.srcPort === 123 || p.dstPort === 123))
    .map(payloadOf);
}

describe('decodeNtp (synthetic)', () => {
  it('client request and control mode; rejects short and version 0', () => {
    const b = new Uint8Array(48);
    b[0] = (4 << 3) | 3;
    const m = decodeNtp(b);
    expect(m).toMatchObject({ version: 4, mode: 3, stratum: 0, transmitUnixMicros: 0 });
    expect(decodeNtp(Uint8Array.of((2 << 3) | 6, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0)).mode).toBe(6);
    expect(() => decodeNtp(b.subarray(0, 20))).toThrow(expect.objectContaining({ kind: 'truncated' }));
    expect(() => decodeNtp(new Uint8Array(48))).toThrow(DecodeError);
  });
});

describe.skipIf(!HAVE_ZEEK_DATA)(
  `decodeNtp vs Zeek ntp.log ${HAVE_ZEEK_DATA ? '' : MISSING_DATA_MESSAGE}`,
  () => {
    it('ntp/ntp.pcap: version, mode, stratum, reference id and transmit time match ntp.log', () => {
      const zeek = readZeekLog('scripts.base.protocols.ntp.ntp/ntp.log');
      const ours = ntpPayloads('ntp/ntp.pcap').map((b) => decodeNtp(b));
      // Compared as multisets (Zeek's log order follows its connection bookkeeping).
      const key = (
        v: string | number,
        m: string | number,
        s: string | number,
        r: string,
        x: string,
      ): string => `${v}|${m}|${s}|${r}|${x}`;
      const zk = zeek
        .map((z) =>
          key(
            z.version ?? '',
            z.mode ?? '',
            z.stratum ?? '',
            (z.ref_id ?? '').replace(/\\x00/g, ''),
            z.xmt_time ?? '',
          ),
        )
        .sort();
      const ok = ours
        .map((m) => {
          // Zeek prints the double (seconds + fraction / 2^32) rounded; transmitUnixMicros truncates.
          const t = m.transmitTime
            ? m.transmitTime.seconds - NTP_UNIX_OFFSET + m.transmitTime.fraction / 2 ** 32
            : 0;
          expect(Math.abs((m.transmitUnixMicros ?? 0) / 1e6 - t)).toBeLessThan(2e-6);
          return key(m.version, m.mode, m.stratum, m.referenceId, t.toFixed(6));
        })
        .sort();
      expect(ok).toEqual(zk);
    });

    it('decodes the other NTP traces', () => {
      for (const t of ['ntp/ntp2.pcap', 'ntp/NTP-digest.pcap', 'ntp/NTP_sync.pcap', 'ntp.pcap']) {
        expect(ntpPayloads(t).map((b) => decodeNtp(b)).length).toBeGreaterThan(0);
      }
    });
  },
);

describe('decodeNtp fuzz', () => {
  const seeds = HAVE_ZEEK_DATA
    ? ntpPayloads('ntp/ntp.pcap').slice(0, 6)
    : [Uint8Array.from([0x23, ...new Array<number>(47).fill(0)])];
  it('only DecodeError', () => {
    fc.assert(
      fc.property(fc.oneof(randomBytes(), mutated(seeds)), (b) => onlyDecodeError(() => decodeNtp(b))),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('ntpDecodes says exactly whether decodeNtp succeeds', () => {
    fc.assert(
      fc.property(fc.oneof(randomBytes([], 60), mutated(seeds)), fc.nat({ max: 3 }), (b, off) => {
        let ok = true;
        try {
          decodeNtp(b, off);
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          ok = false;
        }
        expect(ntpDecodes(b, off)).toBe(ok);
      }),
      { numRuns: FUZZ_RUNS * 5 },
    );
  });
});
