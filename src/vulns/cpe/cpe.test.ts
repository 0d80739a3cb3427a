import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ANY, CpeError, NA, formatCpe, literal, parseCpe, wfn } from './index.js';
import { wfnArb } from '../test-fixtures/arbitraries.js';
import { hasNvd, nvdSubset } from '../test-fixtures/paths.js';

describe('parseCpe', () => {
  it('parses a plain NVD criterion', () => {
    const w = parseCpe('cpe:2.3:o:dlink:dir-820l_firmware:1.05:b03:*:*:*:*:*:*');
    expect(w.part).toBe('o');
    expect(w.vendor).toEqual(literal('dlink'));
    expect(w.product).toEqual(literal('dir-820l_firmware'));
    expect(w.version).toEqual(literal('1.05'));
    expect(w.update).toEqual(literal('b03'));
    expect(w.edition).toBe(ANY);
  });

  it('distinguishes ANY, NA and a quoted hyphen', () => {
    const w = parseCpe('cpe:2.3:h:d-link:dir-820l:-:\\-:*:*:*:*:*:*');
    expect(w.version).toBe(NA);
    expect(w.update).toEqual(literal('-'));
    expect(formatCpe(w)).toBe('cpe:2.3:h:d-link:dir-820l:-:\\-:*:*:*:*:*:*');
  });

  it('unquotes escaped punctuation (real NVD names)', () => {
    expect(parseCpe('cpe:2.3:h:tp-link:tl-wr841n_\\(9.0\\):*:*:*:*:*:*:*:*').product).toEqual(
      literal('tl-wr841n_(9.0)'),
    );
    expect(parseCpe('cpe:2.3:h:philips:in.sight_b120\\\\37:-:*:*:*:*:*:*:*').product).toEqual(
      literal('in.sight_b120\\37'),
    );
    expect(parseCpe('cpe:2.3:o:zyxel:x:3.40\\(ajz.1\\):*:*:*:*:*:*:*').version).toEqual(
      literal('3.40(ajz.1)'),
    );
    // quoted colon stays inside the component
    expect(parseCpe('cpe:2.3:a:v:p\\:q:*:*:*:*:*:*:*:*').product).toEqual(literal('p:q'));
    // quoting '.', '-', '_' is optional
    expect(parseCpe('cpe:2.3:a:v:a\\.b\\-c\\_d:*:*:*:*:*:*:*:*').product).toEqual(literal('a.b-c_d'));
  });

  it('accepts wildcards only at the ends of a value', () => {
    expect(parseCpe('cpe:2.3:a:v:p:8.*:sp?:*:*:*:*:*:*').version).toEqual(literal('8.', '', '*'));
    expect(parseCpe('cpe:2.3:a:v:p:8.*:sp?:*:*:*:*:*:*').update).toEqual(literal('sp', '', '?'));
    expect(parseCpe('cpe:2.3:a:v:*abc??:*:*:*:*:*:*:*:*').product).toEqual(literal('abc', '*', '??'));
    expect(parseCpe('cpe:2.3:a:v:\\*x\\?:*:*:*:*:*:*:*:*').product).toEqual(literal('*x?'));
  });

  const bad: [string, number | undefined, RegExp][] = [
    ['cpe:2.2:a:v:p:*:*:*:*:*:*:*:*', 0, /prefix/],
    ['cpe:/a:vendor:product', 0, /prefix/],
    ['cpe:2.3:a:v:p:*:*:*:*:*:*:*', undefined, /found 10/],
    ['cpe:2.3:a:v:p:*:*:*:*:*:*:*:*:*', undefined, /too many/],
    ['cpe:2.3:x:v:p:*:*:*:*:*:*:*:*', 8, /part/],
    ['cpe:2.3:a:v::*:*:*:*:*:*:*:*', 12, /empty/],
    ['cpe:2.3:a:v:a*b:*:*:*:*:*:*:*:*', 13, /unquoted "\*"/],
    ['cpe:2.3:a:v:a?b:*:*:*:*:*:*:*:*', 13, /unquoted "\?"/],
    ['cpe:2.3:a:v:a b:*:*:*:*:*:*:*:*', 13, /illegal character/],
    ['cpe:2.3:a:v:p:*:*:*:*:*:*:*:x\\', 29, /dangling escape/],
  ];
  it.each(bad)('rejects %s with CPE_INVALID and a position', (s, pos, msg) => {
    let err: unknown;
    try {
      parseCpe(s);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CpeError);
    const e = err as CpeError;
    expect(e.code).toBe('CPE_INVALID');
    expect(e.input).toBe(s);
    expect(e.message).toMatch(msg);
    if (pos !== undefined) expect(e.position).toBe(pos);
  });
});

describe('formatCpe / parseCpe round trip (property)', () => {
  it('parse(format(w)) == w', () => {
    fc.assert(
      fc.property(wfnArb, (w) => {
        expect(parseCpe(formatCpe(w))).toEqual(w);
      }),
      { numRuns: 2000 },
    );
  });
  it('format is canonical: format(parse(format(w))) == format(w)', () => {
    fc.assert(
      fc.property(wfnArb, (w) => {
        const s = formatCpe(w);
        expect(formatCpe(parseCpe(s))).toBe(s);
      }),
      { numRuns: 1000 },
    );
  });
  it('any mutation of a valid string either parses or throws CpeError (never something else)', () => {
    fc.assert(
      fc.property(wfnArb, fc.nat(), fc.constantFrom(':', '\\', '*', '?', ' ', 'é', ''), (w, at, ch) => {
        const s = formatCpe(w);
        const i = at % (s.length + 1);
        const m = s.slice(0, i) + ch + s.slice(i + 1);
        try {
          parseCpe(m);
        } catch (e) {
          expect(e).toBeInstanceOf(CpeError);
        }
      }),
      { numRuns: 1000 },
    );
  });
  it('wfn() helper defaults to ANY', () => {
    expect(
      formatCpe(wfn({ part: 'o', vendor: literal('dlink'), product: literal('dir-645_firmware') })),
    ).toBe('cpe:2.3:o:dlink:dir-645_firmware:*:*:*:*:*:*:*:*');
  });
});

describe.skipIf(!hasNvd)('every criterion in the shared NVD subset (needs ../shared/data)', () => {
  it('parses and formats back to the identical string', () => {
    const text = readFileSync(nvdSubset, 'utf8');
    const all = [...text.matchAll(/"criteria":"((?:[^"\\]|\\.)*)"/g)].map(
      (m) => JSON.parse(`"${m[1]}"`) as string,
    );
    expect(all.length).toBeGreaterThan(20000);
    for (const c of new Set(all)) expect(formatCpe(parseCpe(c))).toBe(c);
  });
});
