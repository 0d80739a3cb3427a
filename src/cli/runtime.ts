import { pino, type Logger } from 'pino';
import { join } from 'node:path';
import { buildApp } from '../api/app.js';
import { ensureWebBuild } from '../api/web.js';
import { openServices, type Services } from '../api/context.js';
import { generatePassword } from '../auth/passwords.js';
import { startHealthServer } from './health-server.js';
import { Collector, configureNetflowSpool, type SourceSpec } from '../collector/collector.js';
import type { Config } from '../config.js';
import { startIngestJobs } from '../worker/ingest-jobs.js';
import { startMaintenance } from '../worker/maintenance.js';
import { startBaselines } from '../worker/baselines.js';
import { startTraining } from '../worker/training.js';
import { startConfiguredExporters } from '../alerts/exporters/index.js';
import { startVulnWorker } from '../vulns/service/jobs.js';

export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel, base: { pid: process.pid } });
}

/** Creates the first admin when the database has no user; prints a generated password exactly once. */
export async function bootstrapAdmin(
  services: Services,
  config: Config,
  out: NodeJS.WritableStream = process.stdout,
) {
  const password = config.adminPassword ?? generatePassword();
  const created = await services.users.ensureFirstAdmin(config.adminUsername, password);
  if (created && !config.adminPassword) {
    const line = '='.repeat(64);
    out.write(
      `\n${line}\n  IoTSec first start: admin account created\n    username: ${created.username}\n` +
        `    password: ${password}\n  This password is shown once. Change it after logging in.\n${line}\n\n`,
    );
  }
}

export interface RoleHandle {
  name: string;
  stop(): Promise<void>;
}

export async function startApiRole(config: Config, services: Services, log: Logger): Promise<RoleHandle> {
  await ensureWebBuild(log); // (re)build web/dist when missing or older than web/src
  const app = await buildApp(config, { services });
  await app.listen({ port: config.port, host: config.host });
  const scheme = config.tls ? 'https' : 'http';
  const shown = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  log.info(`API and dashboard on ${scheme}://${shown}:${config.port} (docs at /docs)`);
  return { name: 'api', stop: () => app.close() };
}

export async function startWorkerRole(config: Config, services: Services, log: Logger): Promise<RoleHandle> {
  const wlog = log.child({ role: 'worker' });
  const stops = [await startMaintenance(services, config, wlog), await startIngestJobs(services, wlog)];
  stops.push(await startTraining(services, config, wlog));
  stops.push(await startBaselines(services, config, wlog));
  stops.push(await startVulnWorker(services, config, wlog));
  stops.push(await startConfiguredExporters(services, config, wlog));
  log.info('worker running');
  return {
    name: 'worker',
    stop: async () => {
      for (const stop of stops) await stop();
    },
  };
}

export async function startCollectorRole(
  config: Config,
  services: Services,
  log: Logger,
  cliSources: SourceSpec[] = [],
  demo: 'auto' | 'on' | 'off' = 'off',
): Promise<RoleHandle> {
  configureNetflowSpool({
    dir: join(config.dataDir, 'spool'),
    maxBytes: config.netflowSpoolMb * 1024 * 1024,
  });
  const collector = new Collector(services, log.child({ role: 'collector' }));
  await collector.start(cliSources, demo);
  log.info({ sources: collector.sources.map((s) => s.spec.name) }, 'collector running');
  return { name: 'collector', stop: () => collector.stop() };
}

/**
 * Runs the given roles in this process until SIGTERM/SIGINT, then stops them in reverse order (the API
 * stops accepting and finishes in-flight requests first) and closes the services.
 */
export async function runRoles(
  config: Config,
  starters: ((services: Services, log: Logger) => Promise<RoleHandle>)[],
  opts: { bootstrap: boolean; healthServer?: boolean },
): Promise<number> {
  const log = createLogger(config);
  const services = await openServices(config, log);
  const handles: RoleHandle[] = [];
  try {
    if (opts.bootstrap) await bootstrapAdmin(services, config);
    if (opts.healthServer && config.healthPort !== undefined) {
      const server = await startHealthServer(services, config.healthPort, config.host);
      handles.push({ name: 'health', stop: () => new Promise<void>((r) => server.close(() => r())) });
    }
    for (const start of starters) handles.push(await start(services, log));
  } catch (e) {
    for (const h of handles.reverse()) await h.stop().catch(() => undefined);
    await services.close();
    throw e;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      const force = setTimeout(() => {
        log.error('shutdown took longer than 30 s; exiting');
        resolve(1);
      }, 30_000);
      force.unref();
      for (const h of [...handles].reverse()) {
        try {
          await h.stop();
        } catch (err) {
          log.error({ err, role: h.name }, 'error while stopping');
        }
      }
      await services.close().catch((err: unknown) => log.error({ err }, 'error while closing services'));
      clearTimeout(force);
      resolve(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });
}
