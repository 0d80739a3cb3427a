/** DNS / mDNS message model (RFC 1035, RFC 6762). Names are dotted text without the trailing dot,
 * lower-cased (DNS names are case-insensitive; Zeek does the same), non-printable bytes escaped as \xHH. */

export const DnsType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  ANY: 255,
} as const;

export const DnsRcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;

export interface DnsQuestion {
  name: string;
  type: number;
  /** Class with the mDNS unicast-response bit removed (when decoded as mDNS). */
  class: number;
  /** mDNS "QU" bit (top bit of qclass); always false for unicast DNS. */
  unicastResponse: boolean;
}

export type DnsRData =
  | { kind: 'a'; address: string }
  | { kind: 'aaaa'; address: string }
  /** CNAME, PTR, NS: a single domain name. */
  | { kind: 'name'; name: string }
  | { kind: 'srv'; priority: number; weight: number; port: number; target: string }
  | { kind: 'txt'; strings: string[] }
  /** Any other type: kept only as its length (type number is on the record). */
  | { kind: 'other'; length: number };

export type DnsSection = 'answer' | 'authority' | 'additional';

export interface DnsRecord {
  section: DnsSection;
  name: string;
  type: number;
  /** Class with the mDNS cache-flush bit removed (when decoded as mDNS). */
  class: number;
  /** mDNS cache-flush bit (top bit of rrclass); always false for unicast DNS. */
  cacheFlush: boolean;
  ttl: number;
  data: DnsRData;
}

export interface DnsMessage {
  id: number;
  /** QR flag: true for a response. */
  isResponse: boolean;
  opcode: number;
  authoritative: boolean;
  truncated: boolean;
  recursionDesired: boolean;
  recursionAvailable: boolean;
  /** The three Z bits (includes AD/CD), as Zeek's `Z` column. */
  z: number;
  rcode: number;
  questions: DnsQuestion[];
  /** Answer, authority and additional records, in wire order, each tagged with its section. */
  records: DnsRecord[];
  /** Header counts as sent (may exceed what was decoded when a cap was hit). */
  counts: { qd: number; an: number; ns: number; ar: number };
}

export interface DnsDecodeOptions {
  /** Treat the top class bit as mDNS unicast-response (questions) / cache-flush (records). */
  mdns?: boolean;
  /** The payload is DNS over TCP: a 2-byte length prefix comes first. */
  tcp?: boolean;
}
