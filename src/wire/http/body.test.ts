import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_RUNS, mutated, randomBytes } from '../../flows/test-support/fuzz.js';
import { dechunk, HttpResponseHead, scanHttpResponseHead } from './body.js';

const enc = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

const XML_HEAD =
  'HTTP/1.1 200 OK\r\nCONTENT-LENGTH: 3412\r\nCONTENT-TYPE: text/xml; charset="utf-8"\r\nSERVER: Unspecified, UPnP/1.0, Unspecified\r\n\r\n';

function scan(s: string): HttpResponseHead | null {
  const h = new HttpResponseHead();
  return scanHttpResponseHead(enc(s), 0, s.length, h) ? h : null;
}

describe('scanHttpResponseHead', () => {
  it('reads status, length, XML content type and where the body starts', () => {
    expect(scan(`${XML_HEAD}<?xml`)).toMatchObject({
      status: 200,
      contentLength: 3412,
      xml: true,
      chunked: false,
      encoded: false,
      headLength: XML_HEAD.length,
    });
    expect(
      scan('HTTP/1.0 200 OK\nContent-Type : application/soap+xml\nTransfer-Encoding: Chunked\n\n'),
    ).toMatchObject({ xml: true, chunked: true, contentLength: -1 });
    expect(
      scan('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n\r\n'),
    ).toMatchObject({ xml: false, encoded: true });
    expect(scan('HTTP/1.1 404 Not Found\r\nContent-Length: 12x\r\n\r\n')).toMatchObject({
      status: 404,
      contentLength: -1,
    });
  });

  it('false for requests, cut heads and garbage', () => {
    expect(scan('GET / HTTP/1.1\r\nHost: x\r\n\r\n')).toBeNull();
    expect(scan(XML_HEAD.slice(0, -2))).toBeNull();
    expect(scan('HTTP/1.1 2x0 OK\r\n\r\n')).toBeNull();
    expect(scan(`HTTP/1.1 200 OK\r\n${'A: b\r\n'.repeat(200)}\r\n`)).toBeNull();
  });
});

describe('dechunk', () => {
  it('joins chunks, ignores extensions and says when the last chunk was read', () => {
    const body = '5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n';
    const r = dechunk(enc(body), 0, body.length, 1024);
    expect([text(r.body), r.done]).toEqual(['hello, world', true]);
    const cut = dechunk(enc(body), 0, 20, 1024);
    expect([text(cut.body), cut.done]).toEqual(['hello,', false]);
    expect(dechunk(enc('zz\r\n'), 0, 4, 1024).done).toBe(true);
    const capped = dechunk(enc('a\r\n0123456789\r\n'), 0, 15, 4);
    expect([text(capped.body), capped.done]).toEqual(['0123', true]);
  });

  it('fuzz: never throws, never returns more than max', () => {
    const seeds = [enc('5\r\nhello\r\n0\r\n\r\n'), enc('1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n')];
    fc.assert(
      fc.property(fc.oneof(randomBytes([0x31, 0x0d, 0x0a]), mutated(seeds)), fc.nat(64), (b, max) => {
        const r = dechunk(b, 0, b.length, max);
        return r.body.length <= max;
      }),
      { numRuns: FUZZ_RUNS },
    );
    fc.assert(
      fc.property(fc.oneof(randomBytes([0x48, 0x54, 0x54, 0x50]), mutated([enc(XML_HEAD)])), (b) => {
        const h = new HttpResponseHead();
        const ok = scanHttpResponseHead(b, 0, b.length, h);
        return !ok || (h.headLength > 0 && h.headLength <= b.length);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
