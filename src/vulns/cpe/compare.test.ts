import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ANY,
  NA,
  compareNames,
  compareValues,
  compareWfns,
  isDisjoint,
  isEqual,
  isSubset,
  isSuperset,
  literal,
  parseCpe,
  wildcardMatches,
} from './index.js';
import type { CpeValue, Relation } from './index.js';
import { wfnArb } from '../test-fixtures/arbitraries.js';

const i = literal('i');
const k = literal('k');
const mWild = literal('m', '', '*'); // "m*": a value with wildcards

describe('NISTIR 7696 Table 6-2: enumeration of attribute comparison set relations', () => {
  // [source, target, relation] — rows 1–18 of the table (i, k: distinct plain strings; m+wild: a string with wildcards)
  const rows: [string, CpeValue, CpeValue, Relation][] = [
    ['1 ANY/ANY', ANY, ANY, 'EQUAL'],
    ['2 ANY/NA', ANY, NA, 'SUPERSET'],
    ['3 ANY/i', ANY, i, 'SUPERSET'],
    ['4 ANY/m+wild', ANY, mWild, 'UNDEFINED'],
    ['5 NA/ANY', NA, ANY, 'SUBSET'],
    ['6 NA/NA', NA, NA, 'EQUAL'],
    ['7 NA/i', NA, i, 'DISJOINT'],
    ['8 NA/m+wild', NA, mWild, 'UNDEFINED'],
    ['9 i/ANY', i, ANY, 'SUBSET'],
    ['10 i/NA', i, NA, 'DISJOINT'],
    ['11 i/i', i, literal('I'), 'EQUAL'],
    ['12 i/k', i, k, 'DISJOINT'],
    ['13 m1+wild/m2+wild', literal('m', '', '?'), mWild, 'UNDEFINED'],
    ['14 m1+wild/ANY', mWild, ANY, 'SUBSET'],
    ['15 m1+wild/NA', mWild, NA, 'DISJOINT'],
    ['16 m1+wild/i (match)', mWild, literal('mango'), 'SUPERSET'],
    ['17 m1+wild/i (no match)', mWild, literal('apple'), 'DISJOINT'],
  ];
  it.each(rows)('row %s', (_n, s, t, r) => {
    expect(compareValues(s, t)).toBe(r);
  });
  it('a value that is only "*?" is still a wildcard literal, not ANY', () => {
    expect(parseCpe('cpe:2.3:a:v:*?:*:*:*:*:*:*:*:*').product.kind).toBe('value');
  });
});

describe('NISTIR 7696 §6 worked examples', () => {
  // Example: source has concrete values, target has wildcards → UNDEFINED where the target is wild.
  it('example 1: concrete source vs wildcard target', () => {
    const source = parseCpe('cpe:2.3:a:microsoft:internet_explorer:8.0.6001:beta:-:*:*:*:*:*');
    const target = parseCpe('cpe:2.3:a:microsoft:internet_explorer:8.*:sp?:*:*:*:*:*:*');
    const r = compareWfns(source, target);
    expect(r.part).toBe('EQUAL');
    expect(r.vendor).toBe('EQUAL');
    expect(r.product).toBe('EQUAL');
    expect(r.version).toBe('UNDEFINED');
    expect(r.update).toBe('UNDEFINED');
    expect(r.edition).toBe('SUBSET'); // NA vs ANY
    expect(compareNames(source, target)).toBe('UNDEFINED');
  });
  it('example 2: wildcard source vs concrete target', () => {
    const source = parseCpe('cpe:2.3:a:microsoft:internet_explorer:8.*:sp?:*:*:*:*:*:*');
    const target = parseCpe('cpe:2.3:a:microsoft:internet_explorer:8.0.6001:beta:-:*:*:*:*:*');
    const r = compareWfns(source, target);
    expect(r.version).toBe('SUPERSET');
    expect(r.update).toBe('DISJOINT'); // "sp?" does not match "beta"
    expect(r.edition).toBe('SUPERSET'); // ANY vs NA
    expect(isDisjoint(source, target)).toBe(true);
    expect(compareNames(source, target)).toBe('DISJOINT');
  });
  it('example 3: superset when the update matches', () => {
    const source = parseCpe('cpe:2.3:a:microsoft:internet_explorer:8.*:sp?:*:*:*:*:*:*');
    const target = parseCpe('cpe:2.3:a:microsoft:internet_explorer:8.0.6001:sp2:-:*:*:*:*:*');
    expect(isSuperset(source, target)).toBe(true);
    expect(isSubset(target, source)).toBe(false); // target→source compare is UNDEFINED (source has wildcards)
    expect(compareNames(source, target)).toBe('SUPERSET');
  });
  it('equal names and subset', () => {
    const a = parseCpe('cpe:2.3:o:dlink:dir-645_firmware:1.03:*:*:*:*:*:*:*');
    expect(isEqual(a, a)).toBe(true);
    const b = parseCpe('cpe:2.3:o:dlink:dir-645_firmware:*:*:*:*:*:*:*:*');
    expect(compareNames(b, a)).toBe('SUPERSET');
    expect(compareNames(a, b)).toBe('SUBSET');
    expect(isSubset(a, b)).toBe(true);
  });
});

describe('wildcard matching (reference algorithm: leading/trailing "?" match at most that many characters)', () => {
  const cases: [string, string, string, string, boolean][] = [
    // prefix, text, suffix, target, expected
    ['', 'foo', '*', 'foobar', true],
    ['', 'foo', '*', 'foo', true],
    ['*', 'bar', '', 'foobar', true],
    ['*', 'bar', '', 'foobarx', false],
    ['*', 'oba', '*', 'foobar', true],
    ['', 'sp', '?', 'sp2', true],
    ['', 'sp', '?', 'sp', true],
    ['', 'sp', '?', 'sp12', false],
    ['??', 'x', '', 'abx', true],
    ['??', 'x', '', 'abcx', false],
    ['?', 'x', '?', 'axb', true],
    ['', 'dir-', '*', 'DIR-645', true],
    ['', 'dir-', '*', 'dap-1320', false],
  ];
  it.each(cases)('%s%s%s vs %s', (p, t, s, target, want) => {
    expect(wildcardMatches({ prefix: p, text: t, suffix: s }, target)).toBe(want);
  });
});

describe('relation properties', () => {
  it('EQUAL is symmetric and SUPERSET/SUBSET mirror each other on wildcard-free names', () => {
    fc.assert(
      fc.property(wfnArb, wfnArb, (a, b) => {
        const ab = compareNames(a, b);
        const ba = compareNames(b, a);
        if (ab === 'EQUAL') expect(ba).toBe('EQUAL');
        if (ab === 'SUPERSET' && ba !== 'UNDEFINED') expect(ba).toBe('SUBSET');
        if (ab === 'DISJOINT' && ba !== 'UNDEFINED') expect(['DISJOINT']).toContain(ba);
      }),
      { numRuns: 1000 },
    );
  });
});
