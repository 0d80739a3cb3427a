import { describe, expect, it } from 'vitest';
import { KevError, kevById, parseKevCatalog, readKevCatalog } from './kev.js';
import { Readable } from 'node:stream';
import { hasKev, kevCatalog } from './test-fixtures/paths.js';

describe.skipIf(!hasKev)('KEV: the real CISA catalog (needs ../shared/data)', () => {
  it('parses all 1,404 entries of catalogVersion 2025.08.25 without errors', async () => {
    const cat = await readKevCatalog(kevCatalog);
    expect(cat.catalogVersion).toBe('2025.08.25');
    expect(cat.count).toBe(1404);
    expect(cat.entries).toHaveLength(1404);
    expect(cat.errors).toEqual([]);
    const byId = kevById(cat);
    const tp = byId.get('CVE-2023-1389');
    expect(tp?.vendorProject).toBe('TP-Link');
    expect(tp?.dateAdded).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(typeof tp?.knownRansomwareCampaignUse).toBe('boolean');
    const dlink = byId.get('CVE-2020-25078');
    expect(dlink?.vendorProject).toBe('D-Link');
    expect(cat.entries.some((e) => e.knownRansomwareCampaignUse === true)).toBe(true);
  });
});

describe('KEV: validation', () => {
  it('skips bad entries with index and cveID', () => {
    const cat = parseKevCatalog({
      catalogVersion: 'x',
      count: 3,
      vulnerabilities: [
        {
          cveID: 'CVE-2023-1389',
          dateAdded: '2023-05-01',
          dueDate: '2023-05-22',
          knownRansomwareCampaignUse: 'Known',
        },
        { cveID: 'CVE-2023-9999', dateAdded: 'yesterday', dueDate: '2023-05-22' },
        'junk',
      ],
    });
    expect(cat.entries.map((e) => [e.cveId, e.knownRansomwareCampaignUse])).toEqual([
      ['CVE-2023-1389', true],
    ]);
    expect(cat.errors.map((e) => [e.index, e.cveId])).toEqual([
      [1, 'CVE-2023-9999'],
      [2, null],
    ]);
  });
  it('rejects a document that is not a catalog, and broken JSON', async () => {
    expect(() => parseKevCatalog({ foo: 1 })).toThrow(KevError);
    await expect(readKevCatalog(Readable.from([Buffer.from('{"vulnerabilities": [')]))).rejects.toMatchObject(
      {
        code: 'KEV_JSON_SYNTAX',
      },
    );
  });
});
