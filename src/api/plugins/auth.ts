import type { FastifyInstance, FastifyRequest } from 'fastify';
import { API_KEY_PATTERN } from '../../auth/api-keys.js';
import type { AccessClaims, TokenService } from '../../auth/tokens.js';
import { AppError } from '../../errors.js';
import { allows, type Access, type Principal } from '../access.js';
import type { Services } from '../context.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
    authError: AppError | null;
  }
  interface FastifyInstance {
    /** Every route with its access level, for the route x role matrix test and the docs. */
    routeTable: RouteEntry[];
  }
}

export interface RouteEntry {
  method: string;
  url: string;
  access: Access;
}

interface VerifiedClaims extends AccessClaims {
  iat: number;
  exp: number;
}

function bearer(request: FastifyRequest): string | null {
  const h = request.headers.authorization;
  if (typeof h === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    return m?.[1] ?? null;
  }
  const k = request.headers['x-api-key'];
  return typeof k === 'string' && k.length > 0 ? k : null;
}

function jwtError(e: unknown): AppError {
  const code = (e as { code?: string }).code ?? '';
  if (code === 'FAST_JWT_EXPIRED') return new AppError('TOKEN_EXPIRED');
  return new AppError('TOKEN_INVALID');
}

/** Turns a bearer credential (JWT access token or API key) into a principal, or an error. */
export async function identify(
  app: FastifyInstance,
  services: Services,
  tokens: TokenService,
  credential: string,
): Promise<Principal> {
  if (API_KEY_PATTERN.test(credential)) {
    const key = await services.apiKeys.authenticate(credential);
    if (!key) throw new AppError('TOKEN_INVALID', 'The API key is invalid, expired or revoked.');
    return { kind: 'api_key', id: key.id, name: `api-key:${key.name}`, role: key.role };
  }
  let claims: VerifiedClaims;
  try {
    claims = app.jwt.verify<VerifiedClaims>(credential);
  } catch (e) {
    throw jwtError(e);
  }
  if (
    claims.typ !== 'access' ||
    typeof claims.sub !== 'string' ||
    typeof claims.jti !== 'string' ||
    typeof claims.ims !== 'number'
  ) {
    throw new AppError('TOKEN_INVALID');
  }
  if (await tokens.accessRevoked(claims)) throw new AppError('TOKEN_REVOKED');
  return {
    kind: 'user',
    id: claims.sub,
    name: claims.name,
    role: claims.role,
    jti: claims.jti,
    exp: claims.exp,
  };
}

/**
 * Authentication runs first on every request but only records who is calling or why the credential failed;
 * authorization (registerAuthorization, added after the rate limiter) then applies the route's access level.
 * Both run in onRequest, before the body is parsed or validated, so a caller without the right role learns
 * nothing about the route's schema. A public route ignores a stale token, and the rate limiter between the
 * two counts unauthenticated floods by IP.
 */
export function registerAuth(app: FastifyInstance, services: Services, tokens: TokenService): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('authError', null);
  const table: RouteEntry[] = [];
  app.decorate('routeTable', table);

  app.addHook('onRoute', (route) => {
    let access = (route.config as { access?: Access } | undefined)?.access;
    if (!access) {
      if (!route.url.startsWith('/docs')) {
        throw new Error(
          `route ${String(route.method)} ${route.url} declares no access level (config.access)`,
        );
      }
      access = 'public';
      route.config = { ...(route.config ?? {}), access } as typeof route.config;
    }
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      if (method !== 'HEAD') table.push({ method, url: route.url, access });
    }
  });

  app.addHook('onRequest', async (request) => {
    const credential = bearer(request);
    if (!credential) return;
    try {
      request.principal = await identify(app, services, tokens, credential);
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      request.authError = e;
    }
  });
}

export function registerAuthorization(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    if (request.is404) return; // the not-found handler answers 404 to everyone (the routes are public in /docs)
    const access = request.routeOptions.config.access ?? 'admin';
    if (access === 'public') return;
    if (!request.principal) throw request.authError ?? new AppError('UNAUTHENTICATED');
    if (!allows(access, request.principal.role)) {
      throw new AppError(
        'FORBIDDEN',
        `This action needs the ${access} role; you are ${request.principal.role}.`,
      );
    }
  });
}
