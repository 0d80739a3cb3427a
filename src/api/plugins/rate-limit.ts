import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Kv } from '../../bus/types.js';
import { ROUTE_BUDGETS, type RouteBudget } from '../../config.js';
import { AppError } from '../../errors.js';

/**
 * A stricter budget a route declares in its options, on top of the global one:
 * `config: { access: 'viewer', rateLimit: 'export' }`, or `rateLimit: { budget: 'search', whenQuery: 'q' }`
 * to count only requests that carry a query parameter (a text search, not a plain page of a list).
 */
export type RouteRateLimit = RouteBudget | { budget: RouteBudget; whenQuery?: string };

declare module 'fastify' {
  interface FastifyContextConfig {
    rateLimit?: RouteRateLimit;
  }
}

const WINDOW_MS = 60_000;

function caller(request: FastifyRequest): string {
  return request.principal ? `p:${request.principal.id}` : `ip:${request.ip}`;
}

function retryAfter(resetMs: number): Record<string, string> {
  return { 'retry-after': String(Math.max(1, Math.ceil(resetMs / 1000))) };
}

/**
 * Per-caller request budgets on /api/v1 (per user or API key when authenticated, per client IP otherwise),
 * in fixed one-minute windows kept in the KV (Redis when configured, so replicas share them; in-process
 * counters while Redis is down). Static files, docs, probes and the WebSocket upgrade are not counted.
 *
 * - Global: every /api/ request counts against `perMinute` (API_RATE_LIMIT); past it, 429 RATE_LIMITED.
 * - Per route: a route that declares `config.rateLimit` also counts against that budget (uploads, training
 *   jobs, exports, bulk changes, searches; API_RATE_LIMIT_<BUDGET>), shared by every route of the budget;
 *   past it, 429 ROUTE_RATE_LIMITED with the budget in `details`. This check is a route-level hook, so it
 *   runs after authentication and authorization (only admitted callers spend the budget) and before the
 *   body is read (an upload over budget is refused before a byte of it is stored).
 * Both answers carry Retry-After. Login failures have their own limiter (LOGIN_MAX_FAILURES).
 */
export function registerRateLimit(
  app: FastifyInstance,
  kv: Kv,
  perMinute: number,
  routeLimits: Record<RouteBudget, number>,
): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/')) return;
    const { count, resetMs } = await kv.hit(`rl:api:${caller(request)}`, WINDOW_MS);
    const remaining = Math.max(0, perMinute - count);
    void reply.header('x-ratelimit-limit', String(perMinute));
    void reply.header('x-ratelimit-remaining', String(remaining));
    if (count > perMinute) {
      throw new AppError('RATE_LIMITED', undefined, undefined, retryAfter(resetMs));
    }
  });

  app.addHook('onRoute', (route) => {
    const declared = (route.config as { rateLimit?: RouteRateLimit } | undefined)?.rateLimit;
    if (declared === undefined) return;
    const { budget, whenQuery } = typeof declared === 'string' ? { budget: declared } : declared;
    if (!ROUTE_BUDGETS.includes(budget)) {
      throw new Error(`route ${String(route.method)} ${route.url} declares an unknown rate limit ${budget}`);
    }
    const limit = routeLimits[budget];
    const hook: onRequestHookHandler = async (request, reply) => {
      if (whenQuery !== undefined) {
        const q = request.query as Record<string, unknown> | undefined;
        if (q?.[whenQuery] === undefined || q[whenQuery] === '') return;
      }
      const { count, resetMs } = await kv.hit(`rl:route:${budget}:${caller(request)}`, WINDOW_MS);
      void reply.header('x-ratelimit-route-limit', String(limit));
      void reply.header('x-ratelimit-route-remaining', String(Math.max(0, limit - count)));
      if (count > limit) {
        throw new AppError(
          'ROUTE_RATE_LIMITED',
          `Too many ${budget} requests: at most ${limit} per minute; retry later.`,
          { budget, limit },
          retryAfter(resetMs),
        );
      }
    };
    const existing = route.onRequest;
    route.onRequest = existing === undefined ? [hook] : [hook, ...[existing].flat()];
  });
}
