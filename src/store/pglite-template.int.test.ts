import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from './db.js';
import { openPglite, templatePath } from './pglite-template.js';

const root = mkdtempSync(join(tmpdir(), 'iotsec-template-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const count = async (db: Awaited<ReturnType<typeof openPglite>>['db']) =>
  (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM kept')).rows[0]?.n;

describe('new embedded databases start from a template cluster', () => {
  it('keeps the first new cluster as the template, then loads new ones from it, in memory and on disk', async () => {
    const template = join(root, 'cache', 'pglite-test.tar');
    const first = await openPglite('memory://', {}, template);
    expect(first.origin).toBe('initdb');
    await first.db.close();
    expect(existsSync(template)).toBe(true);

    const dir = join(root, 'data-1');
    const second = await openPglite(dir, {}, template);
    expect(second.origin).toBe('template');
    await second.db.exec('CREATE TABLE kept (a int); INSERT INTO kept VALUES (1), (2)');
    expect(
      (await second.db.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v,
    ).toMatch(/^\d+/);
    await second.db.close();

    // The directory now holds a cluster: it opens as it is, the template is not loaded over it.
    const again = await openPglite(dir, {}, template);
    expect(again.origin).toBe('existing');
    expect(await count(again.db)).toBe(2);
    await again.db.close();

    const mem = await openPglite('memory://', {}, template);
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
    const opened = await openPglite(dir, {}, template);
    expect(opened.origin).toBe('initdb');
    await opened.db.exec('CREATE TABLE kept (a int); INSERT INTO kept VALUES (7)');
    await opened.db.close();
    // Replaced by this machine's own cluster, which loads.
    expect(readFileSync(template).subarray(0, 22).toString()).not.toBe('not a tar of a cluster');
    const next = await openPglite(join(root, 'data-3'), {}, template);
    expect(next.origin).toBe('template');
    await next.db.close();
    const reopened = await openPglite(dir, {}, template);
    expect(await count(reopened.db)).toBe(1);
    await reopened.db.close();
  });

  it('without a place for the template (none given, or not writable), a new cluster is made as before', async () => {
    const blocker = join(root, 'a-file');
    writeFileSync(blocker, '');
    const opened = await openPglite('memory://', {}, join(blocker, 'pglite-test.tar'));
    expect(opened.origin).toBe('initdb');
    await opened.db.close();
    const plain = await openPglite('memory://', {}, null);
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
