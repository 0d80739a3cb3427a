import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { NvdImportError, collectNvd, importNvd } from './import.js';
import type { NvdImportItem } from './import.js';
import { fkieDir, hasNvd, nvdSubset } from '../test-fixtures/paths.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'iotsec-nvd-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function rec(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    published: '2020-01-01T00:00:00.000',
    lastModified: '2020-01-02T00:00:00.000',
    descriptions: [{ lang: 'en', value: `desc ${id}` }],
    metrics: {
      cvssMetricV2: [
        {
          source: 'nvd@nist.gov',
          type: 'Primary',
          cvssData: { version: '2.0', vectorString: 'AV:N/AC:L/Au:N/C:P/I:P/A:P', baseScore: 7.5 },
          baseSeverity: 'HIGH',
        },
      ],
    },
    configurations: [
      {
        nodes: [
          {
            operator: 'OR',
            negate: false,
            cpeMatch: [{ vulnerable: true, criteria: 'cpe:2.3:h:linksys:wap11:*:*:*:*:*:*:*:*' }],
          },
        ],
      },
    ],
    ...extra,
  };
}
const page = (records: unknown[], version = '2.0'): string =>
  JSON.stringify({
    resultsPerPage: records.length,
    startIndex: 0,
    totalResults: records.length,
    format: 'NVD_CVE',
    version,
    timestamp: '2025-05-15T07:00:00.000',
    vulnerabilities: records.map((cve) => ({ cve })),
  });
const write = (name: string, data: string | Buffer): string => {
  const p = path.join(tmp, name);
  writeFileSync(p, data);
  return p;
};

async function drain(
  src: Parameters<typeof importNvd>[0],
): Promise<{ items: NvdImportItem[]; error: unknown }> {
  const items: NvdImportItem[] = [];
  try {
    for await (const it of importNvd(src)) items.push(it);
    return { items, error: null };
  } catch (e) {
    return { items, error: e };
  }
}

describe('importNvd on synthetic inputs', () => {
  it('reads a single record and normalises metrics (V2 severity lives outside cvssData)', async () => {
    const r = await collectNvd(write('one.json', JSON.stringify(rec('CVE-2020-0001'))));
    expect(r.summary.shape).toBe('record');
    expect(r.records).toHaveLength(1);
    expect(r.records[0]?.cvss).toEqual({
      version: '2.0',
      baseScore: 7.5,
      severity: 'HIGH',
      vector: 'AV:N/AC:L/Au:N/C:P/I:P/A:P',
      source: 'nvd@nist.gov',
    });
    expect(r.records[0]?.configurations[0]?.operator).toBe('OR');
  });

  it('reads an API page from a stream, keeping envelope metadata', async () => {
    const text = page([rec('CVE-2020-0001'), rec('CVE-2020-0002')]);
    const r = await collectNvd(Readable.from([Buffer.from(text)]));
    expect(r.records.map((x) => x.id)).toEqual(['CVE-2020-0001', 'CVE-2020-0002']);
    expect(r.summary).toMatchObject({
      shape: 'envelope',
      version: '2.0',
      format: 'NVD_CVE',
      totalResults: 2,
    });
  });

  it('reads gzip (sniffed by magic bytes, not the name)', async () => {
    const p = write('page.json', gzipSync(page([rec('CVE-2020-0001'), rec('CVE-2020-0003')])));
    const r = await collectNvd(p);
    expect(r.records.map((x) => x.id)).toEqual(['CVE-2020-0001', 'CVE-2020-0003']);
  });

  it('skips and reports bad records with index and CVE id, and keeps going', async () => {
    const bad1 = rec('CVE-2020-0002', { configurations: [{ nodes: [{ operator: 'XOR', cpeMatch: [] }] }] });
    const bad2 = rec('CVE-2020-0003', {
      configurations: [
        { nodes: [{ operator: 'OR', cpeMatch: [{ vulnerable: true, criteria: 'cpe:2.3:a:b' }] }] },
      ],
    });
    const bad3 = { id: 'not-a-cve' };
    const r = await collectNvd(
      write('bad.json', page([rec('CVE-2020-0001'), bad1, bad2, bad3, rec('CVE-2020-0005')])),
    );
    expect(r.records.map((x) => x.id)).toEqual(['CVE-2020-0001', 'CVE-2020-0005']);
    expect(r.errors.map((e) => [e.index, e.cveId])).toEqual([
      [1, 'CVE-2020-0002'],
      [2, 'CVE-2020-0003'],
      [3, 'not-a-cve'],
    ]);
    expect(r.errors[1]?.message).toMatch(/configurations\[0\]\.nodes\[0\]\.cpeMatch\[0\]\.criteria/);
    expect(r.summary).toMatchObject({ records: 2, errors: 3 });
  });

  it('truncated JSON: earlier records are yielded, then NVD_TRUNCATED with the byte position', async () => {
    const text = page([rec('CVE-2020-0001'), rec('CVE-2020-0002'), rec('CVE-2020-0003')]);
    const cut = text.indexOf('CVE-2020-0003') + 5;
    const { items, error } = await drain(write('trunc.json', text.slice(0, cut)));
    expect(items.map((i) => (i.kind === 'cve' ? i.record.id : i.kind))).toEqual([
      'CVE-2020-0001',
      'CVE-2020-0002',
    ]);
    expect(error).toBeInstanceOf(NvdImportError);
    expect((error as NvdImportError).code).toBe('NVD_TRUNCATED');
    expect((error as NvdImportError).position).toBe(cut);
    expect((error as NvdImportError).recordsBefore).toBe(2);
    expect((error as NvdImportError).message).toMatch(/trunc\.json at byte \d+/);
  });

  it('truncated gzip is an error too, after the records it could read', async () => {
    const gz = gzipSync(page(Array.from({ length: 50 }, (_, i) => rec(`CVE-2020-${1000 + i}`))));
    const { items, error } = await drain(write('trunc.json.gz', gz.subarray(0, gz.length - 30)));
    expect(items.length).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(NvdImportError);
    expect(['NVD_TRUNCATED', 'NVD_INPUT']).toContain((error as NvdImportError).code);
  });

  it('syntax error in the middle reports NVD_JSON_SYNTAX with a position', async () => {
    const text = page([rec('CVE-2020-0001'), rec('CVE-2020-0002')]).replace(
      '"CVE-2020-0002"',
      '"CVE-2020-0002" oops',
    );
    const { items, error } = await drain(write('syntax.json', text));
    expect(items.map((i) => i.kind)).toEqual(['cve']);
    expect((error as NvdImportError).code).toBe('NVD_JSON_SYNTAX');
    expect((error as NvdImportError).position).toBeGreaterThan(0);
  });

  it('unknown schema version and the 1.1 feed are clear errors', async () => {
    const v3 = await drain(write('v3.json', page([rec('CVE-2020-0001')], '3.0')));
    expect((v3.error as NvdImportError).code).toBe('NVD_UNSUPPORTED_SCHEMA');
    expect((v3.error as NvdImportError).message).toMatch(/version "3\.0"/);
    expect(v3.items).toHaveLength(0);
    const v11 = await drain(
      write('v11.json', JSON.stringify({ CVE_data_type: 'CVE', CVE_data_format: 'MITRE', CVE_Items: [] })),
    );
    expect((v11.error as NvdImportError).code).toBe('NVD_UNSUPPORTED_SCHEMA');
    expect((v11.error as NvdImportError).message).toMatch(/1\.1/);
    const other = await drain(write('other.json', JSON.stringify({ hello: 'world' })));
    expect((other.error as NvdImportError).code).toBe('NVD_UNKNOWN_SCHEMA');
    const empty = await drain(write('empty.json', ''));
    expect((empty.error as NvdImportError).code).toBe('NVD_UNKNOWN_SCHEMA');
  });
});

describe.skipIf(!hasNvd)('importNvd on the shared NVD data (needs ../shared/data)', () => {
  it('imports the 1,500-record converted subset (a 2.0 page/feed envelope) without errors', async () => {
    const r = await collectNvd(nvdSubset);
    expect(r.records).toHaveLength(1500);
    expect(r.errors).toHaveLength(0);
    expect(r.summary).toMatchObject({ shape: 'envelope', version: '2.0', totalResults: 1500 });
    const andConfigs = r.records.filter((x) => x.configurations.some((c) => c.operator === 'AND'));
    expect(andConfigs.length).toBe(1355); // SOURCE.md: 1,355 have an AND configuration
  });

  it('imports the same file gzipped, identically', async () => {
    const p = write('subset.json.gz', gzipSync(readFileSync(nvdSubset)));
    const a = await collectNvd(p);
    expect(a.records).toHaveLength(1500);
    expect(a.records[1499]?.id).toBe((await collectNvd(nvdSubset)).records[1499]?.id);
  });

  it('reads genuine API 2.0 single records (matchCriteriaId, vulnStatus, cisa*, Secondary metrics)', async () => {
    const r = await collectNvd(path.join(fkieDir, 'CVE-2022-30525.json'));
    const cve = r.records[0];
    expect(cve?.id).toBe('CVE-2022-30525');
    expect(cve?.cvss?.source).toBe('nvd@nist.gov'); // Primary preferred over the CNA's Secondary
    expect(cve?.cvss?.baseScore).toBe(9.8);
    expect(cve?.cisaExploitAdd).toBe('2022-05-16');
    expect(cve?.configurations).toHaveLength(16);
    expect(cve?.configurations[0]?.nodes[0]?.cpeMatch[0]?.matchCriteriaId).toMatch(/^[0-9A-F-]{36}$/);
  });
});
