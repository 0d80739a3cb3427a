import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allows, type Access } from './access.js';
import { bearer, makeStack, type Stack } from '../test-support/api.js';
import type { Role } from '../store/schema.js';

/**
 * The route x role matrix, generated from the app's own route table: every route is called as anonymous,
 * as a sensor API key, and as a viewer, analyst and admin. Whoever the route's access level excludes must
 * get 401 (anonymous) or 403 (wrong role); whoever it admits must get past authorization (any other status).
 */

type Caller = 'anonymous' | Role;
const CALLERS: Caller[] = ['anonymous', 'sensor', 'viewer', 'analyst', 'admin'];

function concrete(url: string): string {
  return url.replace(/:id\b/g, randomUUID()).replace(/:[A-Za-z_]+/g, 'x');
}

describe('route x role matrix', () => {
  let s: Stack;
  const tokens = new Map<Caller, string>();

  beforeAll(async () => {
    s = await makeStack('embedded', { API_RATE_LIMIT: '100000' });
    const actor = { id: null, name: 'test' };
    for (const role of ['viewer', 'analyst', 'admin'] as const) {
      const u = await s.services.users.create(actor, {
        username: `m-${role}`,
        password: 'matrix-password-1',
        role,
      });
      tokens.set(
        role,
        s.app.jwt.sign(
          { sub: u.id, name: u.username, role, jti: randomUUID(), typ: 'access', ims: Date.now() },
          { expiresIn: 600 },
        ),
      );
    }
    const { key } = await s.services.apiKeys.create(actor, { name: 'matrix-sensor' });
    tokens.set('sensor', key);
  });
  afterAll(async () => s?.close());

  it('covers every route with a declared access level', () => {
    expect(s.app.routeTable.length).toBeGreaterThan(10);
    for (const r of s.app.routeTable)
      expect(['public', 'authenticated', 'viewer', 'analyst', 'admin', 'ingest']).toContain(r.access);
  });

  it('admits exactly the roles each route declares', async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const route of s.app.routeTable) {
      if (route.url.startsWith('/docs')) continue;
      for (const caller of CALLERS) {
        // Logout would end the caller's session for the rest of the matrix: sign a throwaway token for it.
        const token = caller === 'anonymous' ? undefined : tokens.get(caller);
        const res = await s.app.inject({
          method: route.method as 'GET',
          url: concrete(route.url),
          headers: {
            ...(token
              ? bearer(
                  route.url.endsWith('/logout') && caller !== 'sensor'
                    ? freshToken(s, caller as Role)
                    : token,
                )
              : {}),
            ...(route.method === 'GET' || route.method === 'DELETE'
              ? {}
              : { 'content-type': 'application/json' }),
          },
          payload: route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}',
        });
        checked++;
        const access = route.access as Access;
        const admitted = access === 'public' || (caller !== 'anonymous' && allows(access, caller));
        const expected = admitted ? 'admitted' : caller === 'anonymous' ? 401 : 403;
        const got = res.statusCode === 401 || res.statusCode === 403 ? res.statusCode : 'admitted';
        if (got !== expected)
          failures.push(
            `${route.method} ${route.url} as ${caller}: expected ${expected}, got ${res.statusCode} ${res.body.slice(0, 120)}`,
          );
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(50);
  });
});

function freshToken(s: Stack, role: Role): string {
  return s.app.jwt.sign(
    { sub: randomUUID(), name: `m-${role}`, role, jti: randomUUID(), typ: 'access', ims: Date.now() },
    { expiresIn: 600 },
  );
}
