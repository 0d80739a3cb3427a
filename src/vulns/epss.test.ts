import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EpssError, loadEpss, readEpss } from './epss.js';
import type { EpssItem } from './epss.js';
import { fixturesDir } from './test-fixtures/paths.js';

const fixture = path.join(fixturesDir, 'epss_scores-sample.csv');
const fromText = (s: string): Readable => Readable.from([Buffer.from(s)]);

async function items(src: Parameters<typeof readEpss>[0]): Promise<EpssItem[]> {
  const out: EpssItem[] = [];
  for await (const it of readEpss(src)) out.push(it);
  return out;
}

describe('EPSS CSV', () => {
  it("reads FIRST's layout: #model_version comment, header, rows", async () => {
    const t = await loadEpss(fixture);
    expect(t.meta?.modelVersion).toBe('v2025.03.14');
    expect(t.meta?.scoreDate).toBe('2025-08-25T00:00:00Z');
    expect(t.errors).toEqual([]);
    expect(t.scores.size).toBe(14);
    expect(t.scores.get('CVE-2023-1389')).toEqual({ epss: 0.94402, percentile: 0.99901 });
  });

  it('reads the gzip form the same way', async () => {
    const t = await loadEpss(Readable.from([gzipSync(readFileSync(fixture))]));
    expect(t.scores.size).toBe(14);
  });

  it('reports bad lines with their line number and keeps going (CRLF tolerated)', async () => {
    const csv = [
      '#model_version:v1,score_date:2025-01-01T00:00:00Z',
      'cve,epss,percentile',
      'CVE-2023-1389,0.5,0.9',
      'CVE-2023-1390,1.5,0.9',
      'not-a-cve,0.1,0.1',
      'CVE-2023-1391,0.1',
      '',
      'CVE-2023-1392,abc,0.2',
      'CVE-2023-1393,1e-3,0.01',
    ].join('\r\n');
    const got = await items(fromText(csv));
    expect(
      got
        .filter((i) => i.kind === 'score')
        .map((i) => (i.kind === 'score' ? [i.cveId, i.epss, i.lineNo] : 0)),
    ).toEqual([
      ['CVE-2023-1389', 0.5, 3],
      ['CVE-2023-1393', 0.001, 9],
    ]);
    expect(got.filter((i) => i.kind === 'error').map((i) => i.lineNo)).toEqual([4, 5, 6, 8]);
  });

  it('a missing header is a fatal error', async () => {
    await expect(items(fromText('CVE-2023-1389,0.5,0.9\n'))).rejects.toBeInstanceOf(EpssError);
    await expect(items(fromText('#model_version:v1\n'))).rejects.toMatchObject({ code: 'EPSS_HEADER' });
  });
});
