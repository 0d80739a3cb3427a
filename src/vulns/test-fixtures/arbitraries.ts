/** fast-check arbitraries shared by the CPE tests. */
import fc from 'fast-check';
import { ANY, NA, literal } from '../cpe/index.js';
import type { CpeValue, Wfn } from '../cpe/index.js';

const textChar = fc.constantFrom(...'abcxyzABZ0189._-!"#$%&\'()+,/:;<=>@[\\]^`{|}~*?'.split(''));
const literalArb: fc.Arbitrary<CpeValue> = fc.oneof(
  fc
    .record({
      text: fc.string({ unit: textChar, minLength: 1, maxLength: 10 }),
      prefix: fc.constantFrom('', '', '*', '?', '??'),
      suffix: fc.constantFrom('', '', '*', '?', '???'),
    })
    .map(({ text, prefix, suffix }) => literal(text, prefix, suffix)),
  fc.constantFrom('?', '??', '*?', '?*', '**', '*??').map((s) => {
    const prefix = s.startsWith('*') ? '*' : (/^\?+/.exec(s)?.[0] ?? '');
    return literal('', prefix, s.slice(prefix.length));
  }),
);
const valueArb: fc.Arbitrary<CpeValue> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<CpeValue>(ANY) },
  { weight: 1, arbitrary: fc.constant<CpeValue>(NA) },
  { weight: 4, arbitrary: literalArb },
);
export const wfnArb: fc.Arbitrary<Wfn> = fc.record({
  part: fc.constantFrom<Wfn['part']>('a', 'o', 'h', ANY, NA),
  vendor: valueArb,
  product: valueArb,
  version: valueArb,
  update: valueArb,
  edition: valueArb,
  language: valueArb,
  sw_edition: valueArb,
  target_sw: valueArb,
  target_hw: valueArb,
  other: valueArb,
});
