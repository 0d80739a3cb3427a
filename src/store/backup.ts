import { spawn } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Config } from '../config.js';
import { openStore } from './db.js';

/**
 * Backups are a folder: the database (a PGlite data-directory snapshot, or a pg_dump custom-format archive
 * of the IoTSec schema and its migration table) plus the model artifacts, described by manifest.json.
 * `iotsec backup DIR` / `iotsec restore DIR`. The embedded database is single-process: stop `iotsec start`
 * first (the lock file says so). On PostgreSQL a backup runs online (pg_dump takes a consistent snapshot).
 */

export interface BackupManifest {
  format: 'iotsec-backup';
  version: 1;
  created_at: string;
  engine: 'pglite' | 'postgres';
  schema: string;
  database_file: string;
  models: boolean;
}

export class BackupError extends Error {
  override readonly name = 'BackupError';
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) =>
      reject(new BackupError(`${cmd}: ${e.message} (is the PostgreSQL client installed?)`)),
    );
    child.on('close', (code) =>
      code === 0
        ? resolveRun()
        : reject(new BackupError(`${cmd} exited ${code}: ${err.trim().slice(0, 2000)}`)),
    );
  });
}

async function isEmptyDir(dir: string): Promise<boolean> {
  if (!existsSync(dir)) return true;
  return (await readdir(dir)).length === 0;
}

export async function backup(config: Config, dir: string): Promise<BackupManifest> {
  const out = resolve(dir);
  if (!(await isEmptyDir(out))) throw new BackupError(`${dir} is not empty; give a new folder`);
  await mkdir(out, { recursive: true });
  const schema = config.databaseSchema ?? 'public';
  let engine: BackupManifest['engine'];
  let databaseFile: string;
  if (config.databaseUrl) {
    engine = 'postgres';
    databaseFile = 'database.pgdump';
    const schemas = schema === 'public' ? ['public', 'drizzle'] : [schema];
    await run('pg_dump', [
      '--format=custom',
      '--no-owner',
      '--no-privileges',
      ...schemas.flatMap((s) => ['--schema', s]),
      '--file',
      join(out, databaseFile),
      '--dbname',
      config.databaseUrl,
    ]);
  } else {
    engine = 'pglite';
    databaseFile = 'database.pglite.tar.gz';
    const store = await openStore({ pgliteDir: join(config.dataDir, 'pglite') });
    try {
      if (!store.dumpDataDir) throw new BackupError('this store cannot dump its data directory');
      const blob = await store.dumpDataDir();
      await writeFile(join(out, databaseFile), Buffer.from(await blob.arrayBuffer()));
    } finally {
      await store.close();
    }
  }
  const modelsDir = join(config.dataDir, 'models');
  const models = existsSync(modelsDir);
  if (models) await cp(modelsDir, join(out, 'models'), { recursive: true });
  const manifest: BackupManifest = {
    format: 'iotsec-backup',
    version: 1,
    created_at: new Date().toISOString(),
    engine,
    schema,
    database_file: databaseFile,
    models,
  };
  await writeFile(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

export async function readManifest(dir: string): Promise<BackupManifest> {
  let m: BackupManifest;
  try {
    m = JSON.parse(await readFile(join(resolve(dir), 'manifest.json'), 'utf8')) as BackupManifest;
  } catch (e) {
    throw new BackupError(
      `${dir}: no readable manifest.json (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  if (m.format !== 'iotsec-backup' || m.version !== 1)
    throw new BackupError(`${dir}: not an IoTSec backup (format ${String(m.format)} v${String(m.version)})`);
  return m;
}

/**
 * Restores a backup into the configured database (replacing what is there) and DATA_DIR/models. The
 * previous embedded database is kept beside it as pglite.before-restore-<time>.
 */
export async function restore(config: Config, dir: string): Promise<BackupManifest> {
  const src = resolve(dir);
  const m = await readManifest(src);
  const dbFile = join(src, m.database_file);
  await stat(dbFile).catch(() => {
    throw new BackupError(`${dir}: ${m.database_file} is missing`);
  });
  if (m.engine === 'postgres') {
    if (!config.databaseUrl)
      throw new BackupError('this backup is of a PostgreSQL database: set DATABASE_URL to restore it');
    await run('pg_restore', [
      '--clean',
      '--if-exists',
      '--no-owner',
      '--no-privileges',
      '--dbname',
      config.databaseUrl,
      dbFile,
    ]);
  } else {
    if (config.databaseUrl)
      throw new BackupError('this backup is of the embedded database: unset DATABASE_URL to restore it');
    const target = join(config.dataDir, 'pglite');
    // Holding the lock proves no other process has the database open.
    const current = await openStore({ pgliteDir: target });
    await current.close();
    if (existsSync(target)) await rename(target, `${target}.before-restore-${Date.now()}`);
    const blob = new Blob([await readFile(dbFile)]);
    const db = await PGlite.create(target, { loadDataDir: blob });
    await db.close();
  }
  if (m.models) {
    const modelsDir = join(config.dataDir, 'models');
    await rm(modelsDir, { recursive: true, force: true });
    await cp(join(src, 'models'), modelsDir, { recursive: true });
  }
  return m;
}
