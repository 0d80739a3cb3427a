import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import type { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as schema from './schema.js';
import { migratedTemplatePath, templatePath, type ClusterOrigin } from './pglite-template.js';
import { PgliteThreadClient } from './pglite-client.js';
import { StoreLockedError } from './errors.js';

export { StoreLockedError } from './errors.js';

export type Schema = typeof schema;
/** The one query interface both engines share. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle (same query surface as Db). */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface StoreOptions {
  /** postgres:// URL; undefined means embedded PGlite. */
  databaseUrl?: string | undefined;
  databaseReadUrl?: string | undefined;
  /** Directory for PGlite data (DATA_DIR/pglite); ignored for PostgreSQL. "memory://" for in-memory. */
  pgliteDir?: string;
  poolMax?: number;
  /** Schema to use instead of public (created when missing). */
  schema?: string | undefined;
  /** Called on pool-level errors (an idle connection dropped by the server). */
  onError?: (err: Error) => void;
}

export interface Store {
  readonly engine: 'pglite' | 'postgres';
  readonly schemaName: string;
  /** Primary: all writes and consistent reads. */
  readonly db: Db;
  /** Heavy reads (charts, flow search): the read replica when DATABASE_READ_URL is set, else the primary. */
  readonly readDb: Db;
  ping(): Promise<void>;
  migrate(): Promise<void>;
  /** Embedded only: how the cluster came to be (opened as it was, or made new from a template or by initdb). */
  readonly origin?: ClusterOrigin;
  /** Embedded only: a consistent tar.gz snapshot of the whole database directory (for backups). */
  dumpDataDir?(): Promise<Blob>;
  close(): Promise<void>;
}

const INT8_OID = 20;

/** The repository root (where drizzle/ lives), found from this file whether run from src or dist. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'drizzle'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the project root (package.json next to drizzle/)');
}

const migrationsFolder = () => join(projectRoot(), 'drizzle');
const MIGRATION_LOCK = 727_001; // pg_advisory_lock key: one migrator at a time across processes

function pgPool(url: string, max: number, schemaName: string | undefined, onError?: (e: Error) => void) {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    // Same shapes as PGlite: int8 as a JS number (counts and byte totals stay far below 2^53).
    types: {
      getTypeParser: (oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format),
    },
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    ...(schemaName ? { options: `-c search_path=${schemaName},public` } : {}),
  });
  pool.on('error', (err) => onError?.(err));
  return pool;
}

class PgStore implements Store {
  readonly engine = 'postgres' as const;
  readonly db: Db;
  readonly readDb: Db;
  private constructor(
    private readonly pool: pg.Pool,
    private readonly readPool: pg.Pool | undefined,
    readonly schemaName: string,
  ) {
    this.db = drizzlePg(pool, { schema }) as unknown as Db;
    this.readDb = readPool ? (drizzlePg(readPool, { schema }) as unknown as Db) : this.db;
  }

  static async open(opts: StoreOptions & { databaseUrl: string }): Promise<PgStore> {
    const schemaName = opts.schema ?? 'public';
    if (opts.schema) {
      // The schema must exist before a search_path naming it is useful.
      const admin = new pg.Client({ connectionString: opts.databaseUrl });
      await admin.connect();
      try {
        await admin.query(`CREATE SCHEMA IF NOT EXISTS "${opts.schema}"`);
      } finally {
        await admin.end();
      }
    }
    const pool = pgPool(opts.databaseUrl, opts.poolMax ?? 10, opts.schema, opts.onError);
    const readPool = opts.databaseReadUrl
      ? pgPool(opts.databaseReadUrl, opts.poolMax ?? 10, opts.schema, opts.onError)
      : undefined;
    return new PgStore(pool, readPool, schemaName);
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        await migratePg(drizzlePg(client, { schema }), {
          migrationsFolder: migrationsFolder(),
          migrationsSchema: this.schemaName === 'public' ? 'drizzle' : this.schemaName,
        });
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      }
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
    await this.readPool?.end();
  }
}

/**
 * PGlite takes no lock on its directory and a second instance corrupts it, so we hold a lock file
 * (pid inside) for as long as the store is open. A lock left by a dead process is taken over.
 */
function acquireDirLock(dir: string): () => void {
  // Beside the directory, not inside it, so a dump of the directory never carries the lock.
  mkdirSync(dirname(dir), { recursive: true });
  const lockPath = `${dir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(lockPath, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new StoreLockedError(dir, pid);
      }
      rmSync(lockPath, { force: true });
    }
  }
  throw new StoreLockedError(dir, -1);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * drizzle's PGlite driver takes a PGlite instance and calls only its query and transaction, which the
 * database thread's client provides with PGlite's own signatures and behaviour.
 */
const asPglite = (c: PgliteThreadClient): PGlite => c as unknown as PGlite;

class PgliteStore implements Store {
  readonly engine = 'pglite' as const;
  readonly db: Db;
  readonly readDb: Db;
  private constructor(
    private readonly client: PgliteThreadClient,
    private readonly release: () => void,
    readonly schemaName: string,
    /** Where to save the cluster once migrated: a new cluster not already made from that template. */
    private migratedTemplate: string | null,
  ) {
    this.db = drizzlePglite(asPglite(client), { schema }) as unknown as Db;
    this.readDb = this.db;
  }

  get origin(): ClusterOrigin {
    return this.client.origin;
  }

  static async open(opts: StoreOptions): Promise<PgliteStore> {
    const dir = opts.pgliteDir ?? 'memory://';
    const inMemory = dir.startsWith('memory://');
    const release = inMemory ? () => undefined : acquireDirLock(resolve(dir));
    try {
      // The migrated template holds the default schema's tables; a store in a schema of its own migrates.
      const base = templatePath(projectRoot());
      const migrated = opts.schema ? null : migratedTemplatePath(base, migrationsFolder());
      const client = await PgliteThreadClient.open(inMemory ? dir : resolve(dir), opts.schema ?? null, {
        base,
        migrated,
      });
      const fresh = client.origin === 'template' || client.origin === 'initdb';
      return new PgliteStore(client, release, opts.schema ?? 'public', fresh ? migrated : null);
    } catch (e) {
      release();
      throw e;
    }
  }

  async ping(): Promise<void> {
    await this.client.query('SELECT 1');
  }

  async dumpDataDir(): Promise<Blob> {
    return this.client.dumpDataDir();
  }

  async migrate(): Promise<void> {
    await migratePglite(drizzlePglite(asPglite(this.client), { schema }), {
      migrationsFolder: migrationsFolder(),
      migrationsSchema: this.schemaName === 'public' ? 'drizzle' : this.schemaName,
    });
    // A new cluster just migrated holds nothing but the schema: the next new one can start from it.
    const template = this.migratedTemplate;
    this.migratedTemplate = null;
    if (template) await this.client.saveTemplate(template);
  }

  async close(): Promise<void> {
    try {
      await this.client.close();
    } finally {
      this.release();
    }
  }
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  return opts.databaseUrl ? PgStore.open({ ...opts, databaseUrl: opts.databaseUrl }) : PgliteStore.open(opts);
}

/** Rows of a raw SQL query, with the same shape on both engines. */
export async function queryRows<T>(db: Db | Tx, query: ReturnType<typeof sql>): Promise<T[]> {
  const res = (await db.execute(query)) as unknown as { rows: T[] };
  return res.rows;
}
