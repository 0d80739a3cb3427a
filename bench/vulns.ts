/**
 * The `vulns` bench group: matching 10,000 devices against a full-size NVD. The shared NVD records are scaled
 * up 20× (every CVE cloned with its products renamed, so the index grows like a bigger NVD rather than piling
 * onto the same keys: about 30,000 CVEs and 540,000 criteria); devices are real firmware `o:` + hardware `h:`
 * pairs taken from AND configurations, with versions drawn from the records' bounds (10 % unknown). Ours: the
 * CveIndex lookup by vendor and product. Anchor: the same exact evaluation as a scan over every CVE
 * (measured on a sample of devices and scaled to 10,000), which is what an index must beat. Goal: under 10 s.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { collectNvd } from '../src/vulns/nvd/import.js';
import type { CveRecord } from '../src/vulns/nvd/types.js';
import { fkieDir, nvdSubset } from '../src/vulns/test-fixtures/paths.js';
import { CveIndex } from '../src/vulns/match/cve-index.js';
import { compileCve, evaluateCompiled, newCompileCache, prepareDevice } from '../src/vulns/match/evaluate.js';
import { compare, type Group } from './harness.js';

export const vulnsGroup: Group = {
  name: 'vulns',
  description:
    'Exact CPE/NVD matching of 10,000 devices against ~30,000 CVEs (the shared NVD records scaled 20×), one core',
  async run(ctx) {
    return [await measure(ctx.log)];
  },
};

async function measure(log: (m: string) => void) {
  const scale = 20;
  const deviceCount = 10_000;

  let seed = 42;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)] as T;

  const base: CveRecord[] = (await collectNvd(nvdSubset)).records;
  for (const f of readdirSync(fkieDir).filter((n) => n.endsWith('.json'))) {
    base.push(...(await collectNvd(path.join(fkieDir, f))).records);
  }

  function renameProduct(criteria: string, k: number): string {
    if (k === 0) return criteria;
    const parts = criteria.split(/(?<!\\):/);
    parts[4] = `${parts[4] ?? ''}_s${k}`;
    return parts.join(':');
  }
  function clone(r: CveRecord, k: number): CveRecord {
    if (k === 0) return r;
    return {
      ...r,
      id: `${r.id}${String(k).padStart(3, '0')}`.replace(/^CVE-(\d{4})-/, 'CVE-$1-'),
      configurations: r.configurations.map((c) => ({
        ...c,
        nodes: c.nodes.map((n) => ({
          ...n,
          cpeMatch: n.cpeMatch.map((m) => ({ ...m, criteria: renameProduct(m.criteria, k) })),
        })),
      })),
    };
  }

  const all: CveRecord[] = [];
  for (let k = 0; k < scale; k++) for (const r of base) all.push(clone(r, k));

  const t0 = performance.now();
  const index = CveIndex.from(all);
  const buildMs = performance.now() - t0;

  // Devices from real firmware-on-hardware pairs.
  const pairs: { fw: string; hw: string; versions: string[] }[] = [];
  for (const r of all) {
    for (const c of r.configurations) {
      if (c.operator !== 'AND' || c.nodes.length !== 2) continue;
      const fw = c.nodes[0]?.cpeMatch.find((m) => m.vulnerable && m.criteria.startsWith('cpe:2.3:o:'));
      const hw = c.nodes[1]?.cpeMatch.find((m) => m.criteria.startsWith('cpe:2.3:h:'));
      if (!fw || !hw) continue;
      const p = fw.criteria.split(/(?<!\\):/);
      const versions = [
        fw.versionEndExcluding,
        fw.versionEndIncluding,
        fw.versionStartIncluding,
        p[5] !== '*' && p[5] !== '-' ? p[5] : undefined,
        '1.0.0',
      ].filter((v): v is string => v !== undefined);
      pairs.push({ fw: fw.criteria, hw: hw.criteria, versions });
    }
  }
  const devices: string[][] = [];
  for (let i = 0; i < deviceCount; i++) {
    const pr = pick(pairs);
    const fwParts = pr.fw.split(/(?<!\\):/);
    fwParts[5] = rand() < 0.1 ? '*' : pick(pr.versions).replace(/:/g, '\\:');
    fwParts[6] = '*';
    devices.push([fwParts.join(':'), pr.hw]);
  }

  const t1 = performance.now();
  let yes = 0;
  let possible = 0;
  let candidates = 0;
  let errors = 0;
  for (const d of devices) {
    try {
      const r = index.match(d);
      yes += r.matches.length;
      possible += r.possible.length;
      candidates += r.candidates;
    } catch {
      errors++;
    }
  }
  const matchMs = performance.now() - t1;

  // The anchor: every CVE evaluated for each device (no index), on a sample, scaled to all devices.
  const cache = newCompileCache();
  const compiled = all.map((r) => compileCve(r, cache));
  const sample = devices.slice(0, 25);
  const t2 = performance.now();
  for (const d of sample) {
    const dev = prepareDevice(d);
    for (const c of compiled) evaluateCompiled(c, dev);
  }
  const scanMs = ((performance.now() - t2) / sample.length) * deviceCount;
  log(
    `index ${Math.round(buildMs)} ms to build, ${Math.round(matchMs)} ms for ${deviceCount} devices; scan ≈ ${Math.round(scanMs)} ms`,
  );
  return compare(
    {
      group: 'vulns',
      name: `match ${deviceCount} devices (index) vs evaluating every CVE`,
      ours: Math.round(matchMs) / 1000,
      anchor: 'full scan, same evaluation',
      anchor_value: Math.round(scanMs) / 1000,
      unit: 's',
      goal: 'ours < 10 s',
      quality: {
        cves: index.size,
        criteria: index.criteria,
        index_build_s: Math.round(buildMs) / 1000,
        per_device_us: Math.round((matchMs * 1000) / deviceCount),
        candidates_avg: +(candidates / deviceCount).toFixed(2),
        matches: yes,
        possible,
        errors,
      },
    },
    'lower',
    (_ratio, ours) => ours < 10,
  );
}
