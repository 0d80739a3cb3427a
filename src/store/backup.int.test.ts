import { mkdirSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { hasPostgres, TEST_DATABASE_URL, uniqueName } from '../test-support/services.js';
import { backup, BackupError, restore } from './backup.js';
import { openStore, queryRows, type Store } from './db.js';

const pg = await hasPostgres();

async function seed(store: Store) {
  await store.migrate();
  await store.db.execute(
    sql`INSERT INTO users (username, password_hash, role) VALUES ('before', 'h', 'viewer')`,
  );
  await store.db.execute(sql`INSERT INTO devices (mac, vendor) VALUES ('00:17:88:00:00:01', 'Philips')`);
}

async function names(store: Store): Promise<string[]> {
  return (
    await queryRows<{ username: string }>(store.db, sql`SELECT username FROM users ORDER BY username`)
  ).map((r) => r.username);
}

describe('backup and restore', () => {
  it('round-trips the embedded database and model artifacts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'iotsec-bk-'));
    const config = loadConfig({ DATA_DIR: dataDir });
    let store = await openStore({ pgliteDir: join(dataDir, 'pglite') });
    await seed(store);
    await store.close();
    mkdirSync(join(dataDir, 'models', 'threat'), { recursive: true });
    writeFileSync(join(dataDir, 'models', 'threat', 'm1.json'), '{"format":"iotsec-model"}');
    const out = join(mkdtempSync(join(tmpdir(), 'iotsec-bk-out-')), 'b1');
    const m = await backup(config, out);
    expect(m.engine).toBe('pglite');
    await expect(backup(config, out)).rejects.toBeInstanceOf(BackupError);

    // Change everything after the backup, then restore.
    store = await openStore({ pgliteDir: join(dataDir, 'pglite') });
    await store.db.execute(
      sql`INSERT INTO users (username, password_hash, role) VALUES ('after', 'h', 'viewer')`,
    );
    await store.close();
    writeFileSync(join(dataDir, 'models', 'threat', 'm1.json'), 'changed');
    await restore(config, out);
    store = await openStore({ pgliteDir: join(dataDir, 'pglite') });
    expect(await names(store)).toEqual(['before']);
    expect(
      (await queryRows<{ n: number }>(store.db, sql`SELECT count(*)::int AS n FROM devices`))[0]?.n,
    ).toBe(1);
    await store.migrate(); // migrations still recorded: nothing re-applied
    await store.close();
    expect(readFileSync(join(dataDir, 'models', 'threat', 'm1.json'), 'utf8')).toBe(
      '{"format":"iotsec-model"}',
    );
  }, 120_000);

  it.skipIf(!pg)(
    'round-trips a PostgreSQL schema with pg_dump/pg_restore',
    async () => {
      const schema = uniqueName('bk');
      const dataDir = mkdtempSync(join(tmpdir(), 'iotsec-bkpg-'));
      const config = loadConfig({
        DATA_DIR: dataDir,
        DATABASE_URL: TEST_DATABASE_URL,
        DATABASE_SCHEMA: schema,
      });
      let store = await openStore({ databaseUrl: TEST_DATABASE_URL, schema });
      await seed(store);
      const out = join(mkdtempSync(join(tmpdir(), 'iotsec-bkpg-out-')), 'b');
      await backup(config, out);
      await store.db.execute(
        sql`INSERT INTO users (username, password_hash, role) VALUES ('after', 'h', 'viewer')`,
      );
      await store.db.execute(sql`DELETE FROM devices`);
      await store.close();
      await restore(config, out);
      store = await openStore({ databaseUrl: TEST_DATABASE_URL, schema });
      expect(await names(store)).toEqual(['before']);
      expect(
        (await queryRows<{ n: number }>(store.db, sql`SELECT count(*)::int AS n FROM devices`))[0]?.n,
      ).toBe(1);
      await store.db.execute(sql.raw(`DROP SCHEMA "${schema}" CASCADE`));
      await store.close();
    },
    120_000,
  );

  it('refuses a folder that is not a backup, and the wrong engine', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotsec-nb-'));
    await expect(restore(loadConfig({ DATA_DIR: dir }), dir)).rejects.toThrow(/manifest/);
    writeFileSync(
      join(dir, 'manifest.json'),
      JSON.stringify({
        format: 'iotsec-backup',
        version: 1,
        engine: 'postgres',
        database_file: 'x',
        models: false,
      }),
    );
    writeFileSync(join(dir, 'x'), '');
    await expect(restore(loadConfig({ DATA_DIR: dir }), dir)).rejects.toThrow(/DATABASE_URL/);
  });
});
