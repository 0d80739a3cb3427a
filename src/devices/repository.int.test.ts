import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../store/db.js';
import { dropSchema, storeEngines } from '../test-support/services.js';
import { listDevices, sortValue, type ListFilter, type Sort } from './repository.js';

/**
 * Cursor pagination of the inventory never skips or repeats a device, even when many devices share a
 * millisecond and differ only in microseconds (PostgreSQL keeps microseconds; a JS Date does not).
 */

const engines = await storeEngines();
const N = 30;

describe.each(engines)('device list pagination on $name', (engine) => {
  let store: Store;

  beforeAll(async () => {
    store = await engine.open();
    await store.migrate();
    // 30 devices within two milliseconds: last_seen and first_seen differ by microseconds only.
    await store.db.execute(sql`
      INSERT INTO devices (mac, first_seen, last_seen)
      SELECT '00:1b:63:00:00:' || lpad(to_hex(g), 2, '0'),
             '2026-11-20T10:00:00.000Z'::timestamptz + make_interval(secs => (g % 7) * 0.000137),
             '2026-11-25T08:00:00.000Z'::timestamptz + make_interval(secs => (g % 11) * 0.000173)
      FROM generate_series(1, ${N}) g`);
  });

  afterAll(async () => {
    await dropSchema(store);
    await store.close();
  });

  const sorts: Sort[] = ['last_seen', 'first_seen'];
  for (const sort of sorts) {
    for (const order of ['asc', 'desc'] as const) {
      it(`pages through every device sorted by ${sort} ${order}, each once`, async () => {
        const seen: number[] = [];
        let after: ListFilter['after'];
        for (let page = 0; page < 20; page++) {
          const rows = await listDevices(store.db, { sort, order, limit: 7, after, offlineMinutes: 10 });
          seen.push(...rows.map((r) => r.id));
          const last = rows[rows.length - 1];
          if (rows.length < 7 || !last) break;
          after = { v: sortValue(last, sort), id: last.id };
        }
        expect(seen).toHaveLength(N);
        expect(new Set(seen).size).toBe(N);
      });
    }
  }
});
