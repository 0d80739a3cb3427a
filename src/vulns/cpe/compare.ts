/**
 * CPE name comparison (NISTIR 7696 §6): attribute-wise set relations and the name-level predicates.
 *
 * Attribute comparison `compareValues(source, target)` follows the spec's compare() pseudocode:
 * 1. target is a literal with wildcards → UNDEFINED;
 * 2. equal (case-insensitive; ANY=ANY, NA=NA) → EQUAL;
 * 3. source ANY → SUPERSET;  4. target ANY → SUBSET;  5. either NA → DISJOINT;
 * 6. otherwise compare_strings: a source without wildcards that is not equal → DISJOINT; a source with
 *    wildcards matches the target when its literal text occurs in the target with at most n characters before it
 *    (leading `?`×n; any number for a leading `*`, exactly 0 with no leading wildcard) and at most m characters
 *    after it (trailing `?`×m / `*`) → SUPERSET, else DISJOINT.
 *    Note: "at most n" is what the NISTIR 7696 reference algorithm computes (`begins < index → break`,
 *    `leftover > ends → continue`); we follow the reference algorithm.
 */
import { WFN_ATTRIBUTES, partValue } from './types.js';
import type { CpeValue, Wfn, WfnAttribute } from './types.js';

export type Relation = 'EQUAL' | 'SUPERSET' | 'SUBSET' | 'DISJOINT' | 'UNDEFINED';

/** NISTIR 7696 compare_strings for a source literal (possibly with end wildcards) against a plain target text. */
export function wildcardMatches(
  source: { text: string; prefix: string; suffix: string },
  target: string,
): boolean {
  const src = source.text.toLowerCase();
  const tgt = target.toLowerCase();
  const begins = source.prefix === '*' ? -1 : source.prefix.length;
  const ends = source.suffix === '*' ? -1 : source.suffix.length;
  let index = tgt.indexOf(src, 0);
  while (index !== -1) {
    if (index > 0 && begins !== -1 && begins < index) return false;
    const leftover = tgt.length - index - src.length;
    if (!(leftover > 0 && ends !== -1 && leftover > ends)) return true;
    index = tgt.indexOf(src, index + 1);
  }
  return false;
}

/** Attribute comparison per NISTIR 7696 (source = the pattern side, e.g. an NVD criterion; target = the name tested). */
export function compareValues(source: CpeValue, target: CpeValue): Relation {
  const targetWild = target.kind === 'value' && (target.prefix !== '' || target.suffix !== '');
  if (targetWild) return 'UNDEFINED';
  if (source.kind === 'any') return target.kind === 'any' ? 'EQUAL' : 'SUPERSET';
  if (source.kind === 'na') {
    if (target.kind === 'na') return 'EQUAL';
    return target.kind === 'any' ? 'SUBSET' : 'DISJOINT';
  }
  if (target.kind === 'any') return 'SUBSET';
  if (target.kind === 'na') return 'DISJOINT';
  const sourceWild = source.prefix !== '' || source.suffix !== '';
  if (!sourceWild) return source.text.toLowerCase() === target.text.toLowerCase() ? 'EQUAL' : 'DISJOINT';
  return wildcardMatches(source, target.text) ? 'SUPERSET' : 'DISJOINT';
}

export type WfnRelations = Record<WfnAttribute, Relation>;

function valueOf(w: Wfn, a: WfnAttribute): CpeValue {
  return a === 'part' ? partValue(w.part) : w[a];
}

/** Attribute-wise relations of source to target. */
export function compareWfns(source: Wfn, target: Wfn): WfnRelations {
  const out = {} as WfnRelations;
  for (const a of WFN_ATTRIBUTES) out[a] = compareValues(valueOf(source, a), valueOf(target, a));
  return out;
}

/** CPE_DISJOINT: some attribute is DISJOINT. */
export function isDisjoint(source: Wfn, target: Wfn): boolean {
  return WFN_ATTRIBUTES.some((a) => compareValues(valueOf(source, a), valueOf(target, a)) === 'DISJOINT');
}
/** CPE_EQUAL: every attribute EQUAL. */
export function isEqual(source: Wfn, target: Wfn): boolean {
  return WFN_ATTRIBUTES.every((a) => compareValues(valueOf(source, a), valueOf(target, a)) === 'EQUAL');
}
/** CPE_SUBSET: every attribute SUBSET or EQUAL. */
export function isSubset(source: Wfn, target: Wfn): boolean {
  return WFN_ATTRIBUTES.every((a) => {
    const r = compareValues(valueOf(source, a), valueOf(target, a));
    return r === 'SUBSET' || r === 'EQUAL';
  });
}
/** CPE_SUPERSET: every attribute SUPERSET or EQUAL (the usual "source name matches target name"). */
export function isSuperset(source: Wfn, target: Wfn): boolean {
  return WFN_ATTRIBUTES.every((a) => {
    const r = compareValues(valueOf(source, a), valueOf(target, a));
    return r === 'SUPERSET' || r === 'EQUAL';
  });
}

/**
 * Name-level relation: DISJOINT if any attribute is, EQUAL if all are, SUPERSET / SUBSET when every attribute is
 * that or EQUAL, otherwise UNDEFINED (mixed relations or a wildcard in the target).
 */
export function compareNames(source: Wfn, target: Wfn): Relation {
  const rel = compareWfns(source, target);
  const vals = WFN_ATTRIBUTES.map((a) => rel[a]);
  if (vals.includes('DISJOINT')) return 'DISJOINT';
  if (vals.every((r) => r === 'EQUAL')) return 'EQUAL';
  if (vals.every((r) => r === 'SUPERSET' || r === 'EQUAL')) return 'SUPERSET';
  if (vals.every((r) => r === 'SUBSET' || r === 'EQUAL')) return 'SUBSET';
  return 'UNDEFINED';
}
