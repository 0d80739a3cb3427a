import { readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CpeError } from '../cpe/types.js';
import { collectNvd } from '../nvd/import.js';
import type { CveRecord } from '../nvd/types.js';
import { fkieDir, hasNvd, nvdSubset } from '../test-fixtures/paths.js';
import { canonicalVendor, vendorSpellings } from './alias.js';
import { CveIndex } from './cve-index.js';
import { evaluateCve, prepareDevice } from './evaluate.js';

const o = (vendor: string, product: string, version = '*', update = '*'): string =>
  `cpe:2.3:o:${vendor}:${product}:${version}:${update}:*:*:*:*:*:*`;
const h = (vendor: string, product: string, version = '-'): string =>
  `cpe:2.3:h:${vendor}:${product}:${version}:*:*:*:*:*:*:*`;

/**
 * Hand-written expectations, from reading the records in ../shared/data/vuln/nvd (listed per case):
 * - CVE-2013-7389: AND[ o:d-link:dir-645_firmware:*:b08 ≤1.03 (V) ; h:d-link:dir-645:a1 (V) ]
 * - CVE-2013-7471: AND[ o:dlink:dir-645_firmware:* <1.04b11 (V) ; h:dlink:dir-645:- ] (+4 other models)
 * - CVE-2015-2051/2052: AND[ o:d-link:dir-645_firmware:* ≤1.04b12 (V) ; h:d-link:dir-645:a1 ]
 * - CVE-2015-1187: AND[ o:d-link:dir-820l_firmware:1.05:b03 ; h:d-link:dir-820l:- ] (and 1.02:b10, 2.01:b02, …)
 * - CVE-2021-45382 (fkie, API 2.0): AND[ o:dlink:dir-820l_firmware:- ; h:dlink:dir-820l:- ] — firmware "-" (NA)
 * - CVE-2017-0932 o:ubnt:edgeos ≤1.9.1.1; 0933/0934 o:ubnt:edgeos ≤1.9.1; 0935 o:ui:edgeos ≤1.9.1.1;
 *   CVE-2018-5265 AND[ o:ui:edgeos:1.9.1 ; h:ui:erlite-3:- ]
 * - CVE-2021-35029 AND[ o:zyxel:usg_flex_100w_firmware ≥4.35 ≤5.01 ; h ]; CVE-2022-30525 (fkie) ≥5.00 <5.30
 * - CVE-2017-5157 o:schneider_electric:homelynk_controller_lss100100_firmware:1.3.0; CVE-2017-7689 same ≤1.3.0
 * - CVE-2023-1389 (fkie) AND[ o:tp-link:archer_ax21_firmware <1.1.4 ; h:tp-link:archer_ax21:- ]
 * - CVE-2001-0514 OR[ h:atmel:802.11b_vnet-b_access_point:* ≤1.3 ; h:linksys:wap11:* ; h:netgear:me102:* ]
 */
const table: { name: string; device: string[]; yes: string[]; possible: string[] }[] = [
  {
    name: 'DIR-645 fw 1.03 update b08 on hw rev a1 (alias d-link/dlink both ways)',
    device: [o('dlink', 'dir-645_firmware', '1.03', 'b08'), h('dlink', 'dir-645', 'a1')],
    yes: ['CVE-2013-7389', 'CVE-2013-7471', 'CVE-2015-2051', 'CVE-2015-2052'],
    possible: [],
  },
  {
    name: 'DIR-645 fw 1.04b11: excluded end version (<1.04b11) and ≤1.03 no longer hold',
    device: [o('d-link', 'dir-645_firmware', '1.04b11'), h('d-link', 'dir-645', 'a1')],
    yes: ['CVE-2015-2051', 'CVE-2015-2052'],
    possible: [],
  },
  {
    name: 'DIR-645 hw version NA: criteria naming hw rev a1 are disjoint',
    device: [o('dlink', 'dir-645_firmware', '1.03'), h('dlink', 'dir-645', '-')],
    yes: ['CVE-2013-7471'],
    possible: [],
  },
  {
    name: 'DIR-645 hw revision unknown (ANY): a1-specific and update-specific configurations are possible',
    device: [o('dlink', 'dir-645_firmware', '1.03'), h('dlink', 'dir-645', '*')],
    yes: ['CVE-2013-7471'],
    possible: ['CVE-2013-7389', 'CVE-2015-2051', 'CVE-2015-2052'],
  },
  {
    name: 'DIR-820L 1.05 b03: exact version+update; firmware "-" (NA) criterion is only possible',
    device: [o('dlink', 'dir-820l_firmware', '1.05', 'b03'), h('dlink', 'dir-820l')],
    yes: ['CVE-2015-1187'],
    possible: ['CVE-2021-45382'],
  },
  {
    name: 'DIR-820L 1.05 without update: the b03 configuration cannot be decided',
    device: [o('d-link', 'dir-820l_firmware', '1.05'), h('d-link', 'dir-820l')],
    yes: [],
    possible: ['CVE-2015-1187', 'CVE-2021-45382'],
  },
  {
    name: 'DIR-820L 1.06: no listed version matches',
    device: [o('dlink', 'dir-820l_firmware', '1.06', 'b01'), h('dlink', 'dir-820l')],
    yes: [],
    possible: ['CVE-2021-45382'],
  },
  {
    name: 'DIR-820L hardware only: firmware unknown, found through the vulnerable:false platform criterion',
    device: [h('dlink', 'dir-820l')],
    yes: [],
    possible: ['CVE-2015-1187', 'CVE-2021-45382'],
  },
  {
    name: 'EdgeOS 1.9.1 with no hardware CPE: ubnt and ui both match; running-on-hardware config is possible',
    device: [o('ui', 'edgeos', '1.9.1')],
    yes: ['CVE-2017-0932', 'CVE-2017-0933', 'CVE-2017-0934', 'CVE-2017-0935'],
    possible: ['CVE-2018-5265'],
  },
  {
    name: 'EdgeOS 1.9.1 on ERLite-3 spelled ubnt',
    device: [o('ubnt', 'edgeos', '1.9.1'), h('ubnt', 'erlite-3')],
    yes: ['CVE-2017-0932', 'CVE-2017-0933', 'CVE-2017-0934', 'CVE-2017-0935', 'CVE-2018-5265'],
    possible: [],
  },
  {
    name: 'EdgeOS 1.9.1.1: above the ≤1.9.1 bounds and not the exact 1.9.1',
    device: [o('ubnt', 'edgeos', '1.9.1.1'), h('ui', 'erlite-3')],
    yes: ['CVE-2017-0932', 'CVE-2017-0935'],
    possible: [],
  },
  {
    name: 'Zyxel USG FLEX 100W 5.00 (both ranges)',
    device: [o('zyxel', 'usg_flex_100w_firmware', '5.00'), h('zyxel', 'usg_flex_100w')],
    yes: ['CVE-2021-35029', 'CVE-2022-30525'],
    possible: [],
  },
  {
    name: 'Zyxel USG FLEX 100W 5.21 (only 2022 range)',
    device: [o('zyxel', 'usg_flex_100w_firmware', '5.21'), h('zyxel', 'usg_flex_100w')],
    yes: ['CVE-2022-30525'],
    possible: [],
  },
  {
    name: 'Zyxel USG FLEX 100W 5.30: versionEndExcluding 5.30 excludes it',
    device: [o('zyxel', 'usg_flex_100w_firmware', '5.30'), h('zyxel', 'usg_flex_100w')],
    yes: [],
    possible: [],
  },
  {
    name: 'Zyxel USG FLEX 100W firmware on the wrong hardware: AND fails',
    device: [o('zyxel', 'usg_flex_100w_firmware', '5.21'), h('zyxel', 'usg_flex_200')],
    yes: [],
    possible: [],
  },
  {
    name: 'Zyxel USG FLEX 100W, firmware version unknown: ranged criteria are possible',
    device: [o('zyxel', 'usg_flex_100w_firmware'), h('zyxel', 'usg_flex_100w')],
    yes: [],
    possible: ['CVE-2021-35029', 'CVE-2022-30525'],
  },
  {
    name: 'Schneider HomeLYnk 1.3.0 spelled schneider-electric (NVD: schneider_electric)',
    device: [
      o('schneider-electric', 'homelynk_controller_lss100100_firmware', '1.3.0'),
      h('schneider-electric', 'homelynk_controller_lss100100'),
    ],
    yes: ['CVE-2017-5157', 'CVE-2017-7689'],
    possible: [],
  },
  {
    name: 'TP-Link Archer AX21 "1.1.3 Build 20220101" < 1.1.4',
    device: [
      o('tp-link', 'archer_ax21_firmware', '1.1.3_build_20220101'),
      h('tp-link', 'archer_ax21', '3.0'),
    ],
    yes: ['CVE-2023-1389'],
    possible: [],
  },
  {
    name: 'TP-Link Archer AX21 "1.1.4 Build 20230219" is the fix (not < 1.1.4), spelled tp_link',
    device: [o('tp_link', 'archer_ax21_firmware', '1.1.4_build_20230219'), h('tp_link', 'archer_ax21')],
    yes: [],
    possible: [],
  },
  {
    name: 'Linksys WAP11: criterion version ANY (no range) matches any device version',
    device: [h('linksys', 'wap11', '2.2')],
    yes: ['CVE-2001-0514'],
    possible: [],
  },
  {
    name: 'Atmel AP, version unknown vs ≤1.3',
    device: [h('atmel', '802.11b_vnet-b_access_point', '*')],
    yes: [],
    possible: ['CVE-2001-0514'],
  },
  {
    name: 'Atmel AP 1.4 > 1.3',
    device: [h('atmel', '802.11b_vnet-b_access_point', '1.4')],
    yes: [],
    possible: [],
  },
];

describe.skipIf(!hasNvd)('device matching on the real NVD records (needs ../shared/data)', () => {
  let index: CveIndex;
  let records: CveRecord[];
  beforeAll(async () => {
    records = (await collectNvd(nvdSubset)).records;
    for (const f of readdirSync(fkieDir).filter((n) => n.endsWith('.json'))) {
      records.push(...(await collectNvd(path.join(fkieDir, f))).records);
    }
    index = CveIndex.from(records);
  });

  it.each(table)('$name', ({ device, yes, possible }) => {
    const r = index.match(device);
    expect(r.matches.map((m) => m.cveId)).toEqual([...yes].sort());
    expect(r.possible.map((m) => m.cveId)).toEqual([...possible].sort());
  });

  it('explains a match: criteria, device CPE and configuration path', () => {
    const r = index.match([o('dlink', 'dir-645_firmware', '1.04b11'), h('dlink', 'dir-645', 'a1')]);
    const m = r.matches.find((x) => x.cveId === 'CVE-2015-2051');
    expect(m?.applies).toBe(true);
    expect(m?.configurations).toEqual([0]);
    expect(m?.matched.map((c) => [c.pathString, c.criteria, c.vulnerable, c.deviceCpe])).toEqual([
      [
        'configurations[0].nodes[0].cpeMatch[0]',
        'cpe:2.3:o:d-link:dir-645_firmware:*:*:*:*:*:*:*:*',
        true,
        o('dlink', 'dir-645_firmware', '1.04b11'),
      ],
      [
        'configurations[0].nodes[1].cpeMatch[0]',
        'cpe:2.3:h:d-link:dir-645:a1:*:*:*:*:*:*:*',
        false,
        h('dlink', 'dir-645', 'a1'),
      ],
    ]);
    expect(m?.matched[0]?.versionEndIncluding).toBe('1.04b12');
  });

  it('points at the right one of 16 configurations (CVE-2022-30525, USG FLEX 500 is ≤5.30 inclusive)', () => {
    const r = index.match([o('zyxel', 'usg_flex_500_firmware', '5.30'), h('zyxel', 'usg_flex_500')]);
    const m = r.matches.find((x) => x.cveId === 'CVE-2022-30525');
    expect(m?.configurations).toEqual([2]);
    expect(m?.matched[0]?.matchCriteriaId).toBe('37470C96-3006-4265-A5B6-054D44055060');
  });

  it('explains a possible match with a reason', () => {
    const r = index.match([o('dlink', 'dir-820l_firmware', '1.05'), h('dlink', 'dir-820l')]);
    const p = r.possible.find((x) => x.cveId === 'CVE-2015-1187');
    expect(p?.matched.find((c) => c.vulnerable)?.reason).toMatch(/update/);
    const q = r.possible.find((x) => x.cveId === 'CVE-2021-45382');
    expect(q?.matched.find((c) => c.vulnerable)?.reason).toMatch(/NA/);
  });

  it('refuses too-broad device CPEs instead of matching everything', () => {
    for (const bad of [
      ['cpe:2.3:o:dlink:*:1.0:*:*:*:*:*:*:*'],
      ['cpe:2.3:o:*:dir-645_firmware:1.0:*:*:*:*:*:*:*'],
      ['cpe:2.3:o:dlink:dir-*:1.0:*:*:*:*:*:*:*'],
      ['cpe:2.3:h:-:dir-645:*:*:*:*:*:*:*:*'],
      [],
    ]) {
      expect(() => index.match(bad)).toThrow(expect.objectContaining({ code: 'CPE_TOO_BROAD' }) as Error);
    }
    expect(() => index.match(['cpe:2.3:o:dlink'])).toThrow(CpeError);
  });

  it('lookup() finds CVEs by (vendor, product) under either vendor spelling', () => {
    const a = index
      .lookup('dlink', 'dir-645')
      .map((r) => r.id)
      .sort();
    const b = index
      .lookup('D-Link', 'DIR-645')
      .map((r) => r.id)
      .sort();
    expect(a).toEqual(['CVE-2013-7389', 'CVE-2013-7471', 'CVE-2015-2051', 'CVE-2015-2052']);
    expect(b).toEqual(a);
  });

  it('the index returns exactly what a full scan returns (sample of devices)', () => {
    const devices = table.map((t) => t.device);
    for (const d of devices) {
      const prepared = prepareDevice(d);
      const scan = records
        .map((r) => evaluateCve(r, prepared))
        .filter((e) => e.applies !== false)
        .map((e) => `${e.cveId}:${String(e.applies)}`)
        .sort();
      const r = index.match(prepared);
      const viaIndex = [...r.matches, ...r.possible].map((e) => `${e.cveId}:${String(e.applies)}`).sort();
      expect(viaIndex).toEqual(scan);
    }
  });
});

describe('configuration logic on synthetic records', () => {
  const mk = (configurations: CveRecord['configurations']): CveRecord => ({
    id: 'CVE-2099-0001',
    sourceIdentifier: null,
    published: null,
    lastModified: null,
    vulnStatus: null,
    description: '',
    cvss: null,
    cvssV40: null,
    cvssV31: null,
    cvssV30: null,
    cvssV2: null,
    cwes: [],
    cisaExploitAdd: null,
    cisaActionDue: null,
    configurations,
    references: [],
  });
  const fw = { vulnerable: true, criteria: o('acme', 'cam_firmware'), versionEndExcluding: '2.0' };
  const hwA = { vulnerable: false, criteria: h('acme', 'cam_a') };
  const hwB = { vulnerable: false, criteria: h('acme', 'cam_b') };
  const dev = [o('acme', 'cam_firmware', '1.5'), h('acme', 'cam_a')];

  it('negate: "firmware on any hardware except cam_a"', () => {
    const rec = mk([
      {
        operator: 'AND',
        negate: false,
        nodes: [
          { operator: 'OR', negate: false, cpeMatch: [fw] },
          { operator: 'OR', negate: true, cpeMatch: [hwA] },
        ],
      },
    ]);
    expect(evaluateCve(rec, dev).applies).toBe(false);
    expect(evaluateCve(rec, [o('acme', 'cam_firmware', '1.5'), h('acme', 'cam_b')]).applies).toBe(true);
    // negated criteria are not reported as evidence
    expect(evaluateCve(rec, [o('acme', 'cam_firmware', '1.5'), h('acme', 'cam_b')]).matched).toHaveLength(1);
  });

  it('a configuration with only vulnerable:false criteria never applies', () => {
    const rec = mk([
      { operator: 'OR', negate: false, nodes: [{ operator: 'OR', negate: false, cpeMatch: [hwA] }] },
    ]);
    expect(evaluateCve(rec, dev).applies).toBe(false);
  });

  it('node operator AND inside a node, and OR across configurations', () => {
    const rec = mk([
      {
        operator: 'OR',
        negate: false,
        nodes: [{ operator: 'AND', negate: false, cpeMatch: [fw, hwB] }],
      },
      {
        operator: 'AND',
        negate: false,
        nodes: [
          { operator: 'OR', negate: false, cpeMatch: [fw] },
          { operator: 'OR', negate: false, cpeMatch: [hwB, hwA] },
        ],
      },
    ]);
    const ev = evaluateCve(rec, dev);
    expect(ev.applies).toBe(true);
    expect(ev.configurations).toEqual([1]);
    expect(ev.matched.map((m) => m.pathString)).toEqual([
      'configurations[1].nodes[0].cpeMatch[0]',
      'configurations[1].nodes[1].cpeMatch[1]',
    ]);
  });

  it('a configuration that is only "possible" through parts the device lacks is false', () => {
    const rec = mk([
      { operator: 'OR', negate: false, nodes: [{ operator: 'OR', negate: false, cpeMatch: [fw] }] },
    ]);
    expect(evaluateCve(rec, [h('acme', 'cam_a')]).applies).toBe(false);
  });

  it('wildcard product in a criterion (NISTIR 7696 source wildcard) matches', () => {
    const rec = mk([
      {
        operator: 'OR',
        negate: false,
        nodes: [
          { operator: 'OR', negate: false, cpeMatch: [{ vulnerable: true, criteria: o('acme', 'cam*') }] },
        ],
      },
    ]);
    expect(evaluateCve(rec, dev).applies).toBe(true);
    const idx = CveIndex.from([rec]);
    expect(idx.match(dev).matches).toHaveLength(1);
    expect(idx.match([o('acme', 'router_firmware', '1')]).matches).toHaveLength(0);
  });
});

describe('vendor aliases', () => {
  it('canonicalises the spellings NVD uses', () => {
    expect(canonicalVendor('D-Link')).toBe('dlink');
    expect(canonicalVendor('ubnt')).toBe('ui');
    expect(canonicalVendor('schneider_electric')).toBe('schneider-electric');
    expect(canonicalVendor('tp_link')).toBe('tp-link');
    expect(canonicalVendor('mi')).toBe('xiaomi');
    expect(canonicalVendor('netgear')).toBe('netgear');
    expect(vendorSpellings('dlink')).toContain('d-link');
  });
});
