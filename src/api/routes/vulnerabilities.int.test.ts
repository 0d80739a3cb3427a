import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusEvent } from '../../bus/types.js';
import { queryRows } from '../../store/db.js';
import { ADMIN_PASSWORD, bearer, errorCode, login, makeStack, stackKinds } from '../../test-support/api.js';
import type { Stack } from '../../test-support/api.js';
import { fixturesDir, hasKev, hasNvd, kevCatalog, nvdDir } from '../../vulns/test-fixtures/paths.js';
import { importPaths } from '../../vulns/service/importer.js';
import { VulnMatcher } from '../../vulns/service/matching.js';

const kinds = await stackKinds();

const DIR645 = [
  'cpe:2.3:o:dlink:dir-645_firmware:1.03:b08:*:*:*:*:*:*',
  'cpe:2.3:h:dlink:dir-645:a1:*:*:*:*:*:*:*',
];
const DIR820L = [
  'cpe:2.3:o:dlink:dir-820l_firmware:1.05:b03:*:*:*:*:*:*',
  'cpe:2.3:h:dlink:dir-820l:-:*:*:*:*:*:*:*',
];

interface Item {
  cve_id: string;
  severity: string | null;
  cvss_score: number | null;
  kev: boolean;
  epss: number | null;
  affected_devices: number;
  published: string | null;
}

describe.skipIf(!hasNvd || !hasKev).each(kinds)('vulnerability API on %s stack', (kind) => {
  let s: Stack;
  let admin: string;
  let analyst: string;
  let viewer: string;
  let dir645: number;
  let dir820l: number;
  const events: BusEvent[] = [];

  const get = (url: string, token = viewer) => s.app.inject({ method: 'GET', url, headers: bearer(token) });

  beforeAll(async () => {
    s = await makeStack(kind, { API_RATE_LIMIT: '100000' });
    admin = (await login(s.app, 'admin', ADMIN_PASSWORD)).access_token;
    for (const [name, role] of [
      ['ana', 'analyst'],
      ['vic', 'viewer'],
    ] as const) {
      await s.services.users.create(
        { id: null, name: 'test' },
        { username: name, password: 'password-for-tests', role },
      );
    }
    analyst = (await login(s.app, 'ana', 'password-for-tests')).access_token;
    viewer = (await login(s.app, 'vic', 'password-for-tests')).access_token;
    const db = s.services.store.db;
    const imp = await importPaths(db, [nvdDir, kevCatalog, path.join(fixturesDir, 'epss_scores-sample.csv')]);
    expect(imp.failed).toBe(0);
    const ins = async (mac: string, cpes: string[]) =>
      Number(
        (
          await queryRows<{ id: number }>(
            db,
            sql`INSERT INTO devices (mac, hostname, vendor, cpe23)
                VALUES (${mac}, ${`host-${mac.slice(-2)}`}, 'D-Link', ${`{${cpes.map((c) => `"${c}"`).join(',')}}`}::text[])
                RETURNING id`,
          )
        )[0]?.id,
      );
    dir645 = await ins('00:11:22:33:44:01', DIR645);
    dir820l = await ins('00:11:22:33:44:02', DIR820L);
    await new VulnMatcher(db, s.services.bus).matchAllDevices();
    await s.services.bus.subscribe('events', (e) => events.push(e));
  });
  afterAll(async () => s?.close());

  it('lists with filters, whitelisted sorts and cursor pagination', async () => {
    const kev = await get('/api/v1/vulnerabilities?kev=true&limit=1000');
    expect(kev.statusCode).toBe(200);
    const kevItems = (kev.json() as { items: Item[] }).items;
    expect(kevItems.length).toBe(1000);
    expect(kevItems.every((i) => i.kev)).toBe(true);

    const dev = await get(`/api/v1/vulnerabilities?device_id=${dir645}`);
    const devItems = (dev.json() as { items: Item[]; next_cursor: string | null }).items;
    expect(devItems.map((i) => i.cve_id)).toEqual([
      'CVE-2015-2052',
      'CVE-2015-2051',
      'CVE-2013-7471',
      'CVE-2013-7389',
    ]);
    expect(devItems.map((i) => i.cvss_score)).toEqual([10, 10, 9.8, 4.3]);
    expect(devItems[1]).toMatchObject({ kev: true, affected_devices: 1, epss: 0.9441 });

    const crit = (await get('/api/v1/vulnerabilities?severity=critical&limit=50')).json() as {
      items: Item[];
    };
    expect(crit.items.length).toBeGreaterThan(0);
    expect(crit.items.every((i) => i.severity === 'critical')).toBe(true);

    const epss = (await get('/api/v1/vulnerabilities?epss_min=0.9&sort=epss&order=asc')).json() as {
      items: Item[];
    };
    expect(epss.items.length).toBeGreaterThan(0);
    expect(epss.items.every((i) => (i.epss ?? 0) >= 0.9)).toBe(true);
    const e = epss.items.map((i) => i.epss ?? 0);
    expect(e).toEqual([...e].sort((a, b) => a - b));

    const q = (await get('/api/v1/vulnerabilities?q=dir-645&limit=1000')).json() as { items: Item[] };
    expect(q.items.map((i) => i.cve_id)).toEqual(expect.arrayContaining(['CVE-2015-2051', 'CVE-2013-7389']));
    const byId = (await get('/api/v1/vulnerabilities?q=cve-2023-1389')).json() as { items: Item[] };
    expect(byId.items.map((i) => i.cve_id)).toEqual(['CVE-2023-1389']);
    const pct = (await get('/api/v1/vulnerabilities?q=%25')).json() as { items: Item[] };
    expect(pct.items.length).toBeLessThan(100); // % is a literal, not a wildcard

    const affected = (await get('/api/v1/vulnerabilities?affected=true&limit=100')).json() as {
      items: Item[];
    };
    expect(affected.items.map((i) => i.cve_id).sort()).toEqual(
      [
        'CVE-2013-7389',
        'CVE-2013-7471',
        'CVE-2015-1187',
        'CVE-2015-2051',
        'CVE-2015-2052',
        'CVE-2021-45382',
      ].sort(),
    );

    // Walking pages of 25 gives the same order as one page, for every sort (ties broken by CVE id).
    for (const sort of ['cvss', 'published', 'modified', 'epss', 'cve_id']) {
      for (const order of ['desc', 'asc']) {
        const base = `/api/v1/vulnerabilities?q=netgear&sort=${sort}&order=${order}`;
        const all = ((await get(`${base}&limit=1000`)).json() as { items: Item[] }).items.map(
          (i) => i.cve_id,
        );
        expect(all.length).toBeGreaterThan(40);
        const walked: string[] = [];
        let cursor: string | null = null;
        do {
          const res = await get(`${base}&limit=25${cursor ? `&cursor=${cursor}` : ''}`);
          expect(res.statusCode).toBe(200);
          const p = res.json() as { items: Item[]; next_cursor: string | null };
          walked.push(...p.items.map((i) => i.cve_id));
          cursor = p.next_cursor;
        } while (cursor);
        expect(walked, `${sort} ${order}`).toEqual(all);
      }
    }
    const first = (await get('/api/v1/vulnerabilities?limit=1&sort=cvss')).json() as { next_cursor: string };
    const mixed = await get(`/api/v1/vulnerabilities?limit=1&sort=epss&cursor=${first.next_cursor}`);
    expect(mixed.statusCode).toBe(400);
    expect(errorCode(mixed)).toBe('INVALID_CURSOR');
    const badSort = await get('/api/v1/vulnerabilities?sort=description');
    expect(badSort.statusCode).toBe(400);
    expect(errorCode(badSort)).toBe('VALIDATION_FAILED');
  });

  it('shows one CVE with its configurations and the devices it affects, with the matched criteria', async () => {
    const res = await get('/api/v1/vulnerabilities/cve-2015-2051');
    expect(res.statusCode).toBe(200);
    const d = res.json() as Record<string, unknown> & {
      affected: { device_id: number; matched_cpe: string; criteria: { path: string; criteria: string }[] }[];
      configurations: unknown[];
    };
    expect(d).toMatchObject({
      cve_id: 'CVE-2015-2051',
      kev: true,
      kev_date_added: '2022-02-10',
      affected_devices: 1,
    });
    expect(d.configurations.length).toBeGreaterThan(0);
    expect(d.affected).toHaveLength(1);
    expect(d.affected[0]).toMatchObject({
      device_id: dir645,
      mac: '00:11:22:33:44:01',
      matched_cpe: DIR645[0],
      possible: false,
      status: 'open',
      still_matches: true,
      configurations: [0],
    });
    expect(d.affected[0]?.criteria.map((c) => c.path)).toEqual([
      'configurations[0].nodes[0].cpeMatch[0]',
      'configurations[0].nodes[1].cpeMatch[0]',
    ]);
    const missing = await get('/api/v1/vulnerabilities/CVE-1999-99999');
    expect(missing.statusCode).toBe(404);
    expect(errorCode(missing)).toBe('VULNERABILITY_NOT_FOUND');
    expect((await get('/api/v1/vulnerabilities/not-a-cve')).statusCode).toBe(400);
  });

  it("lists a device's vulnerabilities, possible ones flagged", async () => {
    const res = await get(`/api/v1/devices/${dir820l}/vulnerabilities`);
    expect(res.statusCode).toBe(200);
    const items = (res.json() as { items: { cve_id: string; possible: boolean; explanation: string }[] })
      .items;
    expect(items.map((i) => [i.cve_id, i.possible]).sort()).toEqual([
      ['CVE-2015-1187', false],
      ['CVE-2021-45382', true],
    ]);
    expect(items.find((i) => i.possible)?.explanation).toMatch(/^Possible match/);
    const onlyPossible = (await get(`/api/v1/devices/${dir820l}/vulnerabilities?possible=true`)).json() as {
      items: unknown[];
    };
    expect(onlyPossible.items).toHaveLength(1);
    const paged = (await get(`/api/v1/devices/${dir645}/vulnerabilities?limit=3`)).json() as {
      items: { cve_id: string }[];
      next_cursor: string;
    };
    const rest = (
      await get(`/api/v1/devices/${dir645}/vulnerabilities?limit=3&cursor=${paged.next_cursor}`)
    ).json() as { items: { cve_id: string }[]; next_cursor: string | null };
    expect([...paged.items, ...rest.items].map((i) => i.cve_id)).toEqual([
      'CVE-2015-2052',
      'CVE-2015-2051',
      'CVE-2013-7471',
      'CVE-2013-7389',
    ]);
    expect(rest.next_cursor).toBeNull();
    const none = await get('/api/v1/devices/999999/vulnerabilities');
    expect(none.statusCode).toBe(404);
    expect(errorCode(none)).toBe('DEVICE_NOT_FOUND');
  });

  it('lets an analyst set a status (audited with before/after, risk recomputed, event), not a viewer', async () => {
    const url = `/api/v1/devices/${dir645}/vulnerabilities/CVE-2015-2051`;
    const denied = await s.app.inject({
      method: 'PATCH',
      url,
      headers: bearer(viewer),
      payload: { status: 'mitigated' },
    });
    expect(denied.statusCode).toBe(403);
    expect(errorCode(denied)).toBe('FORBIDDEN');

    const riskBefore = Number(
      (
        await queryRows<{ r: number }>(
          s.services.store.db,
          sql`SELECT risk_score AS r FROM devices WHERE id = ${dir645}`,
        )
      )[0]?.r,
    );
    events.length = 0;
    const ok = await s.app.inject({
      method: 'PATCH',
      url,
      headers: bearer(analyst),
      payload: { status: 'mitigated', note: 'firmware patched by vendor hotfix' },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({
      cve_id: 'CVE-2015-2051',
      status: 'mitigated',
      status_note: 'firmware patched by vendor hotfix',
      status_changed_by: 'ana',
    });
    const riskAfter = Number(
      (
        await queryRows<{ r: number }>(
          s.services.store.db,
          sql`SELECT risk_score AS r FROM devices WHERE id = ${dir645}`,
        )
      )[0]?.r,
    );
    expect(riskAfter).toBeLessThanOrEqual(riskBefore);

    const log = await s.app.inject({
      method: 'GET',
      url: '/api/v1/audit-log?action=device_vulnerability.status',
      headers: bearer(admin),
    });
    const entry = (
      log.json() as { items: { actor: string; target: string; details: Record<string, unknown> }[] }
    ).items[0];
    expect(entry).toMatchObject({
      actor: 'ana',
      target: `device:${dir645}:CVE-2015-2051`,
      details: {
        before: { status: 'open', note: null },
        after: { status: 'mitigated', note: 'firmware patched by vendor hotfix' },
      },
    });

    // Re-matching keeps the user's status and note.
    await new VulnMatcher(s.services.store.db, null).matchDevice(dir645);
    const again = (await get(`/api/v1/devices/${dir645}/vulnerabilities?status=mitigated`)).json() as {
      items: { cve_id: string; status_note: string }[];
    };
    expect(again.items).toMatchObject([
      { cve_id: 'CVE-2015-2051', status_note: 'firmware patched by vendor hotfix' },
    ]);

    for (let i = 0; i < 50 && !events.some((e) => e.type === 'device_update'); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(events.find((e) => e.type === 'device_update')?.data).toEqual({
      device_id: dir645,
      risk_score: riskAfter,
    });

    const bad = await s.app.inject({
      method: 'PATCH',
      url,
      headers: bearer(analyst),
      payload: { status: 'fixed' },
    });
    expect(bad.statusCode).toBe(400);
    const unknown = await s.app.inject({
      method: 'PATCH',
      url: `/api/v1/devices/${dir645}/vulnerabilities/CVE-2023-1389`,
      headers: bearer(analyst),
      payload: { status: 'accepted' },
    });
    expect(unknown.statusCode).toBe(404);
    expect(errorCode(unknown)).toBe('VULNERABILITY_NOT_FOUND');
  });

  it('documents the routes in OpenAPI', async () => {
    const doc = (await s.app.inject('/docs/json')).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/vulnerabilities',
        '/api/v1/vulnerabilities/{cve_id}',
        '/api/v1/devices/{id}/vulnerabilities',
        '/api/v1/devices/{id}/vulnerabilities/{cve_id}',
      ]),
    );
  });
});
