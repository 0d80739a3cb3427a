/**
 * A new embedded database starts from a copy of a cluster made earlier on this machine instead of running
 * initdb and every migration: PGlite's initdb (PostgreSQL's bootstrap, inside the WASM) takes about 2 s and
 * the migrations about 0.5 s, while laying a template's files out on disk takes about 0.15 s. Two templates
 * are kept under the project's `node_modules/.cache/iotsec/`, named after the PGlite version so they always
 * match the engine that loads them:
 * - the base template, a freshly initialised cluster, copied right after its initdb;
 * - the migrated template, the same cluster right after the project's migrations ran on it (in the default
 *   schema), named after a hash of the migrations folder, so a changed or added migration makes a new one
 *   (and the stale one is removed when it is replaced).
 * A new cluster is loaded from the migrated template when there is one for these migrations, else from the
 * base one (the migrations then run as usual, and the store saves the result as the migrated template).
 * Nothing else changes: a data directory that holds a cluster opens as before, and without a usable template
 * (none yet, a read-only cache, a file that fails to load) initdb runs as it always did.
 *
 * On disk, a template is laid out by us (tar-entries.ts, the files written concurrently into a sibling
 * directory that is then renamed into place) rather than by PGlite's loader, which creates the thousand
 * files of a cluster one by one through the WASM's file system, at about 0.5 ms each. A process stopped
 * half-way leaves the sibling, never a half-made cluster in the data directory.
 *
 * Runs on the embedded database's thread (pglite-thread.ts); the paths are worked out by the caller.
 */
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { tarEntries } from './tar-entries.js';

/** The template files a new cluster may start from (either may be null: not used). */
export interface TemplatePaths {
  /** A freshly initialised cluster (saved here after an initdb). */
  base: string | null;
  /** The cluster after the project's migrations (saved by the store after it migrates a new cluster). */
  migrated: string | null;
}

/** Where the base template for this PGlite version lives, or null when the version cannot be read. */
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

/** The base template's name with this suffix, then the hash: the migrated templates of one PGlite version. */
const MIGRATED = '-migrated-';

/**
 * Where the migrated template for these migrations lives, beside the base one (`base`, from templatePath),
 * or null when there is no base or the folder cannot be read. The hash covers every file of the migrations
 * folder, names and bytes.
 */
export function migratedTemplatePath(base: string | null, migrationsFolder: string): string | null {
  if (base === null) return null;
  try {
    const hash = createHash('sha256');
    const files = readdirSync(migrationsFolder, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name))
      .sort();
    for (const f of files) {
      hash.update(relative(migrationsFolder, f)).update('\0');
      hash.update(readFileSync(f)).update('\0');
    }
    return base.replace(/\.tar$/, `${MIGRATED}${hash.digest('hex').slice(0, 16)}.tar`);
  } catch {
    return null;
  }
}

/** What creating the database did (tests, logs). */
export type ClusterOrigin = 'existing' | 'migrated-template' | 'template' | 'initdb';

/**
 * Opens the database in `dir` ("memory://…" for one in memory). A new one (no directory yet, or an empty
 * one) is loaded from the migrated template, else the base one, else created by initdb and then kept as the
 * base template.
 */
export async function openPglite(
  dir: string,
  options: PGliteOptions,
  templates: TemplatePaths,
): Promise<{ db: PGlite; origin: ClusterOrigin }> {
  const inMemory = dir.startsWith('memory://');
  const existed = inMemory || existsSync(dir);
  const fresh = inMemory || !existed || readdirSync(dir).length === 0;
  if (!fresh) return { db: await PGlite.create(dir, options), origin: 'existing' };
  const tries: [string | null, ClusterOrigin][] = [
    [templates.migrated, 'migrated-template'],
    [templates.base, 'template'],
  ];
  for (const [file, origin] of tries) {
    const tar = file === null ? null : readTemplate(file);
    if (tar === null || file === null) continue;
    try {
      if (inMemory)
        return { db: await PGlite.create(dir, { ...options, loadDataDir: new Blob([tar]) }), origin };
      await layOut(tar, dir);
      return { db: await PGlite.create(dir, options), origin };
    } catch {
      // A template that does not load is dropped (the next new cluster makes another); whatever the failed
      // load left in the new directory goes with it.
      rmSync(file, { force: true });
      if (!inMemory) {
        rmSync(dir, { recursive: true, force: true });
        if (existed) mkdirSync(dir);
      }
    }
  }
  const db = await PGlite.create(dir, options);
  if (templates.base) await saveTemplate(db, templates.base);
  return { db, origin: 'initdb' };
}

function readTemplate(file: string): Uint8Array | null {
  try {
    return readFileSync(file);
  } catch {
    return null;
  }
}

/** Concurrent file writes while laying a template out (the thread pool runs four at a time by default). */
const WRITES_IN_FLIGHT = 16;

/**
 * Writes the template's files into a sibling of `dir`, then puts it in the place of `dir` (which is
 * missing or empty). Throws when the tar cannot be read or a write fails, leaving `dir` as it was.
 */
async function layOut(tar: Uint8Array, dir: string): Promise<void> {
  const entries = tarEntries(tar);
  // A staging directory left by a process stopped half-way is scratch: the data directory's lock
  // (db.ts) keeps two processes from laying out the same directory.
  const stale = `${basename(dir)}.template-`;
  mkdirSync(dirname(dir), { recursive: true });
  for (const other of readdirSync(dirname(dir)))
    if (other.startsWith(stale)) rmSync(join(dirname(dir), other), { recursive: true, force: true });
  const staging = `${dir}.template-${process.pid}`;
  try {
    await mkdir(staging, { recursive: true, mode: 0o700 });
    for (const e of entries)
      if (e.type === 'directory') await mkdir(join(staging, e.path), { recursive: true });
    let next = 0;
    const writer = async () => {
      for (let e = entries[next++]; e !== undefined; e = entries[next++])
        if (e.type === 'file') await writeFile(join(staging, e.path), e.data);
    };
    await Promise.all(Array.from({ length: WRITES_IN_FLIGHT }, writer));
    if (existsSync(dir)) rmdirSync(dir); // empty (checked by the caller): refuses otherwise
    renameSync(staging, dir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Writes the cluster as a template (atomically; best effort: a failure only costs speed). Where the cache
 * cannot be written, the 40 MB dump is not made at all. Saving a migrated template removes the ones made
 * for other migrations of the same PGlite version.
 */
export async function saveTemplate(db: PGlite, file: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    accessSync(dirname(file), constants.W_OK);
    const tar = await db.dumpDataDir('none');
    writeFileSync(tmp, new Uint8Array(await tar.arrayBuffer()));
    renameSync(tmp, file);
    removeStaleMigrated(file);
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // Nothing was written there either.
    }
  }
}

function removeStaleMigrated(file: string): void {
  const name = basename(file);
  const at = name.indexOf(MIGRATED);
  if (at < 0) return;
  const family = name.slice(0, at + MIGRATED.length);
  for (const other of readdirSync(dirname(file)))
    if (other !== name && other.startsWith(family) && other.endsWith('.tar'))
      rmSync(join(dirname(file), other), { force: true });
}
