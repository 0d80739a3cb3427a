import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { messages } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, queryRows, type Store } from './db.js';
import { PgliteThreadClient } from './pglite-client.js';

/** The embedded database on its own thread (pglite-client.ts, pglite-thread.ts), against real PGlite. */
describe('embedded database thread', () => {
  let client: PgliteThreadClient;
  beforeAll(async () => {
    client = await PgliteThreadClient.open('memory://', null);
    await client.exec('CREATE TABLE t (id int PRIMARY KEY, name text, at timestamptz, n int8, b bytea)');
  });
  afterAll(async () => {
    await client.close();
  });

  it('returns rows as PGlite does, with int8 as a number and pass-through parsers honoured', async () => {
    await client.query('INSERT INTO t VALUES (1, $1, $2, $3, $4)', [
      'a\tb',
      '2024-05-01T12:00:00.123Z',
      '9007199254740991',
      new Uint8Array([0, 255]),
    ]);
    const objects = await client.query<{ id: number; name: string; at: Date; n: number; b: Uint8Array }>(
      'SELECT * FROM t WHERE id = 1',
    );
    expect(objects.rows).toEqual([
      {
        id: 1,
        name: 'a\tb',
        at: new Date('2024-05-01T12:00:00.123Z'),
        n: 9007199254740991,
        b: new Uint8Array([0, 255]),
      },
    ]);
    expect(objects.fields.map((f) => f.name)).toEqual(['id', 'name', 'at', 'n', 'b']);
    const raw = await client.query('SELECT at FROM t', [], {
      rowMode: 'array',
      parsers: { 1184: (v: string) => v },
    });
    expect(raw.rows).toEqual([['2024-05-01 12:00:00.123+00']]);
    await expect(client.query('SELECT 1', [], { parsers: { 23: (v: string) => Number(v) } })).rejects.toThrow(
      /cannot cross/,
    );
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    await client.transaction(async (tx) => {
      await tx.query('INSERT INTO t (id, name) VALUES (2, $1)', ['kept']);
    });
    await expect(
      client.transaction(async (tx) => {
        await tx.query('INSERT INTO t (id, name) VALUES (3, $1)', ['gone']);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    const ids = await client.query<{ id: number }>('SELECT id FROM t ORDER BY id');
    expect(ids.rows.map((r) => r.id)).toEqual([1, 2]);
  });

  it('holds other statements back while a transaction is open, as PGlite does in-thread', async () => {
    const order: string[] = [];
    let outside: Promise<unknown> = Promise.resolve();
    await client.transaction(async (tx) => {
      await tx.query('INSERT INTO t (id, name) VALUES (4, $1)', ['in tx']);
      outside = client.query<{ n: number }>('SELECT count(*)::int AS n FROM t').then((r) => {
        order.push(`outside saw ${r.rows[0]?.n}`);
      });
      await new Promise((r) => setTimeout(r, 50));
      order.push('tx ends');
    });
    await outside;
    expect(order).toEqual(['tx ends', 'outside saw 3']);
  });

  it("raises PostgreSQL errors as PGlite's DatabaseError with their code and constraint", async () => {
    const e: unknown = await client.query('INSERT INTO t (id) VALUES (1)').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(messages.DatabaseError);
    expect(e).toMatchObject({ code: '23505', constraint: 't_pkey', table: 't' });
  });

  it('carries COPY data in a blob both ways', async () => {
    await client.exec('CREATE TABLE c (a int, s text)');
    await client.query("COPY c FROM '/dev/blob'", [], { blob: new Blob(['1\tone\n2\ttwo\n']) });
    const out = await client.query("COPY (SELECT * FROM c ORDER BY a) TO '/dev/blob'");
    expect(await out.blob?.text()).toBe('1\tone\n2\ttwo\n');
  });

  it('goes on with other work while the database works', async () => {
    // In-thread, PGlite's WASM holds the caller's thread for the whole statement, so no timer could fire.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = Date.now();
    await client.query('SELECT count(*) FROM generate_series(1, 3000000) g WHERE g % 7 = 0');
    clearInterval(timer);
    const took = Date.now() - started;
    expect(took).toBeGreaterThan(100);
    expect(ticks).toBeGreaterThan(took / 5 / 4);
  });
});

describe('embedded store on its thread', () => {
  let dir: string;
  let store: Store;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'iotsec-pglite-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps what was written across a close and reopen, and refuses queries once closed', async () => {
    store = await openStore({ pgliteDir: join(dir, 'pglite') });
    await store.migrate();
    await store.db.execute(sql`INSERT INTO settings (key, value) VALUES ('k', '{"v": 1}'::jsonb)`);
    await store.close();
    await expect(store.ping()).rejects.toThrow(/closed/);
    store = await openStore({ pgliteDir: join(dir, 'pglite') });
    const rows = await queryRows<{ value: unknown }>(
      store.db,
      sql`SELECT value FROM settings WHERE key = 'k'`,
    );
    expect(rows).toEqual([{ value: { v: 1 } }]);
    await store.close();
  });
});
