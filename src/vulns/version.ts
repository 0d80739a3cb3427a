/**
 * Version comparison for real-world (mostly firmware) version strings.
 *
 * Rules, applied in order:
 * 1. Lowercase and trim. A leading prefix word `v`, `ver`, `version`, `fw`, `firmware`, `rel` or `r` is dropped
 *    when a digit follows (possibly after one separator): `V5.5.0` → `5.5.0`, `firmware_1.01.03` → `1.01.03`.
 * 2. Whole-string dates are rewritten to year.month.day: `10-31-2016` / `31.10.2016` (first field > 12 means
 *    day-first) → `2016.10.31`; `jul.2016` / `jul-2016` → `2016.7`. ISO dates `2017-01-06` and compact `20190101`
 *    already sort correctly.
 * 3. Tokenise into maximal runs of digits (numeric tokens, compared by value, so `03` = `3` and arbitrarily long
 *    numbers are fine) and runs of letters (word tokens). Every other character (`.`, `-`, `_`, `+`, `(`, …) only
 *    separates tokens.
 * 4. Word tokens are classified:
 *    - pre-release: `dev` < `snapshot` < `alpha` < `beta` < `pre` = `preview` < `rc` — these sort BEFORE the end of
 *      the version (`2.1.4-rc1` < `2.1.4`);
 *    - build/patch markers: `build`, `bld`, `b`, `p`, `patch`, `sp`, `hotfix`, `hf`, `rev`, `r`, `release`, `u`,
 *      `update`, `pl` — these sort AFTER the end of the version and before any other token (`1.0.2_build_20190101` >
 *      `1.0.2`, `V5.5.0build180525` > `5.5.0`, `1.08b31` > `1.08`; the D-Link style `b` is a build number, not beta);
 *    - any other word (`1.0a`, `2.16ww`): sorts after build markers and before numbers, words ordered by their text.
 * 5. Zero numeric tokens immediately before the end or before a word token are dropped, so `1.0` = `1.0.0` and
 *    `1.0.0-rc1` = `1-rc1`.
 * 6. Compare the token lists lexicographically; a missing token is the "end" marker. Token order:
 *    pre-release < end < build marker < other word < number. Ties between pre-release words use the order above,
 *    other words compare as strings, numbers by value.
 *
 * Because the comparison is a lexicographic order over a key computed from each string alone, it is a total
 * preorder: antisymmetric and transitive (property-tested). Distinct strings can compare equal (`1.0` / `1.0.0`,
 * `1.03.07` / `1.3.7`).
 */

const PRE: ReadonlyMap<string, number> = new Map([
  ['dev', 0],
  ['snapshot', 1],
  ['alpha', 2],
  ['beta', 3],
  ['pre', 4],
  ['preview', 4],
  ['rc', 5],
]);
const BUILD: ReadonlySet<string> = new Set([
  'build',
  'bld',
  'b',
  'p',
  'patch',
  'sp',
  'hotfix',
  'hf',
  'rev',
  'r',
  'release',
  'u',
  'update',
  'pl',
]);
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** Token classes in sort order; END is the padding for the shorter list. */
const Cls = { Pre: 0, End: 1, Build: 2, Word: 3, Num: 4 } as const;

export interface VersionToken {
  readonly cls: 0 | 1 | 2 | 3 | 4;
  /** Numbers: digits without leading zeros ('' for 0). Words: the word. Pre: rank as string. */
  readonly text: string;
}

function normalise(input: string): string {
  let s = input.trim().toLowerCase();
  s = s.replace(/^(?:version|firmware|ver|fw|rel|v|r)[._\- ]?(?=\d)/, '');
  let m = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$/.exec(s);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    const [month, day] = a > 12 ? [b, a] : [a, b];
    return `${m[3]}.${month}.${day}`;
  }
  m = /^([a-z]{3})[a-z]*[-. ]?(\d{4})$/.exec(s);
  if (m) {
    const month = MONTHS.indexOf(m[1] as string);
    if (month >= 0) return `${m[2]}.${month + 1}`;
  }
  return s;
}

/** Tokenises a version string per the rules above (exported for tests and explanations). */
export function tokenizeVersion(input: string): VersionToken[] {
  const s = normalise(input);
  const raw: VersionToken[] = [];
  const re = /(\d+)|([a-z]+)/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    if (m[1] !== undefined) {
      raw.push({ cls: Cls.Num, text: m[1].replace(/^0+/, '') });
    } else {
      const w = m[2] as string;
      const pre = PRE.get(w);
      if (pre !== undefined) raw.push({ cls: Cls.Pre, text: String(pre) });
      else if (BUILD.has(w)) raw.push({ cls: Cls.Build, text: '' });
      else raw.push({ cls: Cls.Word, text: w });
    }
  }
  // Drop zero numeric tokens before the end or before a word token.
  const out: VersionToken[] = [];
  for (let i = 0; i < raw.length; i++) {
    const t = raw[i] as VersionToken;
    if (t.cls === Cls.Num && t.text === '') {
      let j = i;
      while (
        j < raw.length &&
        (raw[j] as VersionToken).cls === Cls.Num &&
        (raw[j] as VersionToken).text === ''
      )
        j++;
      const next = raw[j];
      if (next === undefined || next.cls !== Cls.Num) {
        i = j - 1;
        continue;
      }
    }
    out.push(t);
  }
  return out;
}

function cmpNumText(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

const END: VersionToken = { cls: Cls.End, text: '' };

function cmpToken(a: VersionToken, b: VersionToken): number {
  if (a.cls !== b.cls) return a.cls < b.cls ? -1 : 1;
  if (a.cls === Cls.Num) return cmpNumText(a.text, b.text);
  return a.text < b.text ? -1 : a.text > b.text ? 1 : 0;
}

/** Compares two tokenised versions: -1, 0 or 1. */
export function compareTokens(a: readonly VersionToken[], b: readonly VersionToken[]): -1 | 0 | 1 {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = cmpToken(a[i] ?? END, b[i] ?? END);
    if (c !== 0) return c < 0 ? -1 : 1;
  }
  return 0;
}

/** Compares two version strings: -1 if a < b, 0 if equivalent, 1 if a > b. */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  return compareTokens(tokenizeVersion(a), tokenizeVersion(b));
}

export interface VersionRange {
  versionStartIncluding?: string | undefined;
  versionStartExcluding?: string | undefined;
  versionEndIncluding?: string | undefined;
  versionEndExcluding?: string | undefined;
}

export function hasRange(r: VersionRange): boolean {
  return (
    r.versionStartIncluding !== undefined ||
    r.versionStartExcluding !== undefined ||
    r.versionEndIncluding !== undefined ||
    r.versionEndExcluding !== undefined
  );
}

/** True when `version` lies inside every bound given in `r` (no bounds: always true). */
export function inRange(version: string, r: VersionRange): boolean {
  const v = tokenizeVersion(version);
  const cmp = (bound: string): number => compareTokens(v, tokenizeVersion(bound));
  if (r.versionStartIncluding !== undefined && cmp(r.versionStartIncluding) < 0) return false;
  if (r.versionStartExcluding !== undefined && cmp(r.versionStartExcluding) <= 0) return false;
  if (r.versionEndIncluding !== undefined && cmp(r.versionEndIncluding) > 0) return false;
  if (r.versionEndExcluding !== undefined && cmp(r.versionEndExcluding) >= 0) return false;
  return true;
}
