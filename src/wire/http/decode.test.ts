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
import { decodeHttp, httpStartLineOk, looksLikeHttpRequest, looksLikeHttpResponse } from './decode.js';

const enc = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

function tcpPayloads(trace: string): Uint8Array[] {
  return loadTrace(trace)
    .filter((p) => p.ipProto === 6 && p.payloadLength > 0)
    .map(payloadOf);
}

/** httpStartLineOk never refuses what decodeHttp accepts; what it accepts fails only on a size limit. */
function agreesWithDecode(b: Uint8Array): void {
  let threw = false;
  try {
    decodeHttp(b);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    threw = true;
  }
  if (!httpStartLineOk(b)) expect(threw).toBe(true);
  else if (threw) expect(() => decodeHttp(b)).toThrow(/too long|too many/);
}

describe('decodeHttp (synthetic)', () => {
  it('decodes a request with Basic auth, keeping only the user name', () => {
    const cred = Buffer.from('admin:hunter2').toString('base64');
    const m = decodeHttp(
      enc(
        `GET /cgi-bin/login.cgi?x=1 HTTP/1.1\r\nHOST: cam.local\r\nUser-Agent: curl/8.0\r\nAuthorization: Basic ${cred}\r\n\r\n`,
      ),
    );
    expect(m.kind).toBe('request');
    if (m.kind !== 'request') return;
    expect(m).toMatchObject({
      method: 'GET',
      target: '/cgi-bin/login.cgi?x=1',
      version: '1.1',
      host: 'cam.local',
      userAgent: 'curl/8.0',
      authorizationPresent: true,
      basicAuthUser: 'admin',
      basicAuthPasswordPresent: true,
      headersComplete: true,
    });
    expect(JSON.stringify(m)).not.toContain('hunter2');
    expect(JSON.stringify(m)).not.toContain(cred);
  });

  it('decodes a response status line and Server; an unfinished header block is incomplete, not an error', () => {
    const m = decodeHttp(enc('HTTP/1.0 401 Unauthorized\r\nServer: GoAhead-Webs\r\nContent-Len'));
    expect(m).toMatchObject({
      kind: 'response',
      version: '1.0',
      status: 401,
      reason: 'Unauthorized',
      server: 'GoAhead-Webs',
      headersComplete: false,
    });
    expect(looksLikeHttpResponse(enc('HTTP/1.1 200 OK'))).toBe(true);
    expect(looksLikeHttpRequest(enc('POST / HTTP/1.1'))).toBe(true);
    expect(looksLikeHttpRequest(enc('SSH-2.0-x'))).toBe(false);
  });

  it('rejects non-HTTP and caps line length and header count', () => {
    expect(() => decodeHttp(enc('\x16\x03\x01 hello world'))).toThrow(DecodeError);
    expect(() => decodeHttp(enc(`GET /${'a'.repeat(9000)} HTTP/1.1\r\n\r\n`))).toThrow(
      expect.objectContaining({ kind: 'limit' }),
    );
    const many = `GET / HTTP/1.1\r\n${'X-A: b\r\n'.repeat(200)}\r\n`;
    expect(() => decodeHttp(enc(many))).toThrow(expect.objectContaining({ kind: 'limit' }));
  });
});

describe.skipIf(!HAVE_ZEEK_DATA)(`decodeHttp vs Zeek ${HAVE_ZEEK_DATA ? '' : MISSING_DATA_MESSAGE}`, () => {
  it('ctu-62604-80.pcap: method, host, URI, version, User-Agent, status match http.log', () => {
    const [z] = readZeekLog('scripts.base.protocols.http.ctu-agent-tesla/http.log.cut');
    const msgs = tcpPayloads('http/ctu-62604-80.pcap')
      .filter((b) => looksLikeHttpRequest(b) || looksLikeHttpResponse(b))
      .map((b) => decodeHttp(b));
    const req = msgs.find((m) => m.kind === 'request');
    const res = msgs.find((m) => m.kind === 'response');
    expect(req).toMatchObject({
      method: z?.method,
      host: z?.host,
      target: z?.uri,
      version: z?.version,
      userAgent: z?.user_agent,
    });
    expect(res).toMatchObject({ status: Number(z?.status_code), reason: z?.status_msg });
  });

  it('get.pcap: Host and User-Agent of a wget request', () => {
    const req = tcpPayloads('http/get.pcap')
      .filter((b) => looksLikeHttpRequest(b))
      .map((b) => decodeHttp(b))[0];
    expect(req).toMatchObject({
      kind: 'request',
      method: 'GET',
      host: 'bro.org',
      userAgent: 'Wget/1.14 (darwin12.2.0)',
    });
  });
});

describe('decodeHttp fuzz', () => {
  const seeds = HAVE_ZEEK_DATA
    ? tcpPayloads('http/get.pcap').slice(0, 4)
    : [enc('GET / HTTP/1.1\r\nHost: a\r\n\r\n')];
  it('random bytes and mutated real messages throw only DecodeError', () => {
    fc.assert(
      fc.property(fc.oneof(randomBytes([0x47, 0x45, 0x54, 0x20]), mutated(seeds)), (b) =>
        onlyDecodeError(() => decodeHttp(b)),
      ),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('httpStartLineOk is false only when decodeHttp throws, and true for a valid head', () => {
    const lines = [
      'GET / HTTP/1.1',
      'HTTP/1.0 200 OK',
      'M-SEARCH * HTTP/1.1',
      'HTTP/1.1 20 x',
      'GET  / HTTP/1.1',
    ];
    const parts = fc.constantFrom('\r\n', '\n', '\r', ' ', 'Host: a', '\xa0', 'x'.repeat(40), ...lines);
    const text = fc.array(parts, { maxLength: 12 }).map((xs) => enc(xs.join('')));
    fc.assert(
      fc.property(fc.oneof(text, randomBytes([0x47, 0x45, 0x54, 0x20]), mutated(seeds)), agreesWithDecode),
      { numRuns: FUZZ_RUNS * 5 },
    );
    expect(httpStartLineOk(enc('\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n'))).toBe(true);
    expect(httpStartLineOk(enc('HTTP/1.1 204'))).toBe(true);
    expect(httpStartLineOk(enc('{"json": true}\n'))).toBe(false);
  });

  it('httpStartLineOk rejects by the first byte exactly when the full scan would', () => {
    // Binary bodies: any first byte, then bytes that may or may not hold a line break or a start line.
    const tail = fc.constantFrom('', ' / HTTP/1.1\r\n', 'TTP/1.1 200 OK\r\n', '\n', 'x y z\n');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), tail, randomBytes([]), (first, t, rest) => {
        agreesWithDecode(Uint8Array.from([first, ...enc(t), ...rest]));
      }),
      { numRuns: FUZZ_RUNS * 5 },
    );
    expect(httpStartLineOk(enc('\x89PNG\r\n'))).toBe(false);
    expect(httpStartLineOk(enc('\r\n\r\nHTTP/1.1 200 OK\r\n'))).toBe(true);
    expect(httpStartLineOk(enc('G'))).toBe(false);
  });
});
