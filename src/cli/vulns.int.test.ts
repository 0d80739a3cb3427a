import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturesDir, hasKev, hasNvd, kevCatalog, nvdDir, nvdSubset } from '../vulns/test-fixtures/paths.js';

const BIN = resolve(import.meta.dirname, '..', '..', 'bin', 'iotsec.js');
const dataDir = mkdtempSync(join(tmpdir(), 'iotsec-vulns-cli-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, LOG_LEVEL: 'silent', DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const lines = (s: string) =>
  s
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const o = (vendor: string, product: string, version = '*', update = '*') =>
  `cpe:2.3:o:${vendor}:${product}:${version}:${update}:*:*:*:*:*:*`;
const h = (vendor: string, product: string, version = '-') =>
  `cpe:2.3:h:${vendor}:${product}:${version}:*:*:*:*:*:*:*`;

describe.skipIf(!hasNvd || !hasKev)('iotsec vulns', () => {
  beforeAll(() => {
    const r = run([
      'vulns',
      'import',
      nvdDir,
      kevCatalog,
      join(fixturesDir, 'epss_scores-sample.csv'),
      '--json',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const out = lines(r.out);
    const summary = out.at(-1);
    expect(summary).toMatchObject({ type: 'summary', failed: 0, bad: 0 });
    expect(out.filter((l) => l['type'] === 'file').map((l) => l['kind'])).toEqual(
      expect.arrayContaining(['nvd', 'kev', 'epss']),
    );
  });

  it('prints one JSON line per CVE that definitely applies (the documented contract)', () => {
    const r = run([
      'vulns',
      'match',
      o('dlink', 'dir-645_firmware', '1.03', 'b08'),
      h('dlink', 'dir-645', 'a1'),
      '--json',
    ]);
    expect(r.code).toBe(0);
    const out = lines(r.out);
    expect(out.map((l) => l['cve_id'])).toEqual([
      'CVE-2013-7389',
      'CVE-2013-7471',
      'CVE-2015-2051',
      'CVE-2015-2052',
    ]);
    for (const l of out) {
      expect(Object.keys(l).sort()).toEqual(['cve_id', 'cvss', 'epss', 'kev', 'matched', 'severity']);
      expect(Array.isArray(l['matched'])).toBe(true);
    }
    expect(out.find((l) => l['cve_id'] === 'CVE-2015-2051')).toEqual({
      cve_id: 'CVE-2015-2051',
      severity: 'high',
      cvss: 10,
      kev: true,
      epss: 0.9441,
      matched: [
        'cpe:2.3:o:d-link:dir-645_firmware:*:*:*:*:*:*:*:*',
        'cpe:2.3:h:d-link:dir-645:a1:*:*:*:*:*:*:*',
      ],
    });
  });

  it('adds the possible ones with --possible', () => {
    const dev = [o('dlink', 'dir-820l_firmware', '1.05', 'b03'), h('dlink', 'dir-820l')];
    const plain = lines(run(['vulns', 'match', ...dev, '--json']).out);
    expect(plain.map((l) => l['cve_id'])).toEqual(['CVE-2015-1187']);
    const all = lines(run(['vulns', 'match', ...dev, '--possible', '--json']).out);
    expect(all.map((l) => [l['cve_id'], l['possible'] ?? false])).toEqual([
      ['CVE-2015-1187', false],
      ['CVE-2021-45382', true],
    ]);
    expect(all[1]).toMatchObject({ kev: true, severity: 'critical' });
  });

  it('refuses wildcard vendor/product and malformed CPEs with exit 2, naming the CPE', () => {
    const wild = run(['vulns', 'match', 'cpe:2.3:o:*:dir-645_firmware:1.0:*:*:*:*:*:*:*', '--json']);
    expect(wild.code).toBe(2);
    expect(wild.err).toContain('cpe:2.3:o:*:dir-645_firmware:1.0');
    expect(wild.err).toMatch(/wildcard/);
    expect(wild.out).toBe('');
    const prod = run(['vulns', 'match', o('dlink', 'dir-*', '1.0'), '--json']);
    expect(prod.code).toBe(2);
    const bad = run(['vulns', 'match', h('dlink', 'dir-645', 'a1'), 'cpe:2.3:o:dlink:dir-645', '--json']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('cpe:2.3:o:dlink:dir-645');
    expect(bad.err).toMatch(/malformed/);
  });

  it('keeps the records before a truncation and exits 1 naming the file and byte position', () => {
    const file = join(dataDir, 'truncated.json');
    const full = readFileSync(nvdSubset);
    writeFileSync(file, full.subarray(0, 300_000));
    const r = run(['vulns', 'import', file, '--json']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(file);
    expect(r.err).toMatch(/at byte \d+/);
    const f = lines(r.out).find((l) => l['type'] === 'file');
    expect(f).toMatchObject({ status: 'failed', kind: 'nvd' });
    expect(Number(f?.['records'])).toBeGreaterThan(10);
    expect(f?.['written']).toBe(f?.['records']);
    const missing = run(['vulns', 'import', join(dataDir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('nope.json');
  });
});
