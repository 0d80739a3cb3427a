import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Services } from '../api/context.js';

/**
 * /healthz, /readyz and /metrics for the roles without an HTTP API (worker, collector), so orchestrators
 * can probe them like the API (Kubernetes liveness/readiness, compose health checks).
 */
export async function startHealthServer(services: Services, port: number, host: string): Promise<Server> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'iotsec_' });
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET')
      return json(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'GET only' } });
    if (path === '/healthz') return json(200, { status: 'ok' });
    if (path === '/readyz') {
      Promise.all([services.store.ping(), services.bus.ping()]).then(
        () => json(200, { status: 'ok' }),
        (e: unknown) =>
          json(503, {
            error: { code: 'NOT_READY', message: e instanceof Error ? e.message : 'dependency down' },
          }),
      );
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (m) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(m);
        },
        () => json(500, { error: { code: 'INTERNAL', message: 'metrics failed' } }),
      );
      return;
    }
    json(404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
