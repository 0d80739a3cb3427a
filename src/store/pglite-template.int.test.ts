import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { openStore, projectRoot, queryRows } from './db.js';
import { migratedTemplatePath, openPglite, saveTemplate, templatePath } from './pglite-template.js';

const root = mkdtempSync(join(tmpdir(), 'iotsec-template-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Only a base template (the migrated one is tested below). */
const base = (file: string | null) => ({ base: file, migrated: null });

const count = async (db: Awaited<ReturnType<typeof openPglite>>['db']) =>
  (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM kept')).rows[0]?.n;

describe('new embedded databases start from a template cluster', () => {
  it('keeps the first new cluster as the template, then loads new ones from it, in memory and on disk', async () => {
    const template = join(root, 'cache', 'pglite-test.tar');
    const first = await openPglite('memory://', {}, base(template));
    expect(first.origin).toBe('initdb');
    await first.db.close();
    expect(existsSync(template)).toBe(true);

    const dir = join(root, 'data-1');
    const second = await openPglite(dir, {}, base(template));
    expect(second.origin).toBe('template');
    await second.db.exec('CREATE TABLE kept (a int); INSERT INTO kept VALUES (1), (2)');
    expect(
      (await second.db.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v,
    ).toMatch(/^\d+/);
    await second.db.close();

    // The directory now holds a cluster: it opens as it is, the template is not loaded over it.
    const again = await openPglite(dir, {}, base(template));
    expect(again.origin).toBe('existing');
    expect(await count(again.db)).toBe(2);
    await again.db.close();

    const mem = await openPglite('memory://', {}, base(template));
    expect(mem.origin).toBe('template');
    expect((await mem.db.query<{ n: number }>('SELECT 1 AS n')).rows[0]?.n).toBe(1);
    await mem.db.close();
  });

  it('a template that does not load is dropped and initdb runs; an empty directory is a new one', async () => {
    const template = join(root, 'bad', 'pglite-test.tar');
    mkdirSync(join(root, 'bad'));
    writeFileSync(template, 'not a tar of a cluster');
    const dir = join(root, 'data-2');
    mkdirSync(dir); // empty: new
    const opened = await openPglite(dir, {}, base(template));
    expect(opened.origin).toBe('initdb');
    await opened.db.exec('CREATE TABLE kept (a int); INSERT INTO kept VALUES (7)');
    await opened.db.close();
    // Replaced by this machine's own cluster, which loads.
    expect(readFileSync(template).subarray(0, 22).toString()).not.toBe('not a tar of a cluster');
    const next = await openPglite(join(root, 'data-3'), {}, base(template));
    expect(next.origin).toBe('template');
    await next.db.close();
    const reopened = await openPglite(dir, {}, base(template));
    expect(await count(reopened.db)).toBe(1);
    await reopened.db.close();
  });

  it('without a place for the template (none given, or not writable), a new cluster is made as before', async () => {
    const blocker = join(root, 'a-file');
    writeFileSync(blocker, '');
    const opened = await openPglite('memory://', {}, base(join(blocker, 'pglite-test.tar')));
    expect(opened.origin).toBe('initdb');
    await opened.db.close();
    const plain = await openPglite('memory://', {}, base(null));
    expect(plain.origin).toBe('initdb');
    await plain.db.close();
  });

  it("names the template after the installed PGlite version, inside the project's node_modules cache", () => {
    const version = (
      JSON.parse(
        readFileSync(join(projectRoot(), 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8'),
      ) as { version: string }
    ).version;
    expect(templatePath(projectRoot())).toBe(
      join(projectRoot(), 'node_modules', '.cache', 'iotsec', `pglite-${version}.tar`),
    );
    expect(templatePath(join(root, 'no-project'))).toBeNull();
  });
});

describe('the migrated template', () => {
  it('a new cluster starts from it when there is one, else from the base; a broken one is dropped', async () => {
    const base = join(root, 'm', 'pglite-test.tar');
    const migrated = join(root, 'm', 'pglite-test-migrated-aaaa.tar');
    const templates = { base, migrated };
    const first = await openPglite(join(root, 'm-1'), {}, templates);
    expect(first.origin).toBe('initdb');
    // What a migration would do, then the store's save.
    await first.db.exec('CREATE TABLE kept (a int); INSERT INTO kept VALUES (1), (2), (3)');
    await saveTemplate(first.db, migrated);
    await first.db.close();

    for (const dir of [join(root, 'm-2'), 'memory://']) {
      const next = await openPglite(dir, {}, templates);
      expect(next.origin).toBe('migrated-template');
      expect(await count(next.db)).toBe(3);
      await next.db.close();
    }
    // Laid out beside the data directory, then moved in: nothing of the staging is left.
    expect(readdirSync(root).filter((n) => n.includes('.template-'))).toEqual([]);
    // A staging directory left by a process stopped half-way is removed by the next layout there, and the
    // data directory never held a half-made cluster.
    mkdirSync(join(root, 'm-5.template-99999', 'base'), { recursive: true });
    writeFileSync(join(root, 'm-5.template-99999', 'base', 'half'), 'x');
    const after = await openPglite(join(root, 'm-5'), {}, templates);
    expect(after.origin).toBe('migrated-template');
    expect(await count(after.db)).toBe(3);
    await after.db.close();
    expect(readdirSync(root).filter((n) => n.includes('.template-'))).toEqual([]);

    // Saving the template of other migrations replaces the stale one; the base one stays.
    const newer = join(root, 'm', 'pglite-test-migrated-bbbb.tar');
    const again = await openPglite(join(root, 'm-3'), {}, templates);
    await saveTemplate(again.db, newer);
    await again.db.close();
    expect(readdirSync(join(root, 'm')).sort()).toEqual(['pglite-test-migrated-bbbb.tar', 'pglite-test.tar']);

    writeFileSync(newer, 'damaged');
    const fallback = await openPglite(join(root, 'm-4'), {}, { base, migrated: newer });
    expect(fallback.origin).toBe('template');
    await expect(count(fallback.db)).rejects.toThrow(/kept/);
    await fallback.db.close();
    expect(existsSync(newer)).toBe(false);
  });

  it('is named after the migrations: a changed migration file names another one', () => {
    const folder = join(root, 'migrations');
    mkdirSync(join(folder, 'meta'), { recursive: true });
    writeFileSync(join(folder, '0000_a.sql'), 'CREATE TABLE a (x int);');
    writeFileSync(join(folder, 'meta', '_journal.json'), '{}');
    const one = migratedTemplatePath(templatePath(projectRoot()), folder);
    expect(one).toMatch(/pglite-[\w.-]+-migrated-[0-9a-f]{16}\.tar$/);
    expect(migratedTemplatePath(templatePath(projectRoot()), folder)).toBe(one);
    writeFileSync(join(folder, '0000_a.sql'), 'CREATE TABLE a (x bigint);');
    expect(migratedTemplatePath(templatePath(projectRoot()), folder)).not.toBe(one);
    expect(migratedTemplatePath(templatePath(projectRoot()), join(root, 'missing'))).toBeNull();
    expect(migratedTemplatePath(null, folder)).toBeNull();
  });

  it("the store saves a new cluster once migrated, and the next new one opens with the project's tables", async () => {
    const file = migratedTemplatePath(templatePath(projectRoot()), join(projectRoot(), 'drizzle'));
    expect(file).not.toBeNull();
    rmSync(file as string, { force: true });
    const a = await openStore({ pgliteDir: join(root, 's-1') });
    expect(a.origin).not.toBe('migrated-template');
    await a.migrate();
    await a.close();
    expect(existsSync(file as string)).toBe(true);

    const b = await openStore({ pgliteDir: join(root, 's-2') });
    expect(b.origin).toBe('migrated-template');
    await b.migrate(); // nothing left to apply
    const [row] = await queryRows<{ n: number }>(b.db, sql`SELECT count(*)::int AS n FROM devices`);
    expect(row?.n).toBe(0);
    await b.close();

    // A store in a schema of its own does not start from it (its tables are in public).
    const c = await openStore({ pgliteDir: 'memory://', schema: 'elsewhere' });
    expect(c.origin).not.toBe('migrated-template');
    await c.close();
  });
});
