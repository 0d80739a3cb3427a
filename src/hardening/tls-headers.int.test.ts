import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStack, type Stack } from '../test-support/api.js';
import { toolMissing } from './private-servers.js';

/**
 * Transport headers over real sockets (issue 11): with TLS_CERT/TLS_KEY the API serves HTTPS and sends
 * Strict-Transport-Security; without them it serves plain HTTP and never sends HSTS (a browser would pin a
 * site that cannot answer HTTPS). Both send the CSP (no inline script, no framing, no plugins),
 * X-Content-Type-Options and the other helmet headers, on the API, the probes and error answers alike.
 * The certificate is a throwaway self-signed one made by openssl for 127.0.0.1.
 */

const skip = toolMissing('openssl', spawnSync('openssl', ['version']).status === 0);

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
}

function fetchHeaders(url: string, ca?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const done = (res: { statusCode?: number; headers: IncomingHttpHeaders; resume(): void }) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    };
    const req =
      u.protocol === 'https:' ? httpsRequest(u, { ca, servername: 'localhost' }, done) : httpRequest(u, done);
    req.on('error', reject);
    req.end();
  });
}

/** The directives of a Content-Security-Policy header, by name. */
function csp(header: string | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of (header ?? '').split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) out.set(name.toLowerCase(), values);
  }
  return out;
}

function expectCommonHeaders(h: IncomingHttpHeaders) {
  const policy = csp(h['content-security-policy'] as string | undefined);
  expect(policy.get('script-src')).toEqual(["'self'"]);
  expect(policy.get('default-src')).toEqual(["'self'"]);
  expect(policy.get('frame-ancestors')).toEqual(["'none'"]);
  expect(policy.get('object-src')).toEqual(["'none'"]);
  expect(policy.get('base-uri')).toEqual(["'self'"]);
  for (const [name, values] of policy) {
    if (name.startsWith('script-src') || name === 'default-src') {
      expect(values).not.toContain("'unsafe-inline'");
      expect(values).not.toContain("'unsafe-eval'");
    }
  }
  expect(h['x-content-type-options']).toBe('nosniff');
  expect(h['x-frame-options']).toBe('SAMEORIGIN');
  expect(h['referrer-policy']).toBe('no-referrer');
  expect(h['x-powered-by']).toBeUndefined();
}

describe.skipIf(skip)('security headers over HTTPS and plain HTTP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iotsec-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  let tls: Stack;
  let plain: Stack;
  let httpsBase = '';
  let httpBase = '';

  beforeAll(async () => {
    const r = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    tls = await makeStack('embedded', { TLS_CERT: cert, TLS_KEY: key });
    plain = await makeStack('embedded');
    httpsBase = await tls.app.listen({ host: '127.0.0.1', port: 0 });
    httpBase = await plain.app.listen({ host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await tls?.close();
    await plain?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS with HSTS when TLS is configured', async () => {
    expect(httpsBase).toMatch(/^https:\/\//);
    const ca = readFileSync(cert);
    for (const path of ['/healthz', '/api/v1/devices/', '/api/v1/no-such-route']) {
      const res = await fetchHeaders(`${httpsBase}${path}`, ca);
      expect(res.status).toBe(path === '/healthz' ? 200 : path === '/api/v1/devices/' ? 401 : 404);
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expectCommonHeaders(res.headers);
    }
    // The certificate is really checked: a client that does not trust it is refused.
    await expect(fetchHeaders(`${httpsBase}/healthz`)).rejects.toThrow(/self[- ]signed|certificate/i);
  });

  it('never sends HSTS over plain HTTP, and keeps the other headers', async () => {
    expect(httpBase).toMatch(/^http:\/\//);
    for (const path of ['/healthz', '/api/v1/devices/', '/api/v1/no-such-route']) {
      const res = await fetchHeaders(`${httpBase}${path}`);
      expect(res.headers['strict-transport-security']).toBeUndefined();
      expectCommonHeaders(res.headers);
    }
  });
});
