import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { sendError } from '../plugins/errors.js';
import type { Services } from '../context.js';

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p,
    new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no answer in ${ms} ms`)), ms).unref()),
  ]);

export const healthRoutes: FastifyPluginAsyncZod<{ services: Services; metrics: Registry }> = async (
  app,
  opts,
) => {
  const started = Date.now();
  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Liveness: the process is up',
        response: { 200: z.object({ status: z.literal('ok'), uptime_s: z.number() }) },
      },
    },
    async () => ({ status: 'ok' as const, uptime_s: Math.round((Date.now() - started) / 1000) }),
  );

  app.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Readiness: the database and the bus (Redis) answer',
        response: { 200: z.object({ status: z.literal('ok'), checks: z.record(z.string(), z.string()) }) },
      },
    },
    async (_req, reply) => {
      const checks: Record<string, string> = {};
      const probe = async (name: string, f: () => Promise<void>) => {
        try {
          await withTimeout(f(), 2000);
          checks[name] = 'ok';
        } catch (e) {
          checks[name] = `down: ${e instanceof Error ? e.message : String(e)}`;
        }
      };
      await Promise.all([
        probe('database', () => opts.services.store.ping()),
        probe(opts.services.bus.kind === 'redis' ? 'redis' : 'bus', () => opts.services.bus.ping()),
      ]);
      const failing = Object.entries(checks).filter(([, v]) => v !== 'ok');
      if (failing.length > 0) {
        return sendError(reply, 'NOT_READY', `Not ready: ${failing.map(([k]) => k).join(', ')} unavailable`, {
          checks,
        });
      }
      return { status: 'ok' as const, checks };
    },
  );

  app.get(
    '/metrics',
    { config: { access: 'public' }, schema: { tags: ['health'], summary: 'Prometheus metrics' } },
    async (_req, reply) => {
      void reply.type(opts.metrics.contentType);
      return opts.metrics.metrics();
    },
  );
};
