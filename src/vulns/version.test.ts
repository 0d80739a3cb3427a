import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareVersions, inRange, tokenizeVersion } from './version.js';

describe('compareVersions: real firmware strings', () => {
  const lt: [string, string][] = [
    ['1.0.2', '1.0.2_build_20190101'],
    ['1.0.2_build_20190101', '1.0.2_build_20190102'],
    ['1.0.2_build_20190101', '1.0.3'],
    ['5.5.0', 'V5.5.0build180525'],
    ['V5.5.0build180525', 'v5.5.0build180601'],
    ['2.1.4-rc1', '2.1.4'],
    ['2.1.4-rc1', '2.1.4-rc2'],
    ['2.1.4-beta3', '2.1.4-rc1'],
    ['2.1.4-alpha', '2.1.4-beta'],
    ['2.1.4-dev', '2.1.4-alpha'],
    ['2.1.3', '2.1.4-rc1'],
    ['1.0', '1.0a'],
    ['1.0a', '1.0b2'.replace('b2', 'c')],
    ['1.0a', '1.0.1'],
    ['1.9', '1.10'],
    ['1.03', '1.10'],
    ['1.04b11', '1.04b12'],
    ['1.03', '1.04b11'],
    ['1.04', '1.04b11'], // D-Link "b" is a build number, after the bare version
    ['1.04b12', '1.05'],
    ['2016-11-14', '2017-01-06'],
    ['10-31-2016', '05-30-2017'],
    ['jul.2016', '2016-08-01'],
    ['20190101', '20190102'],
    ['3.0.0.4.374_979', '3.0.0.4.374_1397'],
    ['1.1.3_build_20220101', '1.1.4'],
    ['1.1.4', '1.1.4 Build 20230219'],
    ['4.35', '5.00'],
    ['5.29', '5.30'],
    ['1.9.1', '1.9.1.1'],
    ['99999999999999999999', '100000000000000000000'],
  ];
  it.each(lt)('%s < %s', (a, b) => {
    expect(compareVersions(a, b)).toBe(-1);
    expect(compareVersions(b, a)).toBe(1);
  });
  const eq: [string, string][] = [
    ['1.03.07', '1.3.7'],
    ['1.0', '1.0.0'],
    ['V1.2', '1.2'],
    ['firmware_1.01.03', '1.1.3'],
    ['1.0-RC1', '1.0.rc.1'],
    ['2.1.4', '2.1.4'],
    ['31.10.2016', '10-31-2016'],
  ];
  it.each(eq)('%s = %s', (a, b) => {
    expect(compareVersions(a, b)).toBe(0);
  });
  it('tokenises into numeric and word runs', () => {
    expect(tokenizeVersion('V5.5.0build180525').map((t) => t.cls)).toEqual([4, 4, 2, 4]);
  });
  it('ranges: including / excluding ends', () => {
    expect(inRange('5.30', { versionStartIncluding: '5.00', versionEndExcluding: '5.30' })).toBe(false);
    expect(inRange('5.29', { versionStartIncluding: '5.00', versionEndExcluding: '5.30' })).toBe(true);
    expect(inRange('5.00', { versionStartIncluding: '5.00', versionEndExcluding: '5.30' })).toBe(true);
    expect(inRange('5.00', { versionStartExcluding: '5.00' })).toBe(false);
    expect(inRange('5.30', { versionEndIncluding: '5.30' })).toBe(true);
    expect(inRange('anything', {})).toBe(true);
  });
});

const piece = fc.oneof(
  fc.nat({ max: 120 }).map(String),
  fc.constantFrom(
    '0',
    '00',
    '007',
    '2019',
    'rc',
    'beta',
    'alpha',
    'dev',
    'build',
    'b',
    'a',
    'x',
    'sp',
    'p',
    'v',
  ),
);
const versionArb = fc
  .array(fc.tuple(piece, fc.constantFrom('.', '-', '_', '', ' ')), { minLength: 1, maxLength: 6 })
  .map((parts) => parts.map(([p, s]) => p + s).join(''));

describe('compareVersions properties', () => {
  it('is reflexive and antisymmetric', () => {
    fc.assert(
      fc.property(versionArb, versionArb, (a, b) => {
        expect(compareVersions(a, a)).toBe(0);
        expect(compareVersions(a, b) + compareVersions(b, a)).toBe(0);
      }),
      { numRuns: 3000 },
    );
  });
  it('is transitive', () => {
    fc.assert(
      fc.property(versionArb, versionArb, versionArb, (a, b, c) => {
        const [x, y, z] = [a, b, c].sort(compareVersions) as [string, string, string];
        expect(compareVersions(x, y)).toBeLessThanOrEqual(0);
        expect(compareVersions(y, z)).toBeLessThanOrEqual(0);
        expect(compareVersions(x, z)).toBeLessThanOrEqual(0);
        if (compareVersions(x, y) === 0 && compareVersions(y, z) === 0) expect(compareVersions(x, z)).toBe(0);
        if (compareVersions(x, y) < 0 || compareVersions(y, z) < 0) expect(compareVersions(x, z)).toBe(-1);
      }),
      { numRuns: 3000 },
    );
  });
});
