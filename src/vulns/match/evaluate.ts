/**
 * Exact, three-valued applicability of NVD configurations to one device described by CPE names.
 *
 * Values: 2 = true, 1 = possible (cannot be decided from what we know about the device), 0 = false.
 * OR = max, AND = min, NOT = 2 − x (so negating "possible" stays "possible").
 *
 * A criterion (cpeMatch) is tested against every device CPE and takes the best result:
 * - part, vendor, product: NISTIR 7696 attribute comparison after vendor alias canonicalisation on both sides.
 *   Device CPEs whose vendor or product is ANY, NA or a wildcard are refused (CPE_TOO_BROAD).
 * - version (criterion C, device D, range R from versionStart/End*):
 *   - C is ANY: no R → true; R and a concrete D → the range decides (version.ts); D ANY/NA/wildcard → possible.
 *   - C is NA (`-`): D NA → true; for `h:` criteria NVD uses `-` for "the platform, any revision", so any D → true;
 *     for `o:`/`a:` criteria D ANY or a concrete D → possible (strict NISTIR 7696 would say DISJOINT for a concrete
 *     D, but NVD writes `-` for "all versions" of end-of-life firmware, e.g. CVE-2021-45382).
 *   - C is a literal: D ANY or wildcard → possible; D NA → false; otherwise NISTIR 7696 string match, or equal
 *     under compareVersions (`1.03.07` = `1.3.7`); a range given alongside must hold too.
 * - update, edition, language, sw_edition, target_sw, target_hw, other: EQUAL/SUPERSET → true, SUBSET (device ANY)
 *   or UNDEFINED (device wildcard) → possible, DISJOINT → false.
 * - when the device has no CPE of the criterion's part at all (e.g. no `h:` name), the criterion is "absent":
 *   possible, but a configuration that is only possible through absent criteria (no criterion of it tested
 *   against a real device CPE came out true or possible) is false.
 *
 * Nodes combine their cpeMatch with the node operator, then apply `negate`; configurations combine nodes with the
 * configuration operator (AND for running-on/with, OR when absent). A configuration makes the CVE apply with
 * value min(configuration, best vulnerable:true criterion outside negated nodes). The CVE's value is the best
 * configuration's.
 */
import { CpeError, WFN_ATTRIBUTES } from '../cpe/types.js';
import type { CpeValue, Wfn, WfnValueAttribute } from '../cpe/types.js';
import { formatCpe, parseCpe } from '../cpe/fs.js';
import { compareValues, wildcardMatches } from '../cpe/compare.js';
import { compareTokens, tokenizeVersion } from '../version.js';
import type { VersionToken } from '../version.js';
import type { CpeMatch, CveRecord } from '../nvd/types.js';
import { canonicalVendor } from './alias.js';

export type Tri = 0 | 1 | 2;
export type Applicability = true | false | 'possible';

export function triToApplicability(t: Tri): Applicability {
  return t === 2 ? true : t === 1 ? 'possible' : false;
}

const OTHER_ATTRS: readonly WfnValueAttribute[] = WFN_ATTRIBUTES.slice(4) as WfnValueAttribute[];

// ---------------------------------------------------------------------------------------------------------------
// Device

export interface DeviceCpe {
  readonly cpe: string;
  readonly wfn: Wfn;
  /** 'a' | 'o' | 'h' | null (part ANY) */
  readonly part: string | null;
  readonly vendor: string;
  readonly product: string;
  readonly versionTokens: VersionToken[] | null;
}

export interface PreparedDevice {
  readonly cpes: readonly DeviceCpe[];
  /** Parts present ('*' when some CPE has part ANY). */
  readonly parts: ReadonlySet<string>;
}

function plainLower(v: CpeValue): string | null {
  return v.kind === 'value' && v.prefix === '' && v.suffix === '' ? v.text.toLowerCase() : null;
}

/** Parses and checks a device's CPE names. Throws CpeError CPE_INVALID / CPE_TOO_BROAD. */
export function prepareDevice(cpes: readonly string[]): PreparedDevice {
  if (cpes.length === 0) throw new CpeError('CPE_TOO_BROAD', 'a device needs at least one CPE name', '');
  const out: DeviceCpe[] = [];
  const parts = new Set<string>();
  for (const cpe of cpes) {
    const wfn = parseCpe(cpe);
    const vendor = plainLower(wfn.vendor);
    const product = plainLower(wfn.product);
    if (vendor === null || product === null) {
      throw new CpeError(
        'CPE_TOO_BROAD',
        `device CPE must name a concrete vendor and product (${vendor === null ? 'vendor' : 'product'} is ANY, NA or a wildcard)`,
        cpe,
      );
    }
    const part = typeof wfn.part === 'string' ? wfn.part : null;
    if (typeof wfn.part !== 'string' && wfn.part.kind === 'na') {
      throw new CpeError('CPE_TOO_BROAD', 'device CPE part must be a, o, h or ANY', cpe);
    }
    parts.add(part ?? '*');
    const v = plainLower(wfn.version);
    out.push({
      cpe,
      wfn,
      part,
      vendor: canonicalVendor(vendor),
      product,
      versionTokens: v === null ? null : tokenizeVersion(v),
    });
  }
  return { cpes: out, parts };
}

// ---------------------------------------------------------------------------------------------------------------
// Compiled criteria

export interface CompiledCriterion {
  readonly match: CpeMatch;
  readonly wfn: Wfn;
  readonly part: string | null;
  /** Canonical vendor, or null when the criterion's vendor is not a plain literal. */
  readonly vendor: string | null;
  /** Lowercase product, or null when not a plain literal. */
  readonly product: string | null;
  readonly hasRange: boolean;
  readonly startIncl: VersionToken[] | null;
  readonly startExcl: VersionToken[] | null;
  readonly endIncl: VersionToken[] | null;
  readonly endExcl: VersionToken[] | null;
  /** Whether every attribute after version is ANY (the common case: skip their comparison). */
  readonly restAny: boolean;
  readonly versionTokens: VersionToken[] | null;
}

export interface CompiledNode {
  readonly operator: 'AND' | 'OR';
  readonly negate: boolean;
  readonly criteria: CompiledCriterion[];
}
export interface CompiledConfiguration {
  readonly operator: 'AND' | 'OR';
  readonly negate: boolean;
  readonly nodes: CompiledNode[];
}
export interface CompiledCve {
  readonly record: CveRecord;
  readonly configurations: CompiledConfiguration[];
}

/** Shared parse results while compiling many records (NVD repeats the same criteria and bounds a lot). */
export interface CompileCache {
  wfn: Map<string, Wfn>;
  tokens: Map<string, VersionToken[]>;
}
export function newCompileCache(): CompileCache {
  return { wfn: new Map(), tokens: new Map() };
}

export function compileCriterion(m: CpeMatch, cache: CompileCache = newCompileCache()): CompiledCriterion {
  let wfn = cache.wfn.get(m.criteria);
  if (wfn === undefined) {
    wfn = parseCpe(m.criteria);
    cache.wfn.set(m.criteria, wfn);
  }
  const tok = (s: string | undefined | null): VersionToken[] | null => {
    if (s === undefined || s === null) return null;
    let t = cache.tokens.get(s);
    if (t === undefined) {
      t = tokenizeVersion(s);
      cache.tokens.set(s, t);
    }
    return t;
  };
  const vendor = plainLower(wfn.vendor);
  const v = plainLower(wfn.version);
  return {
    match: m,
    wfn,
    part: typeof wfn.part === 'string' ? wfn.part : null,
    vendor: vendor === null ? null : canonicalVendor(vendor),
    product: plainLower(wfn.product),
    hasRange:
      m.versionStartIncluding !== undefined ||
      m.versionStartExcluding !== undefined ||
      m.versionEndIncluding !== undefined ||
      m.versionEndExcluding !== undefined,
    startIncl: tok(m.versionStartIncluding),
    startExcl: tok(m.versionStartExcluding),
    endIncl: tok(m.versionEndIncluding),
    endExcl: tok(m.versionEndExcluding),
    restAny: OTHER_ATTRS.every((a) => wfn[a].kind === 'any'),
    versionTokens: tok(v),
  };
}

export function compileCve(record: CveRecord, cache: CompileCache = newCompileCache()): CompiledCve {
  return {
    record,
    configurations: record.configurations.map((c) => ({
      operator: c.operator,
      negate: c.negate,
      nodes: c.nodes.map((n) => ({
        operator: n.operator,
        negate: n.negate,
        criteria: n.cpeMatch.map((m) => compileCriterion(m, cache)),
      })),
    })),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Criterion × device CPE

interface Verdict {
  value: Tri;
  reason: string | null;
}
const FALSE: Verdict = { value: 0, reason: null };
const TRUE: Verdict = { value: 2, reason: null };

function inRangeTokens(v: VersionToken[], c: CompiledCriterion): boolean {
  if (c.startIncl && compareTokens(v, c.startIncl) < 0) return false;
  if (c.startExcl && compareTokens(v, c.startExcl) <= 0) return false;
  if (c.endIncl && compareTokens(v, c.endIncl) > 0) return false;
  if (c.endExcl && compareTokens(v, c.endExcl) >= 0) return false;
  return true;
}

function versionVerdict(c: CompiledCriterion, d: DeviceCpe): Verdict {
  const cv = c.wfn.version;
  const dv = d.wfn.version;
  const dConcrete = d.versionTokens !== null;
  if (cv.kind === 'any') {
    if (!c.hasRange) return TRUE;
    if (dConcrete) return inRangeTokens(d.versionTokens as VersionToken[], c) ? TRUE : FALSE;
    return { value: 1, reason: 'device version unknown; criterion has a version range' };
  }
  if (cv.kind === 'na') {
    if (dv.kind === 'na') return TRUE;
    if (c.part === 'h') return TRUE;
    return { value: 1, reason: 'criterion version is "-" (NA: NVD lists no versions)' };
  }
  if (dv.kind === 'any' || (dv.kind === 'value' && !dConcrete)) {
    return { value: 1, reason: 'device version unknown; criterion names a version' };
  }
  if (dv.kind === 'na') return FALSE;
  const rel = compareValues(cv, dv);
  let ok = rel === 'EQUAL' || rel === 'SUPERSET';
  if (!ok && c.versionTokens !== null) {
    ok = compareTokens(c.versionTokens, d.versionTokens as VersionToken[]) === 0;
  }
  if (!ok) return FALSE;
  if (c.hasRange && !inRangeTokens(d.versionTokens as VersionToken[], c)) return FALSE;
  return TRUE;
}

/** Tests one criterion against one device CPE. */
export function criterionVerdict(c: CompiledCriterion, d: DeviceCpe): Verdict {
  if (c.part !== null && d.part !== null && c.part !== d.part) return FALSE;
  if (typeof c.wfn.part !== 'string' && c.wfn.part.kind === 'na') return FALSE;
  // vendor
  if (c.vendor !== null) {
    if (c.vendor !== d.vendor) return FALSE;
  } else {
    const cv = c.wfn.vendor;
    if (cv.kind === 'na') return FALSE;
    if (cv.kind === 'value') {
      const raw = plainLower(d.wfn.vendor) ?? d.vendor;
      if (!wildcardMatches(cv, raw) && !wildcardMatches(cv, d.vendor)) return FALSE;
    }
  }
  // product
  if (c.product !== null) {
    if (c.product !== d.product) return FALSE;
  } else {
    const cp = c.wfn.product;
    if (cp.kind === 'na') return FALSE;
    if (cp.kind === 'value' && !wildcardMatches(cp, d.product)) return FALSE;
  }
  let best = versionVerdict(c, d);
  if (best.value === 0) return FALSE;
  if (!c.restAny) {
    for (const a of OTHER_ATTRS) {
      const r = compareValues(c.wfn[a], d.wfn[a]);
      if (r === 'DISJOINT') return FALSE;
      if ((r === 'SUBSET' || r === 'UNDEFINED') && best.value === 2) {
        best = { value: 1, reason: `device ${a} unknown; criterion names one` };
      }
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------------------
// CVE evaluation

export interface CriterionPath {
  configuration: number;
  node: number;
  match: number;
}

export interface CriterionMatch {
  criteria: string;
  matchCriteriaId: string | null;
  vulnerable: boolean;
  versionStartIncluding?: string;
  versionStartExcluding?: string;
  versionEndIncluding?: string;
  versionEndExcluding?: string;
  /** The device CPE that matched; null when the device has no CPE of that part ("absent"). */
  deviceCpe: string | null;
  result: true | 'possible';
  /** Why the result is only possible. */
  reason: string | null;
  path: CriterionPath;
  /** e.g. "configurations[0].nodes[1].cpeMatch[0]" */
  pathString: string;
}

export interface CveEvaluation {
  cveId: string;
  applies: Applicability;
  /** Indices of configurations that produce `applies`. */
  configurations: number[];
  /** Criteria that matched (true or possible) in those configurations, outside negated nodes. */
  matched: CriterionMatch[];
}

interface CriterionEval {
  value: Tri;
  grounded: boolean;
  deviceCpe: string | null;
  reason: string | null;
}

function evalCriterion(c: CompiledCriterion, device: PreparedDevice): CriterionEval {
  let best: CriterionEval = { value: 0, grounded: false, deviceCpe: null, reason: null };
  let tested = false;
  for (const d of device.cpes) {
    if (c.part !== null && d.part !== null && c.part !== d.part) continue;
    tested = true;
    const v = criterionVerdict(c, d);
    if (v.value > best.value) {
      best = { value: v.value, grounded: true, deviceCpe: d.cpe, reason: v.reason };
      if (v.value === 2) break;
    }
  }
  if (!tested) {
    return {
      value: 1,
      grounded: false,
      deviceCpe: null,
      reason: `device has no "${c.part ?? '*'}" CPE to test this criterion against`,
    };
  }
  return best;
}

/** Evaluates one (compiled) CVE against a prepared device. */
export function evaluateCompiled(cve: CompiledCve, device: PreparedDevice): CveEvaluation {
  let bestValue: Tri = 0;
  let bestConfigs: number[] = [];
  let bestMatched: CriterionMatch[] = [];
  cve.configurations.forEach((cfg, ci) => {
    const isAnd = cfg.operator === 'AND';
    let cfgValue: Tri = isAnd ? 2 : 0;
    let vulnBest: Tri = 0;
    let grounded = false;
    const matched: CriterionMatch[] = [];
    cfg.nodes.forEach((node, ni) => {
      const nodeAnd = node.operator === 'AND';
      let nv: Tri = nodeAnd ? 2 : 0;
      const nodeMatched: CriterionMatch[] = [];
      let nodeVuln: Tri = 0;
      node.criteria.forEach((c, mi) => {
        const e = evalCriterion(c, device);
        nv = (nodeAnd ? Math.min(nv, e.value) : Math.max(nv, e.value)) as Tri;
        if (e.value > 0) {
          if (e.grounded) grounded = true;
          if (c.match.vulnerable) nodeVuln = Math.max(nodeVuln, e.value) as Tri;
          const m = c.match;
          nodeMatched.push({
            criteria: m.criteria,
            matchCriteriaId: m.matchCriteriaId ?? null,
            vulnerable: m.vulnerable,
            ...(m.versionStartIncluding !== undefined && { versionStartIncluding: m.versionStartIncluding }),
            ...(m.versionStartExcluding !== undefined && { versionStartExcluding: m.versionStartExcluding }),
            ...(m.versionEndIncluding !== undefined && { versionEndIncluding: m.versionEndIncluding }),
            ...(m.versionEndExcluding !== undefined && { versionEndExcluding: m.versionEndExcluding }),
            deviceCpe: e.deviceCpe,
            result: e.value === 2 ? true : 'possible',
            reason: e.reason,
            path: { configuration: ci, node: ni, match: mi },
            pathString: `configurations[${ci}].nodes[${ni}].cpeMatch[${mi}]`,
          });
        }
      });
      if (node.negate) nv = (2 - nv) as Tri;
      else {
        vulnBest = Math.max(vulnBest, nodeVuln) as Tri;
        matched.push(...nodeMatched);
      }
      cfgValue = (isAnd ? Math.min(cfgValue, nv) : Math.max(cfgValue, nv)) as Tri;
    });
    if (cfg.nodes.length === 0) cfgValue = 0;
    if (cfg.negate) cfgValue = (2 - cfgValue) as Tri;
    let value = Math.min(cfgValue, vulnBest) as Tri;
    if (value === 1 && !grounded) value = 0;
    if (value === 0) return;
    if (value > bestValue) {
      bestValue = value;
      bestConfigs = [ci];
      bestMatched = matched;
    } else if (value === bestValue) {
      bestConfigs.push(ci);
      bestMatched.push(...matched);
    }
  });
  return {
    cveId: cve.record.id,
    applies: triToApplicability(bestValue),
    configurations: bestConfigs,
    matched: bestValue === 0 ? [] : bestMatched,
  };
}

/** Convenience: evaluates a CVE record against device CPE strings (compiles both; use CveIndex for many). */
export function evaluateCve(record: CveRecord, device: PreparedDevice | readonly string[]): CveEvaluation {
  const d = isPrepared(device) ? device : prepareDevice(device);
  return evaluateCompiled(compileCve(record), d);
}

export function isPrepared(d: PreparedDevice | readonly string[]): d is PreparedDevice {
  return !Array.isArray(d) && typeof d === 'object' && 'cpes' in d;
}

/** Canonical formatted string of a device CPE (for display). */
export function deviceCpeString(d: DeviceCpe): string {
  return formatCpe(d.wfn);
}
