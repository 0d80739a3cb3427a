/**
 * Per-device risk score 0–100 from the device's vulnerability matches (CVSS, KEV, EPSS) and exposure flags.
 *
 * Formula (all terms in [0, 1]):
 *   severity   s_i = CVSS base score / 10 (5.0 assumed when the CVE has no CVSS)
 *   likelihood l_i = max(EPSS probability, 0.9 if KEV-listed, 1.0 if KEV with known ransomware use)
 *   threat     t_i = s_i · (0.4 + 0.6 · l_i)          — an unexploited critical still counts 40 %
 *   weight     w_i = 1 for a definite match, 0.5 for a "possible" match
 *   V = 1 − Π (1 − w_i · t_i)                         — probabilistic OR: more vulns never lower V
 *   E = 1 − Π (1 − e_f) over the exposure flags set, e_f: internet_exposed 0.5, telnet 0.3,
 *       default_credentials 0.3, cleartext_management 0.15, upnp 0.15
 *   R = 1 − (1 − V · (0.75 + 0.25 · E)) · (1 − 0.3 · E)
 *   score = round(100 · R)
 * Exposure both adds risk on its own (up to 30) and amplifies vulnerability risk (75 % → 100 % of V).
 * R is non-decreasing in every CVSS, EPSS, KEV/ransomware flag, in adding a match, in turning a possible match
 * into a definite one, and in every exposure flag (∂R/∂V = a(1−bE) ≥ 0; ∂R/∂E = 0.25V(1−bE) + b(1−aV) ≥ 0).
 */

export interface RiskVuln {
  /** CVSS base score 0–10 (v3.x preferred, else v2); null when unknown. */
  cvss: number | null;
  kev: boolean;
  /** KEV knownRansomwareCampaignUse = Known. */
  ransomware?: boolean;
  /** EPSS probability 0–1; null when unknown. */
  epss: number | null;
  /** The match is only "possible". */
  possible?: boolean;
}

export interface ExposureFlags {
  internetExposed?: boolean;
  telnet?: boolean;
  defaultCredentials?: boolean;
  cleartextManagement?: boolean;
  upnp?: boolean;
}

export const EXPOSURE_WEIGHTS: Readonly<Record<keyof ExposureFlags, number>> = {
  internetExposed: 0.5,
  telnet: 0.3,
  defaultCredentials: 0.3,
  cleartextManagement: 0.15,
  upnp: 0.15,
};

export interface RiskScore {
  /** 0–100 integer. */
  score: number;
  /** V in [0,1]. */
  vulnerability: number;
  /** E in [0,1]. */
  exposure: number;
}

const clamp01 = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);

export function vulnThreat(v: RiskVuln): number {
  const s = v.cvss === null ? 0.5 : clamp01(v.cvss / 10);
  const l = Math.max(v.epss === null ? 0 : clamp01(v.epss), v.kev ? 0.9 : 0, v.kev && v.ransomware ? 1 : 0);
  return s * (0.4 + 0.6 * l) * (v.possible ? 0.5 : 1);
}

export function deviceRisk(vulns: readonly RiskVuln[], exposure: ExposureFlags = {}): RiskScore {
  let keepV = 1;
  for (const v of vulns) keepV *= 1 - vulnThreat(v);
  const V = 1 - keepV;
  let keepE = 1;
  for (const k of Object.keys(EXPOSURE_WEIGHTS) as (keyof ExposureFlags)[]) {
    if (exposure[k]) keepE *= 1 - EXPOSURE_WEIGHTS[k];
  }
  const E = 1 - keepE;
  const R = 1 - (1 - V * (0.75 + 0.25 * E)) * (1 - 0.3 * E);
  return { score: Math.round(100 * clamp01(R)), vulnerability: V, exposure: E };
}
