import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import {
  ADMIN_PASSWORD,
  bearer,
  errorCode,
  login,
  makeStack,
  stackKinds,
  type Stack,
} from '../test-support/api.js';

const kinds = await stackKinds();

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
function forge(header: object, payload: object, key: string | null): string {
  const head = `${b64(header)}.${b64(payload)}`;
  return key === null ? `${head}.` : `${head}.${createHmac('sha256', key).update(head).digest('base64url')}`;
}

describe.each(kinds)('API on %s stack', (kind) => {
  let s: Stack;
  let admin: { access_token: string; refresh_token: string };

  beforeAll(async () => {
    s = await makeStack(kind);
    admin = await login(s.app, 'admin', ADMIN_PASSWORD);
  });
  afterAll(async () => s?.close());

  it('answers the probes and serves Prometheus metrics and the OpenAPI document', async () => {
    expect((await s.app.inject('/healthz')).json()).toMatchObject({ status: 'ok' });
    const ready = await s.app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ok', checks: { database: 'ok' } });
    const metrics = await s.app.inject('/metrics');
    expect(metrics.body).toContain('iotsec_http_request_duration_seconds_bucket');
    const doc = (await s.app.inject('/docs/json')).json() as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/auth/login', '/api/v1/users/', '/api/v1/audit-log/']),
    );
    expect((await s.app.inject('/docs')).statusCode).toBeLessThan(400);
  });

  it('sets security headers and a request id', async () => {
    const res = await s.app.inject('/healthz');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['content-security-policy']).not.toContain("unsafe-inline'; script");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-request-id']).toBeTruthy();
    expect(res.headers['strict-transport-security']).toBeUndefined(); // no TLS configured
  });

  it('runs the first-start story: admin creates a viewer, the viewer is refused admin actions', async () => {
    const created = await s.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: bearer(admin.access_token),
      payload: { username: 'vera', password: 'viewer-password-1', role: 'viewer' },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ username: 'vera', role: 'viewer' });
    expect(created.body).not.toContain('password');
    const viewer = await login(s.app, 'vera', 'viewer-password-1');
    const denied = await s.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: bearer(viewer.access_token),
      payload: { username: 'mallory', password: 'mallory-password', role: 'admin' },
    });
    expect(denied.statusCode).toBe(403);
    expect(errorCode(denied)).toBe('FORBIDDEN');
    const dup = await s.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: bearer(admin.access_token),
      payload: { username: 'VERA', password: 'viewer-password-1', role: 'viewer' },
    });
    expect(errorCode(dup)).toBe('USER_EXISTS');
    expect(dup.statusCode).toBe(409);
  });

  it('limits failed logins: the sixth wrong password in a minute gets 429 with Retry-After', async () => {
    const attempt = () =>
      s.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'admin', password: 'wrong-password' },
        remoteAddress: '10.9.8.7',
      });
    for (let i = 0; i < 5; i++) {
      const r = await attempt();
      expect(r.statusCode).toBe(401);
      expect(errorCode(r)).toBe('INVALID_CREDENTIALS');
    }
    const sixth = await attempt();
    expect(sixth.statusCode).toBe(429);
    expect(errorCode(sixth)).toBe('LOGIN_RATE_LIMITED');
    expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(0);
    // Even the right password is refused while the account is blocked.
    const right = await s.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: ADMIN_PASSWORD },
      remoteAddress: '10.9.8.7',
    });
    expect(right.statusCode).toBe(429);
    await s.services.kv.del('login-block:user:admin');
    await s.services.kv.del('login-block:ip:10.9.8.7');
  });

  it('rotates refresh tokens and revokes the whole family when an old one is reused', async () => {
    const first = await login(s.app, 'admin', ADMIN_PASSWORD);
    const r1 = await s.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: first.refresh_token },
    });
    expect(r1.statusCode).toBe(200);
    const second = r1.json() as { refresh_token: string; access_token: string };
    expect(second.refresh_token).not.toBe(first.refresh_token);
    const reuse = await s.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: first.refresh_token },
    });
    expect(reuse.statusCode).toBe(401);
    expect(errorCode(reuse)).toBe('REFRESH_TOKEN_REUSED');
    const afterReuse = await s.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: second.refresh_token },
    });
    expect(afterReuse.statusCode).toBe(401);
    expect(errorCode(afterReuse)).toBe('TOKEN_REVOKED');
  });

  it('logout revokes the access token and the refresh family', async () => {
    const t = await login(s.app, 'admin', ADMIN_PASSWORD);
    const out = await s.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: bearer(t.access_token),
      payload: { refresh_token: t.refresh_token },
    });
    expect(out.statusCode).toBe(204);
    const me = await s.app.inject({ url: '/api/v1/auth/me', headers: bearer(t.access_token) });
    expect(me.statusCode).toBe(401);
    expect(errorCode(me)).toBe('TOKEN_REVOKED');
    const refresh = await s.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: t.refresh_token },
    });
    expect(refresh.statusCode).toBe(401);
  });

  it('a role change takes effect at once: the old token stops working', async () => {
    const created = await s.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: bearer(admin.access_token),
      payload: { username: 'ana', password: 'analyst-password', role: 'analyst' },
    });
    const id = (created.json() as { id: string }).id;
    const ana = await login(s.app, 'ana', 'analyst-password');
    const demote = await s.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${id}`,
      headers: bearer(admin.access_token),
      payload: { role: 'viewer' },
    });
    expect(demote.json()).toMatchObject({ role: 'viewer' });
    const stale = await s.app.inject({ url: '/api/v1/auth/me', headers: bearer(ana.access_token) });
    expect(stale.statusCode).toBe(401);
    const fresh = await login(s.app, 'ana', 'analyst-password');
    const me = await s.app.inject({ url: '/api/v1/auth/me', headers: bearer(fresh.access_token) });
    expect(me.json()).toMatchObject({ role: 'viewer' });
  });

  it('never lets the last admin be demoted, disabled or deleted', async () => {
    const me = (
      await s.app.inject({ url: '/api/v1/auth/me', headers: bearer(admin.access_token) })
    ).json() as {
      id: string;
    };
    for (const payload of [{ role: 'viewer' }, { disabled: true }]) {
      const r = await s.app.inject({
        method: 'PATCH',
        url: `/api/v1/users/${me.id}`,
        headers: bearer(admin.access_token),
        payload,
      });
      expect(errorCode(r)).toBe('LAST_ADMIN');
    }
    const del = await s.app.inject({
      method: 'DELETE',
      url: `/api/v1/users/${me.id}`,
      headers: bearer(admin.access_token),
    });
    expect(errorCode(del)).toBe('LAST_ADMIN');
  });

  it('rejects forged, expired and wrong-algorithm JWTs', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: 'x',
      name: 'admin',
      role: 'admin',
      jti: 'j',
      typ: 'access',
      ims: Date.now(),
      iat: now,
      exp: now + 600,
    };
    const cases: [string, string][] = [
      ['alg none', forge({ alg: 'none', typ: 'JWT' }, claims, null)],
      ['wrong key', forge({ alg: 'HS256', typ: 'JWT' }, claims, 'not-the-secret-not-the-secret-123')],
      ['HS512 with the right key', forge({ alg: 'HS512', typ: 'JWT' }, claims, s.config.jwtSecret ?? '')],
      ['garbage', 'abc.def.ghi'],
    ];
    for (const [name, token] of cases) {
      const r = await s.app.inject({ url: '/api/v1/users', headers: bearer(token) });
      expect(r.statusCode, name).toBe(401);
      expect(errorCode(r), name).toBe('TOKEN_INVALID');
    }
    const expired = forge(
      { alg: 'HS256', typ: 'JWT' },
      { ...claims, iat: now - 1000, exp: now - 10 },
      s.config.jwtSecret ?? '',
    );
    const r = await s.app.inject({ url: '/api/v1/users', headers: bearer(expired) });
    expect(errorCode(r)).toBe('TOKEN_EXPIRED');
    const future = forge(
      { alg: 'HS256', typ: 'JWT' },
      { ...claims, nbf: now + 3600 },
      s.config.jwtSecret ?? '',
    );
    expect((await s.app.inject({ url: '/api/v1/users', headers: bearer(future) })).statusCode).toBe(401);
    const anon = await s.app.inject({ url: '/api/v1/users' });
    expect(errorCode(anon)).toBe('UNAUTHENTICATED');
  });

  it('gives bad input a 4xx with a stable code and no stack trace', async () => {
    const h = { ...bearer(admin.access_token), 'content-type': 'application/json' };
    const cases: { payload: string; code: string; status: number }[] = [
      { payload: '{"username": ', code: 'MALFORMED_JSON', status: 400 },
      {
        payload: '{"username":"u1","password":"long-enough-pass","role":"viewer","admin":true}',
        code: 'VALIDATION_FAILED',
        status: 400,
      },
      { payload: '{"username":"u2","password":12,"role":"viewer"}', code: 'VALIDATION_FAILED', status: 400 },
      {
        payload: '{"username":"u3","password":"long-enough-pass","role":"root"}',
        code: 'VALIDATION_FAILED',
        status: 400,
      },
      { payload: '{"username":"u4","password":"short","role":"viewer"}', code: 'WEAK_PASSWORD', status: 400 },
      {
        payload: JSON.stringify({ username: 'x'.repeat(2_000_000) }),
        code: 'PAYLOAD_TOO_LARGE',
        status: 413,
      },
    ];
    for (const c of cases) {
      const r = await s.app.inject({ method: 'POST', url: '/api/v1/users', headers: h, payload: c.payload });
      expect(r.statusCode, c.payload.slice(0, 60)).toBe(c.status);
      expect(errorCode(r), c.payload.slice(0, 60)).toBe(c.code);
      expect(r.body).not.toMatch(/at .*\.(ts|js):\d+/);
    }
    const notFound = await s.app.inject({ url: '/api/v1/nope' });
    expect(notFound.statusCode).toBe(404);
    expect(errorCode(notFound)).toBe('NOT_FOUND');
    const badId = await s.app.inject({
      url: '/api/v1/users/not-a-uuid',
      headers: bearer(admin.access_token),
    });
    expect(errorCode(badId)).toBe('VALIDATION_FAILED');
    const badCursor = await s.app.inject({
      url: '/api/v1/users?cursor=%%%',
      headers: bearer(admin.access_token),
    });
    expect(errorCode(badCursor)).toBe('INVALID_CURSOR');
    const xml = await s.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { ...bearer(admin.access_token), 'content-type': 'application/xml' },
      payload: '<user/>',
    });
    expect(xml.statusCode).toBe(415);
    // Nothing half-written: none of the rejected users exists.
    const list = (
      await s.app.inject({ url: '/api/v1/users', headers: bearer(admin.access_token) })
    ).json() as {
      items: { username: string }[];
    };
    expect(list.items.map((u) => u.username)).not.toEqual(expect.arrayContaining(['u1', 'u2', 'u3', 'u4']));
  });

  it('pages lists with a cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/api/v1/users?limit=1${cursor ? `&cursor=${cursor}` : ''}`;
      const r = (await s.app.inject({ url, headers: bearer(admin.access_token) })).json() as {
        items: { username: string }[];
        next_cursor: string | null;
      };
      seen.push(...r.items.map((u) => u.username));
      cursor = r.next_cursor;
    } while (cursor);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('issues sensor API keys that may only push data, and revokes them', async () => {
    const created = await s.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: bearer(admin.access_token),
      payload: { name: 'edge-sensor-1' },
    });
    expect(created.statusCode).toBe(201);
    const { key, api_key } = created.json() as { key: string; api_key: { id: string; role: string } };
    expect(api_key.role).toBe('sensor');
    const me = await s.app.inject({ url: '/api/v1/auth/me', headers: { 'x-api-key': key } });
    expect(me.json()).toMatchObject({ kind: 'api_key', role: 'sensor' });
    const users = await s.app.inject({ url: '/api/v1/users', headers: bearer(key) });
    expect(users.statusCode).toBe(403);
    const listed = await s.app.inject({ url: '/api/v1/api-keys', headers: bearer(admin.access_token) });
    expect(listed.body).not.toContain(key);
    await s.app.inject({
      method: 'DELETE',
      url: `/api/v1/api-keys/${api_key.id}`,
      headers: bearer(admin.access_token),
    });
    const after = await s.app.inject({ url: '/api/v1/auth/me', headers: bearer(key) });
    expect(after.statusCode).toBe(401);
  });

  it('records logins, failures, user and key changes in a tamper-evident audit log', async () => {
    const r = await s.app.inject({
      url: '/api/v1/audit-log?limit=1000',
      headers: bearer(admin.access_token),
    });
    const items = (r.json() as { items: { action: string; outcome: string }[] }).items;
    const actions = items.map((i) => `${i.action}:${i.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'auth.login:success',
        'auth.login:failure',
        'auth.login:denied',
        'user.create:success',
        'user.role:success',
        'api_key.create:success',
        'api_key.revoke:success',
        'auth.refresh_reuse:denied',
        'auth.logout:success',
      ]),
    );
    const filtered = await s.app.inject({
      url: '/api/v1/audit-log?action=user.create',
      headers: bearer(admin.access_token),
    });
    expect(
      (filtered.json() as { items: { action: string }[] }).items.every((i) => i.action === 'user.create'),
    ).toBe(true);
    expect((await s.services.audit.verify()).broken).toBeNull();
    await s.services.store.db.execute(
      sql`UPDATE audit_log SET actor = 'someone-else' WHERE id = (SELECT min(id) + 1 FROM audit_log)`,
    );
    const v = await s.services.audit.verify();
    expect(v.broken?.reason).toMatch(/content/);
  });
});
