/**
 * Well-formed CPE names (WFN, NISTIR 7695 §5) as typed values.
 *
 * A WFN attribute is either one of the two logical values ANY / NA or a literal value. A literal value is kept
 * unescaped (`text`, case preserved) plus the unquoted wildcards that NISTIR 7695 allows at its two ends:
 * `prefix` / `suffix` are `''`, `'*'` or a run of `'?'`. Embedded wildcards are not representable (the spec
 * forbids them).
 */

export interface CpeAny {
  readonly kind: 'any';
}
export interface CpeNa {
  readonly kind: 'na';
}
export interface CpeLiteral {
  readonly kind: 'value';
  /** Literal characters between the wildcards, unescaped, case preserved. May be empty only when a wildcard is present. */
  readonly text: string;
  /** Unquoted leading wildcard: '' | '*' | '?' repeated. */
  readonly prefix: string;
  /** Unquoted trailing wildcard: '' | '*' | '?' repeated. */
  readonly suffix: string;
}
export type CpeValue = CpeAny | CpeNa | CpeLiteral;

export const ANY: CpeAny = Object.freeze({ kind: 'any' });
export const NA: CpeNa = Object.freeze({ kind: 'na' });

export type CpePart = 'a' | 'o' | 'h';

export interface Wfn {
  readonly part: CpePart | CpeAny | CpeNa;
  readonly vendor: CpeValue;
  readonly product: CpeValue;
  readonly version: CpeValue;
  readonly update: CpeValue;
  readonly edition: CpeValue;
  readonly language: CpeValue;
  readonly sw_edition: CpeValue;
  readonly target_sw: CpeValue;
  readonly target_hw: CpeValue;
  readonly other: CpeValue;
}

/** WFN attribute names in formatted-string order. */
export const WFN_ATTRIBUTES = [
  'part',
  'vendor',
  'product',
  'version',
  'update',
  'edition',
  'language',
  'sw_edition',
  'target_sw',
  'target_hw',
  'other',
] as const;
export type WfnAttribute = (typeof WFN_ATTRIBUTES)[number];
export type WfnValueAttribute = Exclude<WfnAttribute, 'part'>;

export type CpeErrorCode = 'CPE_INVALID' | 'CPE_TOO_BROAD';

/** Error for malformed CPE strings (CPE_INVALID) and names refused for matching (CPE_TOO_BROAD). */
export class CpeError extends Error {
  override readonly name = 'CpeError';
  constructor(
    readonly code: CpeErrorCode,
    message: string,
    /** The offending CPE string. */
    readonly input: string,
    /** 0-based character position in `input` where the problem was found, when it is about one character. */
    readonly position?: number,
  ) {
    super(position === undefined ? `${message}: ${input}` : `${message} at position ${position}: ${input}`);
  }
}

/** Builds a literal value; validates that it is non-empty or carries a wildcard. */
export function literal(text: string, prefix = '', suffix = ''): CpeLiteral {
  if (!/^(\*|\?*)$/.test(prefix) || !/^(\*|\?*)$/.test(suffix)) {
    throw new CpeError(
      'CPE_INVALID',
      'wildcard prefix/suffix must be "*" or a run of "?"',
      prefix + text + suffix,
    );
  }
  if (text === '' && prefix === '' && suffix === '') {
    throw new CpeError('CPE_INVALID', 'empty attribute value (use ANY)', text);
  }
  if (text === '' && prefix + suffix === '*') {
    throw new CpeError('CPE_INVALID', 'a lone "*" is the logical value ANY, not a literal', '*');
  }
  return { kind: 'value', text, prefix, suffix };
}

export function hasWildcards(v: CpeValue): boolean {
  return v.kind === 'value' && (v.prefix !== '' || v.suffix !== '');
}

/** The part attribute as a generic value (for attribute-wise comparison). */
export function partValue(part: Wfn['part']): CpeValue {
  return typeof part === 'string' ? { kind: 'value', text: part, prefix: '', suffix: '' } : part;
}

/** Convenience: WFN with every attribute ANY except those given. */
export function wfn(fields: Partial<Wfn>): Wfn {
  return {
    part: ANY,
    vendor: ANY,
    product: ANY,
    version: ANY,
    update: ANY,
    edition: ANY,
    language: ANY,
    sw_edition: ANY,
    target_sw: ANY,
    target_hw: ANY,
    other: ANY,
    ...fields,
  };
}
