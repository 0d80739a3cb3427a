/**
 * A new embedded database starts from a copy of a freshly initialised cluster instead of running initdb:
 * PGlite's initdb (PostgreSQL's bootstrap, inside the WASM) takes about 2 s, loading the same cluster from a
 * tar about 0.4 s. The copy is made from this machine's own PGlite the first time a cluster is created here
 * (right after its initdb, before anything is written to it) and kept under the project's
 * `node_modules/.cache/iotsec/`, named after the PGlite version, so it always matches the engine that loads
 * it. Nothing else changes: a data directory that holds a cluster opens as before, and without a usable
 * template (none yet, a read-only cache, a file that fails to load) initdb runs as it always did.
 *
 * Runs on the embedded database's thread (pglite-thread.ts); `templatePath` is worked out by the caller.
 */
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';

/** Where the template for this PGlite version lives, or null when the version cannot be read. */
export function templatePath(projectRoot: string): string | null {
  try {
    const pkg = JSON.parse(
      readFileSync(join(projectRoot, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8'),
    ) as { version?: unknown };
    if (typeof pkg.version !== 'string' || !/^[\w.-]+$/.test(pkg.version)) return null;
    return join(projectRoot, 'node_modules', '.cache', 'iotsec', `pglite-${pkg.version}.tar`);
  } catch {
    return null;
  }
}

/** What creating the database did (tests, logs). */
export type ClusterOrigin = 'existing' | 'template' | 'initdb';

/**
 * Opens the database in `dir` ("memory://…" for one in memory). A new one (no directory yet, or an empty
 * one) is loaded from the template when there is one, else created by initdb and then kept as the template.
 */
export async function openPglite(
  dir: string,
  options: PGliteOptions,
  template: string | null,
): Promise<{ db: PGlite; origin: ClusterOrigin }> {
  const inMemory = dir.startsWith('memory://');
  const existed = inMemory || existsSync(dir);
  const fresh = inMemory || !existed || readdirSync(dir).length === 0;
  if (!fresh) return { db: await PGlite.create(dir, options), origin: 'existing' };
  const tar = template === null ? null : readTemplate(template);
  if (tar && template) {
    try {
      return { db: await PGlite.create(dir, { ...options, loadDataDir: tar }), origin: 'template' };
    } catch {
      // A template that does not load is dropped (the next new cluster makes another); whatever the failed
      // load left in the new directory goes with it.
      rmSync(template, { force: true });
      if (!inMemory) {
        rmSync(dir, { recursive: true, force: true });
        if (existed) mkdirSync(dir);
      }
    }
  }
  const db = await PGlite.create(dir, options);
  if (template) await saveTemplate(db, template);
  return { db, origin: 'initdb' };
}

function readTemplate(file: string): Blob | null {
  try {
    return new Blob([readFileSync(file)]);
  } catch {
    return null;
  }
}

/**
 * Writes the just-initialised cluster as the template (atomically; best effort: a failure only costs speed).
 * Where the cache cannot be written, the 40 MB dump is not made at all.
 */
async function saveTemplate(db: PGlite, file: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    accessSync(dirname(file), constants.W_OK);
    const tar = await db.dumpDataDir('none');
    writeFileSync(tmp, new Uint8Array(await tar.arrayBuffer()));
    renameSync(tmp, file);
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // Nothing was written there either.
    }
  }
}
