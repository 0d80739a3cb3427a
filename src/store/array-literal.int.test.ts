import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, type Store } from './db.js';
import { intArrayLiteral, textArrayLiteral } from './array-literal.js';
import { dropSchema, storeEngines } from '../test-support/services.js';

const engines = await storeEngines();

describe.each(engines)('array literals, read back by $name', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await engine.open();
  });
  afterAll(async () => {
    await dropSchema(store);
    await store.close();
  });

  it('carries any text, NULLs and integers exactly', async () => {
    const texts = fc.array(
      fc.oneof(
        // PostgreSQL text holds no NUL.
        fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => s.replaceAll(String.fromCharCode(0), '')),
        fc.constantFrom('NULL', '', ' a ', '{x,y}', '"q"', 'back\\slash', null),
      ),
      { maxLength: 30 },
    );
    const ints = fc.array(fc.oneof(fc.integer(), fc.constant(null), fc.constant(1_714_564_800_123)), {
      maxLength: 30,
    });
    await fc.assert(
      fc.asyncProperty(texts, ints, async (t, n) => {
        const [row] = await queryRows<{ t: (string | null)[]; n: (string | null)[] }>(
          store.db,
          sql`SELECT ${textArrayLiteral(t)}::text[] AS t, ${intArrayLiteral(n)}::int8[] AS n`,
        );
        expect(row?.t ?? []).toEqual(t);
        expect((row?.n ?? []).map((x) => (x === null ? null : Number(x)))).toEqual(n);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses a non-integer for int8[]', () => {
    expect(() => intArrayLiteral([1.5])).toThrow(RangeError);
  });
});
