import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_RUNS, mutated, onlyDecodeError, randomBytes } from '../../flows/test-support/fuzz.js';
import { DecodeError } from '../errors.js';
import { decodeSsdp } from './decode.js';

// No SSDP trace exists in the Zeek btest set (see zeek-btest-traces/SOURCE.md); these are typical datagrams.
const enc = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const NOTIFY = enc(
  'NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\nLOCATION: http://192.168.1.20:49152/description.xml\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\nSERVER: Linux/3.14 UPnP/1.0 IpBridge/1.48.0\r\nUSN: uuid:2f402f80-da50-11e1-9b23-001788255acd::upnp:rootdevice\r\n\r\n',
);
const MSEARCH = enc(
  'M-SEARCH * HTTP/1.1\r\nHost: 239.255.255.250:1900\r\nMan: "ssdp:discover"\r\nMX: 3\r\nST: ssdp:all\r\nuser-agent: Chromium/120 Linux\r\n\r\n',
);
const RESPONSE = enc(
  'HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=100\r\nEXT:\r\nLOCATION: http://10.0.0.5:80/desc.xml\r\nSERVER: FreeRTOS/6.0.5, UPnP/1.0, IpBridge/1.17.0\r\nST: urn:schemas-upnp-org:device:basic:1\r\nUSN: uuid:abc::urn:schemas-upnp-org:device:basic:1\r\n\r\n',
);

describe('decodeSsdp', () => {
  it('NOTIFY', () => {
    expect(decodeSsdp(NOTIFY)).toMatchObject({
      kind: 'notify',
      method: 'NOTIFY',
      status: null,
      nt: 'upnp:rootdevice',
      nts: 'ssdp:alive',
      server: 'Linux/3.14 UPnP/1.0 IpBridge/1.48.0',
      location: 'http://192.168.1.20:49152/description.xml',
      usn: 'uuid:2f402f80-da50-11e1-9b23-001788255acd::upnp:rootdevice',
      cacheControl: 'max-age=1800',
    });
  });

  it('M-SEARCH with mixed-case header names', () => {
    expect(decodeSsdp(MSEARCH)).toMatchObject({
      kind: 'msearch',
      st: 'ssdp:all',
      man: '"ssdp:discover"',
      userAgent: 'Chromium/120 Linux',
      server: null,
    });
  });

  it('HTTP/1.1 200 response', () => {
    expect(decodeSsdp(RESPONSE)).toMatchObject({
      kind: 'response',
      status: 200,
      server: 'FreeRTOS/6.0.5, UPnP/1.0, IpBridge/1.17.0',
      st: 'urn:schemas-upnp-org:device:basic:1',
      location: 'http://10.0.0.5:80/desc.xml',
    });
  });

  it('rejects garbage and caps header count', () => {
    expect(() => decodeSsdp(enc('hello\r\n\r\n'))).toThrow(DecodeError);
    expect(() => decodeSsdp(enc(`NOTIFY * HTTP/1.1\r\n${'A: b\r\n'.repeat(500)}\r\n`))).toThrow(
      expect.objectContaining({ kind: 'limit' }),
    );
  });

  it('fuzz: only DecodeError', () => {
    fc.assert(
      fc.property(fc.oneof(randomBytes([0x4e, 0x4f]), mutated([NOTIFY, MSEARCH, RESPONSE])), (b) =>
        onlyDecodeError(() => decodeSsdp(b)),
      ),
      { numRuns: FUZZ_RUNS },
    );
  });
});
