/**
 * One registry, monitor and model server per process (per Services object): the API routes, the training
 * worker, detection and device typing all share them, so a model loaded once is cached once and every
 * prediction lands in the same statistics. The server is started (event subscription, window timer) by
 * the first caller that serves predictions: `await modelServices(s, config).server.start()`.
 */
import type { Services } from '../../api/context.js';
import type { Config } from '../../config.js';
import { ModelServer } from '../ab/server.js';
import { ModelMonitor } from '../monitor/monitor.js';
import { ModelRegistry } from './registry.js';

export interface ModelServices {
  registry: ModelRegistry;
  monitor: ModelMonitor;
  server: ModelServer;
}

const cache = new WeakMap<Services, ModelServices>();

export function modelServices(
  services: Services,
  config: Pick<Config, 'dataDir' | 'modelDriftPsiThreshold'>,
): ModelServices {
  let m = cache.get(services);
  if (!m) {
    const registry = new ModelRegistry({
      db: services.store.db,
      audit: services.audit,
      bus: services.bus,
      dataDir: config.dataDir,
    });
    const monitor = new ModelMonitor({
      db: services.store.db,
      bus: services.bus,
      driftPsiThreshold: config.modelDriftPsiThreshold,
    });
    const server = new ModelServer({ registry, monitor, bus: services.bus });
    m = { registry, monitor, server };
    cache.set(services, m);
  }
  return m;
}
