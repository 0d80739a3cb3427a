import type { FastifyInstance } from 'fastify';
import type { Kv } from '../../bus/types.js';
import { AppError } from '../../errors.js';

/**
 * Per-caller request budget on /api/v1 (per user or API key when authenticated, per client IP otherwise),
 * in fixed one-minute windows kept in the KV (Redis when configured, so replicas share them). Static files,
 * docs, probes and the WebSocket upgrade are not counted. Login failures have their own, stricter limiter.
 */
export function registerRateLimit(app: FastifyInstance, kv: Kv, perMinute: number): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/')) return;
    const who = request.principal ? `p:${request.principal.id}` : `ip:${request.ip}`;
    const { count, resetMs } = await kv.hit(`rl:api:${who}`, 60_000);
    const remaining = Math.max(0, perMinute - count);
    void reply.header('x-ratelimit-limit', String(perMinute));
    void reply.header('x-ratelimit-remaining', String(remaining));
    if (count > perMinute) {
      throw new AppError('RATE_LIMITED', undefined, undefined, {
        'retry-after': String(Math.ceil(resetMs / 1000)),
      });
    }
  });
}
