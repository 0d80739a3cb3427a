import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deviceRisk } from './risk.js';
import type { ExposureFlags, RiskVuln } from './risk.js';

const vulnArb: fc.Arbitrary<RiskVuln> = fc.record({
  cvss: fc.option(fc.double({ min: 0, max: 10, noNaN: true }), { nil: null }),
  kev: fc.boolean(),
  ransomware: fc.boolean(),
  epss: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
  possible: fc.boolean(),
});
const flagsArb: fc.Arbitrary<ExposureFlags> = fc.record({
  internetExposed: fc.boolean(),
  telnet: fc.boolean(),
  defaultCredentials: fc.boolean(),
  cleartextManagement: fc.boolean(),
  upnp: fc.boolean(),
});

describe('deviceRisk', () => {
  it('is 0 with nothing known and 100 at the extreme', () => {
    expect(deviceRisk([]).score).toBe(0);
    const worst: RiskVuln = { cvss: 10, kev: true, ransomware: true, epss: 1 };
    const all: ExposureFlags = {
      internetExposed: true,
      telnet: true,
      defaultCredentials: true,
      cleartextManagement: true,
      upnp: true,
    };
    expect(deviceRisk(Array(20).fill(worst), all).score).toBeGreaterThanOrEqual(97);
    expect(deviceRisk([worst]).score).toBe(75);
  });
  it('stays within 0..100', () => {
    fc.assert(
      fc.property(fc.array(vulnArb, { maxLength: 30 }), flagsArb, (vs, f) => {
        const s = deviceRisk(vs, f).score;
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(100);
      }),
    );
  });
  it('never decreases when a match is added', () => {
    fc.assert(
      fc.property(fc.array(vulnArb, { maxLength: 10 }), vulnArb, flagsArb, (vs, v, f) => {
        expect(deviceRisk([...vs, v], f).score).toBeGreaterThanOrEqual(deviceRisk(vs, f).score);
      }),
    );
  });
  it('never decreases with higher CVSS / EPSS, KEV, ransomware, definite instead of possible', () => {
    fc.assert(
      fc.property(
        fc.array(vulnArb, { maxLength: 6 }),
        vulnArb,
        flagsArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        (vs, v, f, d) => {
          const base = deviceRisk([...vs, v], f).score;
          const up = (w: RiskVuln): number => deviceRisk([...vs, w], f).score;
          if (v.cvss !== null)
            expect(up({ ...v, cvss: Math.min(10, v.cvss + d) })).toBeGreaterThanOrEqual(base);
          expect(up({ ...v, epss: Math.min(1, (v.epss ?? 0) + d) })).toBeGreaterThanOrEqual(base);
          expect(up({ ...v, kev: true })).toBeGreaterThanOrEqual(base);
          expect(up({ ...v, ransomware: true })).toBeGreaterThanOrEqual(base);
          expect(up({ ...v, possible: false })).toBeGreaterThanOrEqual(base);
        },
      ),
    );
  });
  it('never decreases when an exposure flag is set', () => {
    fc.assert(
      fc.property(
        fc.array(vulnArb, { maxLength: 6 }),
        flagsArb,
        fc.constantFrom<keyof ExposureFlags>(
          'internetExposed',
          'telnet',
          'defaultCredentials',
          'cleartextManagement',
          'upnp',
        ),
        (vs, f, k) => {
          expect(deviceRisk(vs, { ...f, [k]: true }).score).toBeGreaterThanOrEqual(deviceRisk(vs, f).score);
        },
      ),
    );
  });
});
