import type { FastifyBaseLogger } from 'fastify';
import { AuditLog } from '../audit/audit-log.js';
import { ApiKeyService } from '../auth/api-keys.js';
import { UserService } from '../auth/users.js';
import type { Bus, Kv } from '../bus/types.js';
import { createBus } from '../bus/index.js';
import type { Config } from '../config.js';
import { openStore, type Store } from '../store/db.js';
import { join } from 'node:path';
import { configureIdentification } from '../devices/service.js';
import { configureDestinationProfiles } from '../detect/destinations/service.js';

/** What every role of the process shares: the store, the bus, the KV and the domain services built on them. */
export interface Services {
  store: Store;
  bus: Bus;
  kv: Kv;
  audit: AuditLog;
  users: UserService;
  apiKeys: ApiKeyService;
  /** Hooks run when a user's sessions must end (set by the API once its token service exists). */
  sessionInvalidators: ((userId: string) => Promise<void>)[];
  close(): Promise<void>;
}

export function buildServices(store: Store, bus: Bus, kv: Kv): Services {
  const audit = new AuditLog(store.db);
  const sessionInvalidators: ((userId: string) => Promise<void>)[] = [];
  const users = new UserService(store.db, audit, async (id) => {
    for (const f of sessionInvalidators) await f(id);
  });
  return {
    store,
    bus,
    kv,
    audit,
    users,
    apiKeys: new ApiKeyService(store.db, audit),
    sessionInvalidators,
    async close() {
      await bus.close();
      await kv.close();
      await store.close();
    },
  };
}

/** Opens the store (and migrates it), the bus and the KV named by the config. */
export async function openServices(config: Config, log?: FastifyBaseLogger): Promise<Services> {
  const onError = (what: string) => (err: Error) => log?.warn({ err }, `${what} connection error`);
  configureIdentification({ dataDir: config.dataDir });
  configureDestinationProfiles({
    enabled: config.destinationProfiles,
    learningHours: config.destinationLearningHours,
  });
  const store = await openStore({
    databaseUrl: config.databaseUrl,
    databaseReadUrl: config.databaseReadUrl,
    pgliteDir: join(config.dataDir, 'pglite'),
    poolMax: config.databasePoolMax,
    schema: config.databaseSchema,
    onError: onError('database'),
  });
  try {
    await store.migrate();
  } catch (e) {
    await store.close();
    throw e;
  }
  const { bus, kv } = await createBus({
    redisUrl: config.redisUrl,
    redisPrefix: config.redisPrefix,
    onError: onError('redis'),
  });
  return buildServices(store, bus, kv);
}
