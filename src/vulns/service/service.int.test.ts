import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { buildServices } from '../../api/context.js';
import { MemoryBus, MemoryKv } from '../../bus/memory.js';
import { loadConfig } from '../../config.js';
import { VULNS_QUEUE, enqueueMatchDevice, startVulnWorker } from './jobs.js';
import type { BusEvent } from '../../bus/types.js';
import type { Store } from '../../store/db.js';
import { queryRows } from '../../store/db.js';
import { dropSchema, storeEngines } from '../../test-support/services.js';
import { fixturesDir, hasKev, hasNvd, kevCatalog, nvdDir, nvdSubset } from '../test-fixtures/paths.js';
import { detectKind, importPaths } from './importer.js';
import { matchDeviceVulnerabilities } from '../../devices/service.js';
import { VulnMatcher, exposureFromPorts, matcherFor } from './matching.js';
import { getIndexVersion } from './repository.js';

const o = (vendor: string, product: string, version = '*', update = '*'): string =>
  `cpe:2.3:o:${vendor}:${product}:${version}:${update}:*:*:*:*:*:*`;
const h = (vendor: string, product: string, version = '-'): string =>
  `cpe:2.3:h:${vendor}:${product}:${version}:*:*:*:*:*:*:*`;

/** Expected sets from the hand-written table of src/vulns/match/match.test.ts (read from the NVD records). */
const DEVICES: { mac: string; cpes: string[]; yes: string[]; possible: string[] }[] = [
  {
    mac: '00:00:00:00:00:01',
    cpes: [o('dlink', 'dir-645_firmware', '1.03', 'b08'), h('dlink', 'dir-645', 'a1')],
    yes: ['CVE-2013-7389', 'CVE-2013-7471', 'CVE-2015-2051', 'CVE-2015-2052'],
    possible: [],
  },
  {
    mac: '00:00:00:00:00:02',
    cpes: [o('dlink', 'dir-820l_firmware', '1.05', 'b03'), h('dlink', 'dir-820l')],
    yes: ['CVE-2015-1187'],
    possible: ['CVE-2021-45382'],
  },
  {
    mac: '00:00:00:00:00:03',
    cpes: [o('ubnt', 'edgeos', '1.9.1'), h('ubnt', 'erlite-3')],
    yes: ['CVE-2017-0932', 'CVE-2017-0933', 'CVE-2017-0934', 'CVE-2017-0935', 'CVE-2018-5265'],
    possible: [],
  },
  {
    mac: '00:00:00:00:00:04',
    cpes: [o('zyxel', 'usg_flex_100w_firmware', '5.21'), h('zyxel', 'usg_flex_100w')],
    yes: ['CVE-2022-30525'],
    possible: [],
  },
  {
    mac: '00:00:00:00:00:05',
    cpes: [o('tp-link', 'archer_ax21_firmware', '1.1.3_build_20220101'), h('tp-link', 'archer_ax21', '3.0')],
    yes: ['CVE-2023-1389'],
    possible: [],
  },
  {
    mac: '00:00:00:00:00:06',
    cpes: [o('zyxel', 'usg_flex_100w_firmware', '5.30'), h('zyxel', 'usg_flex_100w')],
    yes: [],
    possible: [],
  },
];

const engines = await storeEngines();
const tmp = mkdtempSync(path.join(tmpdir(), 'iotsec-vulns-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function nvdRecord(id: string, criteria: string, lastModified = '2024-01-02T00:00:00.000'): unknown {
  return {
    id,
    published: '2024-01-01T00:00:00.000',
    lastModified,
    descriptions: [{ lang: 'en', value: `synthetic ${id}` }],
    metrics: {
      cvssMetricV31: [
        {
          source: 'nvd@nist.gov',
          type: 'Primary',
          cvssData: {
            version: '3.1',
            vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
            baseScore: 9.8,
            baseSeverity: 'CRITICAL',
          },
        },
      ],
    },
    configurations: [
      { nodes: [{ operator: 'OR', negate: false, cpeMatch: [{ vulnerable: true, criteria }] }] },
    ],
  };
}

describe.skipIf(!hasNvd || !hasKev).each(engines)('vulnerability service on $name', (engine) => {
  let store: Store;
  const bus = new MemoryBus();
  const events: BusEvent[] = [];
  let matcher: VulnMatcher;
  const ids = new Map<string, number>();

  beforeAll(async () => {
    store = await engine.open();
    await store.migrate();
    await bus.subscribe('events', (e) => events.push(e));
    matcher = new VulnMatcher(store.db, bus);
  });
  afterAll(async () => {
    await dropSchema(store);
    await store.close();
    await bus.close();
  });

  const count = async (where = sql`true`) =>
    Number(
      (
        await queryRows<{ n: number }>(
          store.db,
          sql`SELECT count(*)::int8 AS n FROM vulnerabilities WHERE ${where}`,
        )
      )[0]?.n,
    );

  it('imports KEV before NVD (minimal rows), then the NVD folder, then EPSS, detecting each by content', async () => {
    const kev = await importPaths(store.db, [kevCatalog]);
    expect(kev.files[0]).toMatchObject({ kind: 'kev', status: 'ok', records: 1404, created: 1404, bad: 0 });
    expect(await count(sql`kev`)).toBe(1404);

    const nvd = await importPaths(store.db, [nvdDir], { batchSize: 200 });
    const byName = new Map(nvd.files.map((f) => [path.basename(f.path), f]));
    expect(byName.get('nvd-iot-subset.api2.json')).toMatchObject({
      kind: 'nvd',
      status: 'ok',
      records: 1500,
      bad: 0,
    });
    expect(byName.get('CVE-2023-1389.json')).toMatchObject({ kind: 'nvd', status: 'ok', records: 1 });
    expect(byName.get('nvd-iot-subset.index.csv')).toMatchObject({ status: 'skipped', kind: null });
    expect(nvd.failed).toBe(0);
    expect(await getIndexVersion(store.db)).toBeGreaterThan(0);

    const epss = await importPaths(store.db, [path.join(fixturesDir, 'epss_scores-sample.csv')]);
    expect(epss.files[0]).toMatchObject({ kind: 'epss', status: 'ok', bad: 0 });
    expect(epss.files[0]?.records).toBeGreaterThan(10);

    // 1,500 subset CVEs + the fkie ones not in it + KEV-only CVEs; no duplicates.
    const total = await count();
    const withConfig = await count(sql`jsonb_array_length(configurations) > 0`);
    expect(withConfig).toBeGreaterThanOrEqual(1500);
    expect(total).toBeGreaterThan(withConfig);
    // KEV data survived the NVD upsert, and the NVD data completed the minimal KEV row.
    const row = (
      await queryRows<{
        kev: boolean;
        kev_date_added: string;
        description: string;
        cvss_v31_score: number;
        severity: string;
        epss: number | null;
      }>(
        store.db,
        sql`SELECT kev, kev_date_added::text AS kev_date_added, description, cvss_v31_score::float8 AS cvss_v31_score,
                   severity, epss FROM vulnerabilities WHERE cve_id = 'CVE-2023-1389'`,
      )
    )[0];
    expect(row?.kev).toBe(true);
    expect(row?.kev_date_added).toBe('2023-05-01');
    expect(row?.description).toMatch(/Archer AX21/);
    expect(row?.severity).toBe('high');
    expect(row?.cvss_v31_score).toBeCloseTo(8.8, 5);
    const e = (
      await queryRows<{ epss: number }>(
        store.db,
        sql`SELECT epss FROM vulnerabilities WHERE cve_id = 'CVE-2013-7471'`,
      )
    )[0];
    expect(e?.epss).toBeCloseTo(0.89012, 6);
  });

  it('does not roll a newer record back when an older copy is imported', async () => {
    const newer = path.join(tmp, `newer-${engine.name}.json`);
    const older = path.join(tmp, `older-${engine.name}.json`);
    const rec = (modified: string, text: string) => ({
      ...(nvdRecord('CVE-2099-0500', o('acme', 'nas_firmware', '1'), modified) as object),
      descriptions: [{ lang: 'en', value: text }],
    });
    writeFileSync(newer, JSON.stringify(rec('2025-01-01T00:00:00.000', 'newer')));
    writeFileSync(older, JSON.stringify(rec('2020-01-01T00:00:00.000', 'older')));
    expect((await importPaths(store.db, [newer])).written).toBe(1);
    const s = await importPaths(store.db, [older]);
    expect(s.files[0]).toMatchObject({ records: 1, written: 0 });
    const row = (
      await queryRows<{ description: string }>(
        store.db,
        sql`SELECT description FROM vulnerabilities WHERE cve_id = 'CVE-2099-0500'`,
      )
    )[0];
    expect(row?.description).toBe('newer');
  });

  it('matches devices: exact expected CVE sets, explanations, risk scores, events after commit', async () => {
    for (const d of DEVICES) {
      const r = await queryRows<{ id: number }>(
        store.db,
        sql`INSERT INTO devices (mac, cpe23) VALUES (${d.mac}, ${`{${d.cpes.map((c) => `"${c}"`).join(',')}}`}::text[])
            RETURNING id`,
      );
      ids.set(d.mac, Number(r[0]?.id));
    }
    events.length = 0;
    const progress: { done: number; total: number }[] = [];
    const summary = await matcher.matchAllDevices((p) => {
      progress.push(p);
    });
    expect(summary.devices).toBe(DEVICES.length);
    expect(progress.at(-1)).toEqual({ done: DEVICES.length, total: DEVICES.length });
    for (const d of DEVICES) {
      const rows = await queryRows<{
        cve_id: string;
        possible: boolean;
        status: string;
        matched_by: Record<string, unknown>;
      }>(
        store.db,
        sql`SELECT cve_id, possible, status, matched_by FROM device_vulnerabilities WHERE device_id = ${ids.get(d.mac)}
            ORDER BY cve_id`,
      );
      expect(
        rows.filter((r) => !r.possible).map((r) => r.cve_id),
        d.mac,
      ).toEqual([...d.yes].sort());
      expect(
        rows.filter((r) => r.possible).map((r) => r.cve_id),
        d.mac,
      ).toEqual([...d.possible].sort());
      expect(rows.every((r) => r.status === 'open')).toBe(true);
      const risk = (
        await queryRows<{ risk_score: number }>(
          store.db,
          sql`SELECT risk_score FROM devices WHERE id = ${ids.get(d.mac)}`,
        )
      )[0]?.risk_score;
      if (d.yes.length + d.possible.length > 0) expect(risk).toBeGreaterThan(0);
      else expect(risk).toBe(0);
    }
    const dir645 = await queryRows<{ matched_cpe: string; matched_by: Record<string, unknown> }>(
      store.db,
      sql`SELECT matched_cpe, matched_by FROM device_vulnerabilities
          WHERE device_id = ${ids.get('00:00:00:00:00:01')} AND cve_id = 'CVE-2015-2051'`,
    );
    expect(dir645[0]?.matched_cpe).toBe(o('dlink', 'dir-645_firmware', '1.03', 'b08'));
    expect(dir645[0]?.matched_by).toMatchObject({
      configurations: [0],
      criteria: [
        {
          path: 'configurations[0].nodes[0].cpeMatch[0]',
          criteria: 'cpe:2.3:o:d-link:dir-645_firmware:*:*:*:*:*:*:*:*',
          vulnerable: true,
          version_end_including: '1.04b12',
          result: 'match',
        },
        {
          path: 'configurations[0].nodes[1].cpeMatch[0]',
          vulnerable: false,
          device_cpe: h('dlink', 'dir-645', 'a1'),
        },
      ],
    });
    expect(String(dir645[0]?.matched_by['explanation'])).toMatch(/Definite match through configuration 0/);
    await new Promise((r) => setTimeout(r, 10));
    const updated = events
      .filter((e) => e.type === 'device_update')
      .map((e) => e.data as { device_id: number });
    expect(updated.map((d) => d.device_id).sort((a, b) => a - b)).toEqual(
      DEVICES.filter((d) => d.yes.length + d.possible.length > 0)
        .map((d) => ids.get(d.mac))
        .sort((a, b) => (a ?? 0) - (b ?? 0)),
    );
    // A second run changes nothing and publishes nothing.
    events.length = 0;
    const again = await matcher.matchAllDevices();
    expect(again.changed).toBe(0);
    await new Promise((r) => setTimeout(r, 10));
    expect(events).toEqual([]);
  });

  it('keeps rows whose status a user set when they stop matching, deletes the open ones', async () => {
    const id = ids.get('00:00:00:00:00:01') as number;
    await store.db.execute(
      sql`UPDATE device_vulnerabilities SET status = 'mitigated' WHERE device_id = ${id} AND cve_id = 'CVE-2013-7389'`,
    );
    // Firmware upgraded to 1.04b12: only CVE-2015-2051/2052 (≤ 1.04b12) still apply.
    await store.db.execute(
      sql`UPDATE devices SET cpe23 = ${`{"${o('dlink', 'dir-645_firmware', '1.04b12')}","${h('dlink', 'dir-645', 'a1')}"}`}::text[]
          WHERE id = ${id}`,
    );
    const r = await matcher.matchDevice(id);
    expect(r).toMatchObject({ matches: 2, possible: 0, removed: 1, kept_unmatched: 1, changed: true });
    const rows = await queryRows<{ cve_id: string; status: string; unmatched: boolean }>(
      store.db,
      sql`SELECT cve_id, status, matched_by ? 'unmatched_at' AS unmatched FROM device_vulnerabilities
          WHERE device_id = ${id} ORDER BY cve_id`,
    );
    expect(rows).toEqual([
      { cve_id: 'CVE-2013-7389', status: 'mitigated', unmatched: true },
      { cve_id: 'CVE-2015-2051', status: 'open', unmatched: false },
      { cve_id: 'CVE-2015-2052', status: 'open', unmatched: false },
    ]);
  });

  it('runs matching jobs on the vulns queue of the worker', async () => {
    const services = buildServices(store, bus, new MemoryKv());
    const stop = await startVulnWorker(services, loadConfig({}), pino({ level: 'silent' }));
    try {
      const id = ids.get('00:00:00:00:00:05') as number;
      const jobId = await enqueueMatchDevice(bus, id);
      let info = await bus.getJob(VULNS_QUEUE, jobId);
      for (let i = 0; i < 200 && info?.status !== 'completed' && info?.status !== 'failed'; i++) {
        await new Promise((r) => setTimeout(r, 25));
        info = await bus.getJob(VULNS_QUEUE, jobId);
      }
      expect(info?.status).toBe('completed');
      expect(info?.result).toMatchObject({ device_id: id, matches: 1 });
    } finally {
      await stop();
    }
  });

  it('skips a bad device CPE and matches the others', async () => {
    const rows = await queryRows<{ id: number }>(
      store.db,
      sql`INSERT INTO devices (mac, cpe23) VALUES ('00:00:00:00:00:99',
            ${`{"cpe:2.3:o:*:edgeos:1.9.1:*:*:*:*:*:*:*","not-a-cpe","${o('ui', 'edgeos', '1.9.1')}"}`}::text[]) RETURNING id`,
    );
    const r = await matcher.matchDevice(Number(rows[0]?.id));
    expect(r.rejected_cpes.map((x) => x.code)).toEqual(['CPE_TOO_BROAD', 'CPE_INVALID']);
    expect(r.matches).toBe(4);
  });

  it('rebuilds the cached index when new NVD data arrives', async () => {
    const id = ids.get('00:00:00:00:00:06') as number;
    expect((await matcher.matchDevice(id)).matches).toBe(0);
    const v = await getIndexVersion(store.db);
    const file = path.join(tmp, `new-${engine.name}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        cve: nvdRecord('CVE-2099-0001', 'cpe:2.3:o:zyxel:usg_flex_100w_firmware:5.30:*:*:*:*:*:*:*'),
      }),
    );
    const s = await importPaths(store.db, [file]);
    expect(s.files[0]).toMatchObject({ kind: 'nvd', records: 1, written: 1 });
    expect(await getIndexVersion(store.db)).toBeGreaterThan(v);
    const r = await matcher.matchDevice(id);
    expect(r.matches).toBe(1);
    expect(r.risk_score).toBeGreaterThan(0);
  });

  it("identification's re-matching reads the catalog once for many devices, not once per device", async () => {
    // A matcher per device (as identification used to make) built the CVE index from every imported record
    // each time: 10 s instead of 5 s for the bench capture with 1,500 CVEs loaded, worse with the full NVD.
    const build = vi.spyOn(
      VulnMatcher.prototype as unknown as { build(v: number): Promise<unknown> },
      'build',
    );
    try {
      const list = [...ids.values()];
      expect(list.length).toBeGreaterThanOrEqual(5);
      for (const id of list) await matchDeviceVulnerabilities(store, bus, id);
      expect(build).toHaveBeenCalledTimes(1);
      expect(matcherFor(store.db, bus)).toBe(matcherFor(store.db, bus));
      expect(matcherFor(store.db, bus).stats?.version).toBe(await getIndexVersion(store.db));
    } finally {
      build.mockRestore();
    }
  });

  it('skips bad records with their id, keeps the records before a truncation and names file and byte', async () => {
    const mixed = path.join(tmp, `mixed-${engine.name}.json`);
    writeFileSync(
      mixed,
      JSON.stringify({
        format: 'NVD_CVE',
        version: '2.0',
        vulnerabilities: [
          { cve: nvdRecord('CVE-2099-1001', o('acme', 'cam_firmware', '1')) },
          { cve: { ...(nvdRecord('CVE-2099-1002', 'cpe:2.3:o:acme') as object) } },
          { cve: { id: 'not-a-cve' } },
          { cve: nvdRecord('CVE-2099-1003', o('acme', 'cam_firmware', '2')) },
        ],
      }),
    );
    const m = await importPaths(store.db, [mixed]);
    expect(m.files[0]).toMatchObject({ status: 'ok', records: 2, bad: 2 });
    expect(m.files[0]?.bad_records.map((b) => [b.index, b.cve_id])).toEqual([
      [1, 'CVE-2099-1002'],
      [2, 'not-a-cve'],
    ]);

    const full = readFileSync(nvdSubset);
    const cut = Math.floor(full.length / 2);
    const truncated = path.join(tmp, `truncated-${engine.name}.json.gz`);
    writeFileSync(truncated, gzipSync(full.subarray(0, cut)));
    const t = await importPaths(store.db, [truncated], { batchSize: 100 });
    const f = t.files[0];
    expect(f?.status).toBe('failed');
    expect(f?.error).toContain(truncated);
    expect(f?.error).toMatch(/at byte \d+/);
    expect(f?.error).toMatch(/NVD_TRUNCATED/);
    expect(f?.records).toBeGreaterThan(400);
    expect(f?.written).toBe(f?.records); // every record read before the cut was committed
    expect(t.failed).toBe(1);
  });

  it('reports bad EPSS lines with their line number', async () => {
    const csv = path.join(tmp, `epss-${engine.name}.csv`);
    writeFileSync(csv, 'cve,epss,percentile\nCVE-2099-2001,0.5,0.9\nCVE-2099-2002,1.5,0.9\nbad line\n');
    const s = await importPaths(store.db, [csv]);
    expect(s.files[0]).toMatchObject({ kind: 'epss', records: 1, created: 1, bad: 2 });
    expect(s.files[0]?.bad_records.map((b) => b.line)).toEqual([3, 4]);
  });

  it('refuses an explicit file of unknown kind', async () => {
    const junk = path.join(tmp, `junk-${engine.name}.json`);
    writeFileSync(junk, '{"hello": "world"}');
    const s = await importPaths(store.db, [junk]);
    expect(s.files[0]).toMatchObject({ status: 'failed', kind: null });
    expect(s.files[0]?.error).toContain(junk);
  });
});

describe('content detection and exposure flags', () => {
  it('detects NVD, KEV and EPSS by content', () => {
    expect(detectKind('{"resultsPerPage":1,"format":"NVD_CVE","version":"2.0","vulnerabilities":[')).toBe(
      'nvd',
    );
    expect(detectKind('{"id":"CVE-2020-1234","published":')).toBe('nvd');
    expect(detectKind('[{"cve":{"id":"CVE-2020-1234"')).toBe('nvd');
    expect(
      detectKind('{"title":"CISA Catalog","catalogVersion":"2025.08.25","vulnerabilities":[{"cveID"'),
    ).toBe('kev');
    expect(
      detectKind('#model_version:v2025.03.14,score_date:2025-08-25T00:00:00Z\ncve,epss,percentile\n'),
    ).toBe('epss');
    expect(detectKind('\uFEFFcve,epss,percentile\nCVE-1999-0001,0.1,0.2')).toBe('epss');
    expect(
      detectKind('{"$schema":"http://json-schema.org/draft-07/schema#","properties":{"catalogVersion":{}}}'),
    ).toBe(null);
    expect(detectKind('cve_id,vendor\n')).toBe(null);
  });

  it('maps open ports to exposure flags', () => {
    expect(exposureFromPorts(['23/tcp', '1900/udp', '21'])).toEqual({
      telnet: true,
      upnp: true,
      cleartextManagement: true,
    });
    expect(exposureFromPorts(['443/tcp'])).toEqual({});
  });
});
