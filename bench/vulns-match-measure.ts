/**
 * Ad-hoc matching-speed measurement (not a test; not part of `npm run bench`).
 *
 *   node bin/run-ts.js src/vulns/match/measure.ts [scale=20] [devices=10000]
 *
 * Loads the shared NVD subset (+ fkie records), scales it up `scale` times by cloning every CVE with its
 * products renamed (`<product>_s<k>`, so the index grows like a bigger NVD rather than piling onto the same keys),
 * builds the CveIndex, then matches `devices` synthetic devices (firmware `o:` + hardware `h:` pairs taken from
 * real AND configurations, versions drawn from the records' range bounds/exact versions, 10 % with unknown
 * version) on one thread, and prints timings as one JSON line.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { collectNvd } from '../src/vulns/nvd/import.js';
import type { CveRecord } from '../src/vulns/nvd/types.js';
import { fkieDir, nvdSubset } from '../src/vulns/test-fixtures/paths.js';
import { CveIndex } from '../src/vulns/match/cve-index.js';

const scale = Number(process.argv[2] ?? 20);
const deviceCount = Number(process.argv[3] ?? 10_000);

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
process.stdout.write(
  JSON.stringify({
    cves: index.size,
    criteria: index.criteria,
    build_ms: Math.round(buildMs),
    devices: deviceCount,
    match_ms: Math.round(matchMs),
    per_device_us: Math.round((matchMs * 1000) / deviceCount),
    candidates_avg: +(candidates / deviceCount).toFixed(2),
    matches: yes,
    possible,
    errors,
    heap_mb: Math.round(process.memoryUsage().heapUsed / 1e6),
  }) + '\n',
);
