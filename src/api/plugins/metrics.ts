import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Bus } from '../../bus/types.js';

/**
 * Prometheus metrics for this process: HTTP latency histograms by route plus Node's defaults, and (Redis
 * bus) the events waiting for Redis, forwarded late and dropped during an outage.
 */
export function registerMetrics(app: FastifyInstance, bus?: Bus): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'iotsec_' });
  const http = new Histogram({
    name: 'iotsec_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    http.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
  const stats = bus?.forwardStats?.bind(bus);
  if (stats) {
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(read());
        },
      });
    gauge('iotsec_bus_forward_pending', 'Events waiting for Redis to come back', () => stats().pending);
    gauge(
      'iotsec_bus_forwarded_late_total',
      'Events forwarded to Redis after an outage',
      () => stats().forwardedLate,
    );
    gauge(
      'iotsec_bus_forward_dropped_total',
      'Events that reached only local subscribers because the forward buffer was full during a Redis outage',
      () => stats().dropped,
    );
  }
  return registry;
}
