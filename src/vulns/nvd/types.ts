/**
 * NVD CVE API 2.0 record types (the subset IoTSec reads) and the normalised record the importer yields.
 * Raw types mirror https://csrc.nist.gov/schema/nvd/api/2.0/cve_api_json_2.0.schema; fields that records converted
 * from the 1.1 feeds lack (matchCriteriaId, vulnStatus, cisa*) are optional.
 */

export interface NvdLangString {
  lang: string;
  value: string;
}

export interface NvdCvssData {
  version: string;
  vectorString: string;
  baseScore: number;
  baseSeverity?: string;
}

export interface NvdCvssMetric {
  source?: string;
  type?: 'Primary' | 'Secondary' | string;
  cvssData: NvdCvssData;
  /** V2 puts severity here, V3 inside cvssData. */
  baseSeverity?: string;
  exploitabilityScore?: number;
  impactScore?: number;
}

export interface NvdCpeMatch {
  vulnerable: boolean;
  criteria: string;
  matchCriteriaId?: string;
  versionStartIncluding?: string;
  versionStartExcluding?: string;
  versionEndIncluding?: string;
  versionEndExcluding?: string;
}

export type NvdOperator = 'AND' | 'OR';

export interface NvdNode {
  operator: NvdOperator;
  negate?: boolean;
  cpeMatch: NvdCpeMatch[];
}

export interface NvdConfiguration {
  /** Absent in API output when the configuration has a single node (then it behaves as OR). */
  operator?: NvdOperator;
  negate?: boolean;
  nodes: NvdNode[];
}

export interface NvdCve {
  id: string;
  sourceIdentifier?: string;
  published?: string;
  lastModified?: string;
  vulnStatus?: string;
  descriptions?: NvdLangString[];
  metrics?: {
    cvssMetricV40?: NvdCvssMetric[];
    cvssMetricV31?: NvdCvssMetric[];
    cvssMetricV30?: NvdCvssMetric[];
    cvssMetricV2?: NvdCvssMetric[];
  };
  weaknesses?: { source?: string; type?: string; description: NvdLangString[] }[];
  configurations?: NvdConfiguration[];
  references?: { url: string; source?: string; tags?: string[] }[];
  cisaExploitAdd?: string;
  cisaActionDue?: string;
  cisaRequiredAction?: string;
  cisaVulnerabilityName?: string;
}

/** API 2.0 page / 2.0 yearly feed envelope. */
export interface NvdEnvelope {
  resultsPerPage?: number;
  startIndex?: number;
  totalResults?: number;
  format?: string;
  version?: string;
  timestamp?: string;
  vulnerabilities: { cve: NvdCve }[];
}

export type Severity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'NONE';

export interface CvssSummary {
  /** '4.0' | '3.1' | '3.0' | '2.0' */
  version: string;
  baseScore: number;
  severity: Severity | null;
  vector: string;
  source: string | null;
}

/** A cpeMatch entry after validation (criteria known to parse as a CPE 2.3 formatted string). */
export interface CpeMatch {
  vulnerable: boolean;
  criteria: string;
  matchCriteriaId?: string;
  versionStartIncluding?: string;
  versionStartExcluding?: string;
  versionEndIncluding?: string;
  versionEndExcluding?: string;
}

export interface ConfigNode {
  operator: NvdOperator;
  negate: boolean;
  cpeMatch: CpeMatch[];
}

export interface Configuration {
  operator: NvdOperator;
  negate: boolean;
  nodes: ConfigNode[];
}

/** The normalised CVE record yielded by the importer. JSON-serialisable. */
export interface CveRecord {
  id: string;
  sourceIdentifier: string | null;
  published: string | null;
  lastModified: string | null;
  vulnStatus: string | null;
  /** English description (first 'en' entry, else the first one, else ''). */
  description: string;
  /** The preferred metric: V3.1, else V3.0, else V2 (Primary source first within each). V4.0 kept separately. */
  cvss: CvssSummary | null;
  cvssV40: CvssSummary | null;
  cvssV31: CvssSummary | null;
  cvssV30: CvssSummary | null;
  cvssV2: CvssSummary | null;
  cwes: string[];
  /** From the record's own cisa* fields (API 2.0 only); the KEV catalog is the authoritative source. */
  cisaExploitAdd: string | null;
  cisaActionDue: string | null;
  configurations: Configuration[];
  references: string[];
}
