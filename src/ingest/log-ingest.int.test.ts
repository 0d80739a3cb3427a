import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../bus/memory.js';
import { readZeekLog } from '../sources/zeek/read.js';
import { queryRows, type Store } from '../store/db.js';
import { dropSchema, hasSharedData, SHARED_DATA, storeEngines } from '../test-support/services.js';
import { ingestFile } from './file-ingest.js';

const engines = await storeEngines();
const CONN_42 = join(SHARED_DATA, 'iot23-dev', 'CTU-IoT-Malware-Capture-42-1', 'bro', 'conn.log.labeled');
const EVE = join(import.meta.dirname, '..', 'sources', 'suricata', 'test-fixtures', 'eve.jsonl');

describe.skipIf(!hasSharedData).each(engines)('log ingest on $name', (engine) => {
  let store: Store;
  const bus = new MemoryBus();
  beforeAll(async () => {
    store = await engine.open();
    await store.migrate();
  });
  afterAll(async () => {
    await dropSchema(store);
    await store.close();
    await bus.close();
  });

  it('stores every connection of a labelled IoT-23 Zeek log with its uid and label', async () => {
    let expected = 0;
    for await (const it of readZeekLog(CONN_42)) if (it.kind === 'flow') expected++;
    const s = await ingestFile({ store, bus }, CONN_42);
    expect(s.format).toBe('zeek');
    expect(s.flows).toBe(expected);
    const rows = await queryRows<{ n: number; malicious: number; uids: number }>(
      store.db,
      sql`SELECT count(*)::int AS n, count(*) FILTER (WHERE label ILIKE 'malicious%')::int AS malicious,
            count(uid)::int AS uids FROM network_traffic`,
    );
    expect(Number(rows[0]?.n)).toBe(expected);
    expect(Number(rows[0]?.malicious)).toBe(6);
    expect(Number(rows[0]?.uids)).toBe(expected);
    // Zeek shows no MACs here: the local hosts are inventoried by IP.
    const devs = await queryRows<{ n: number }>(
      store.db,
      sql`SELECT count(*)::int AS n FROM devices WHERE mac IS NULL`,
    );
    expect(Number(devs[0]?.n)).toBeGreaterThan(0);
  });

  it('reads the same log gzipped, and Suricata EVE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotsec-logs-'));
    const gz = join(dir, 'conn.log.gz');
    writeFileSync(gz, gzipSync(readFileSync(CONN_42)));
    const s = await ingestFile({ store, bus }, gz);
    expect(s.format).toBe('zeek');
    expect(s.flows).toBeGreaterThan(0);
    const eve = await ingestFile({ store, bus }, EVE);
    expect(eve.format).toBe('eve');
    expect(eve.flows + eve.observations).toBeGreaterThan(0);
  });
});
