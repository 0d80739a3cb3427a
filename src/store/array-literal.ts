/**
 * PostgreSQL array literals for bulk statements (`unnest($1::text[], …)`), built in one pass. node-postgres
 * turns a JS array into the same text with a type check, two regex replaces and a few strings per
 * element; for the hundreds of thousands of elements a busy flow source sends per second that was a
 * visible share of the collector's time.
 */

const NEEDS_ESCAPE = /["\\]/;

/** `{"a","b\"c",NULL}`: every element quoted (so commas, braces, spaces and "NULL" stay text). */
export function textArrayLiteral(values: readonly (string | null)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    const v = values[i];
    if (v === null || v === undefined) out += 'NULL';
    else out += `"${NEEDS_ESCAPE.test(v) ? v.replace(/["\\]/g, '\\$&') : v}"`;
  }
  return `${out}}`;
}

/** `{1,2,NULL}` of integers (ids, counts, times in ms); anything else is refused. */
export function intArrayLiteral(values: readonly (number | null)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    const v = values[i];
    if (v === null || v === undefined) out += 'NULL';
    else if (Number.isSafeInteger(v)) out += String(v);
    else throw new RangeError(`not an integer for an int8[] literal: ${v}`);
  }
  return `${out}}`;
}
