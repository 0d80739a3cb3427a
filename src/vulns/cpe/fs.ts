/**
 * CPE 2.3 formatted string binding (NISTIR 7695 §6.2): `cpe:2.3:part:vendor:product:version:update:edition:
 * language:sw_edition:target_sw:target_hw:other`.
 *
 * Unbinding (parse) rules:
 * - exactly 11 attribute components after the `cpe:2.3:` prefix, separated by unquoted `:`;
 * - a component that is exactly `*` is ANY, exactly `-` is NA; an empty component is an error;
 * - `\x` quotes any printable character x (so `\:` `\*` `\?` `\\` are literals); `.`, `-` and `_` may appear
 *   quoted or unquoted; other printable punctuation is accepted unquoted (as the spec's unbinding adds quoting);
 * - an unquoted `*` may appear only as the first and/or last character; unquoted `?` only in a run at the start
 *   and/or a run at the end (wildcards in the middle are an error);
 * - whitespace, control and non-ASCII characters are errors; part must be a, o, h, `*` or `-`.
 * Binding (format) quotes every character other than `[A-Za-z0-9._-]`, and quotes a literal that is exactly
 * `-` as `\-` so it does not read back as NA.
 */
import { ANY, CpeError, NA, WFN_ATTRIBUTES } from './types.js';
import type { CpeLiteral, CpePart, CpeValue, Wfn, WfnValueAttribute } from './types.js';

const PREFIX = 'cpe:2.3:';

function isPrintable(code: number): boolean {
  return code >= 0x21 && code <= 0x7e;
}

function parseComponent(input: string, start: number, end: number): CpeValue {
  if (end === start) throw new CpeError('CPE_INVALID', 'empty attribute component', input, start);
  if (end - start === 1) {
    const c = input[start];
    if (c === '*') return ANY;
    if (c === '-') return NA;
  }
  let prefix = '';
  let i = start;
  if (input[i] === '*') {
    prefix = '*';
    i++;
  } else {
    while (i < end && input[i] === '?') {
      prefix += '?';
      i++;
    }
  }
  // Find the trailing wildcard run (only unquoted characters count: a '*' or '?' preceded by an odd number of
  // backslashes is quoted).
  let j = end;
  let suffix = '';
  const unquotedAt = (k: number): boolean => {
    let n = 0;
    for (let b = k - 1; b >= i && input[b] === '\\'; b--) n++;
    return n % 2 === 0;
  };
  if (j > i && input[j - 1] === '*' && unquotedAt(j - 1)) {
    suffix = '*';
    j--;
  } else {
    while (j > i && input[j - 1] === '?' && unquotedAt(j - 1)) {
      suffix += '?';
      j--;
    }
  }
  let text = '';
  for (let k = i; k < j; k++) {
    const c = input[k] as string;
    const code = c.charCodeAt(0);
    if (!isPrintable(code)) {
      throw new CpeError('CPE_INVALID', `illegal character ${JSON.stringify(c)}`, input, k);
    }
    if (c === '\\') {
      const next = input[k + 1];
      if (k + 1 >= j || next === undefined) {
        throw new CpeError('CPE_INVALID', 'dangling escape character', input, k);
      }
      if (!isPrintable(next.charCodeAt(0))) {
        throw new CpeError('CPE_INVALID', `illegal quoted character ${JSON.stringify(next)}`, input, k + 1);
      }
      text += next;
      k++;
      continue;
    }
    if (c === '*' || c === '?') {
      throw new CpeError(
        'CPE_INVALID',
        `unquoted "${c}" is only allowed at the start or end of a value`,
        input,
        k,
      );
    }
    text += c;
  }
  if (text === '' && prefix + suffix === '*') return ANY; // unreachable: a lone '*' was handled above
  return { kind: 'value', text, prefix, suffix };
}

/** Parses a CPE 2.3 formatted string into a WFN. Throws CpeError('CPE_INVALID') with the position of the problem. */
export function parseCpe(input: string): Wfn {
  if (typeof input !== 'string' || !input.startsWith(PREFIX)) {
    throw new CpeError('CPE_INVALID', 'expected prefix "cpe:2.3:"', String(input), 0);
  }
  const values: CpeValue[] = [];
  let start = PREFIX.length;
  let i = start;
  let partAt = start;
  for (; i <= input.length; i++) {
    const c = input[i];
    if (c === '\\' && i + 1 < input.length) {
      i++;
      continue;
    }
    if (c === ':' || i === input.length) {
      if (values.length === WFN_ATTRIBUTES.length) {
        throw new CpeError(
          'CPE_INVALID',
          'too many components (expected 11 after "cpe:2.3:")',
          input,
          start - 1,
        );
      }
      if (values.length === 0) partAt = start;
      values.push(parseComponent(input, start, Math.min(i, input.length)));
      start = i + 1;
    }
  }
  if (values.length !== WFN_ATTRIBUTES.length) {
    throw new CpeError(
      'CPE_INVALID',
      `expected 11 components after "cpe:2.3:", found ${values.length}`,
      input,
      input.length,
    );
  }
  const at = (n: number): CpeValue => values[n] ?? ANY;
  const part = at(0);
  let p: Wfn['part'];
  if (part.kind === 'value') {
    const t = part.prefix === '' && part.suffix === '' ? part.text.toLowerCase() : '';
    if (t !== 'a' && t !== 'o' && t !== 'h') {
      throw new CpeError('CPE_INVALID', 'part must be "a", "o", "h", "*" or "-"', input, partAt);
    }
    p = t as CpePart;
  } else {
    p = part;
  }
  return {
    part: p,
    vendor: at(1),
    product: at(2),
    version: at(3),
    update: at(4),
    edition: at(5),
    language: at(6),
    sw_edition: at(7),
    target_sw: at(8),
    target_hw: at(9),
    other: at(10),
  };
}

/** Like parseCpe but returns null instead of throwing. */
export function tryParseCpe(input: string): Wfn | null {
  try {
    return parseCpe(input);
  } catch (e) {
    if (e instanceof CpeError) return null;
    throw e;
  }
}

function quote(text: string): string {
  let out = '';
  for (const c of text) {
    out += /[A-Za-z0-9._-]/.test(c) ? c : '\\' + c;
  }
  return out;
}

/** Binds one attribute value to its formatted-string form. */
export function formatValue(v: CpeValue): string {
  if (v.kind === 'any') return '*';
  if (v.kind === 'na') return '-';
  if (v.text === '' && v.prefix === '' && v.suffix === '') {
    throw new CpeError('CPE_INVALID', 'empty literal value cannot be bound', '');
  }
  const body = v.text === '-' && v.prefix === '' && v.suffix === '' ? '\\-' : quote(v.text);
  return v.prefix + body + v.suffix;
}

/** Binds a WFN to a CPE 2.3 formatted string. */
export function formatCpe(w: Wfn): string {
  const part = typeof w.part === 'string' ? w.part : formatValue(w.part);
  const rest = WFN_ATTRIBUTES.slice(1).map((a) => formatValue(w[a as WfnValueAttribute]));
  return `${PREFIX}${part}:${rest.join(':')}`;
}

/** The value of a literal attribute lowercased, or null for ANY/NA/wildcard values. */
export function plainText(v: CpeValue): string | null {
  return v.kind === 'value' && v.prefix === '' && v.suffix === '' ? v.text.toLowerCase() : null;
}

export type { CpeLiteral };
