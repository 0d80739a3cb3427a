import { mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStack, type Stack } from '../test-support/api.js';
import { ensureWebBuild, webBuildReason, webDist, webRoutes } from './web.js';

describe('web app serving', () => {
  let app: FastifyInstance;
  const dist = mkdtempSync(join(tmpdir(), 'iotsec-web-'));

  beforeAll(async () => {
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(dist, 'favicon.svg'), '<svg/>');
    app = Fastify();
    app.setNotFoundHandler((_req, reply) =>
      reply.status(404).send({ error: { code: 'NOT_FOUND', message: 'no' } }),
    );
    await app.register(webRoutes, { dist });
    app.get('/api/v1/known', async () => ({ ok: true }));
    await app.ready();
  });
  afterAll(async () => app?.close());

  it('serves hashed assets as immutable for a year', async () => {
    const res = await app.inject('/assets/index-abc123.js');
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.headers['content-type']).toMatch(/javascript/);
  });

  it('answers index.html, never cached, for the root and for deep links', async () => {
    for (const url of ['/', '/index.html', '/devices', '/admin/audit?actor=admin', '/devices/12']) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toContain('<div id="root">');
    }
  });

  it('does not answer index.html for the API, the docs, missing assets or files', async () => {
    for (const url of [
      '/api/v1/nope',
      '/api',
      '/docs/nope',
      '/ws',
      '/assets/missing.js',
      '/missing.png',
      '/assets/..%2F..%2Fpackage.json',
    ]) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.body, url).not.toContain('id="root"');
    }
    expect((await app.inject('/api/v1/known')).json()).toEqual({ ok: true });
    const fav = await app.inject('/favicon.svg');
    expect(fav.statusCode).toBe(200);
    expect(fav.headers['cache-control']).toBe('public, max-age=3600');
  });

  it('knows when the build is missing or stale', () => {
    const root = mkdtempSync(join(tmpdir(), 'iotsec-webroot-'));
    expect(webBuildReason(root)).toBeNull(); // nothing to build from
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, 'src', 'main.tsx'), '');
    expect(webBuildReason(root)).toBe('web/dist is missing');
    mkdirSync(join(root, 'dist'));
    writeFileSync(join(root, 'dist', 'index.html'), '');
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(root, 'dist', 'index.html'), past, past);
    expect(webBuildReason(root)).toBe('web/src changed since the last build');
    utimesSync(join(root, 'dist', 'index.html'), new Date(), new Date());
    expect(webBuildReason(root)).toBeNull();
    writeFileSync(join(root, 'src', 'main.test.tsx'), ''); // tests do not go into the bundle
    utimesSync(join(root, 'dist', 'index.html'), past, past);
    utimesSync(join(root, 'src', 'main.tsx'), past, past);
    expect(webBuildReason(root)).toBeNull();
  });
});

describe('the API serves the built dashboard', () => {
  let s: Stack;
  beforeAll(async () => {
    await ensureWebBuild();
    s = await makeStack('embedded');
  });
  afterAll(async () => s?.close());

  it('with the CSP, and with no inline script in index.html', async () => {
    expect(webBuildReason()).toBeNull();
    const res = await s.app.inject('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.body).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js"><\/script>/);
    expect(res.body.match(/<script\b[^>]*>[^<]+<\/script>/g)).toBeNull();
    const deep = await s.app.inject('/admin/users');
    expect(deep.statusCode).toBe(200);
    expect((await s.app.inject('/api/v1/nope')).json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(res.body)?.[1] ?? '';
    const js = await s.app.inject({ url: script, headers: { 'accept-encoding': 'gzip' } });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-encoding']).toBe('gzip');
    expect(js.headers['cache-control']).toContain('immutable');
    // A production build (vitest runs with NODE_ENV=test, which must not leak into the bundle).
    const assets = readdirSync(join(webDist(), 'assets'));
    expect(assets.filter((f) => f.includes('jsx-dev-runtime'))).toEqual([]);
    expect(readFileSync(join(webDist(), script.replace(/^\//, '')), 'utf8')).not.toContain(
      'react-dom.development',
    );
  });
});
