/** TLS ClientHello / ServerHello model (RFC 8446, RFC 5246) and the JA3 / JA4 fingerprints derived from it. */

export const TlsExtension = {
  SERVER_NAME: 0x0000,
  SUPPORTED_GROUPS: 0x000a,
  EC_POINT_FORMATS: 0x000b,
  SIGNATURE_ALGORITHMS: 0x000d,
  ALPN: 0x0010,
  SUPPORTED_VERSIONS: 0x002b,
} as const;

export interface TlsClientHello {
  /** Version of the record layer header. */
  recordVersion: number;
  /** legacy_version of the ClientHello (0x0303 for TLS 1.2 and 1.3). */
  version: number;
  /** supported_versions extension values in order (GREASE included), empty when absent. */
  supportedVersions: number[];
  sessionIdLength: number;
  cipherSuites: number[];
  compressionMethods: number[];
  /** Extension types in wire order (GREASE included). */
  extensions: number[];
  /** server_name host_name, or null. */
  sni: string | null;
  /** ALPN protocol names in order. */
  alpn: string[];
  supportedGroups: number[];
  ecPointFormats: number[];
  signatureAlgorithms: number[];
}

export interface TlsServerHello {
  recordVersion: number;
  version: number;
  /** supported_versions selected version (TLS 1.3), or null. */
  selectedVersion: number | null;
  cipherSuite: number;
  compressionMethod: number;
  extensions: number[];
  /** ALPN protocol chosen by the server, or null. */
  alpn: string | null;
}

export interface Ja3 {
  /** "771,4865-4866,0-23-65281,29-23,0" */
  string: string;
  /** MD5 hex of `string`. */
  hash: string;
}

export interface Ja4 {
  /** JA4 fingerprint "t13d1516h2_8daaf6152771_e5627efa2ab1". */
  fingerprint: string;
  /** JA4_r (raw, sorted, unhashed) form. */
  raw: string;
}
