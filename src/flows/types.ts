/** Flow records produced by the flow table (src/flows/flow-table.ts). "Out" = originator → responder. */

export type CloseReason = 'fin' | 'rst' | 'idle' | 'active' | 'evicted' | 'end';

/** Zeek conn_state values (https://docs.zeek.org/en/master/scripts/base/protocols/conn/main.zeek.html). */
export const CONN_STATES = [
  'S0',
  'S1',
  'SF',
  'REJ',
  'S2',
  'S3',
  'RSTO',
  'RSTR',
  'RSTOS0',
  'RSTRH',
  'SH',
  'SHR',
  'OTH',
] as const;
export type ConnState = (typeof CONN_STATES)[number];

export interface FlowRecord {
  /** First and last packet time, microseconds since the Unix epoch. */
  tsStart: number;
  tsEnd: number;
  /** Originator and responder addresses as text (dotted quad / RFC 5952). */
  srcIp: string;
  dstIp: string;
  /** Ports; for ICMP/ICMPv6 the type and code/counterpart type like Zeek; null for protocols without ports. */
  srcPort: number | null;
  dstPort: number | null;
  /** IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, 132 SCTP, …). */
  proto: number;
  /** dns, mdns, dhcp, ssdp, http, tls, mqtt, ntp, ssh, telnet, ftp, … or null when unknown. */
  appProto: string | null;
  /** IP bytes (IP total length summed, like Zeek's orig_ip_bytes / resp_ip_bytes). */
  bytesOut: number;
  bytesIn: number;
  packetsOut: number;
  packetsIn: number;
  /** Application payload bytes (TCP: sequence-space span like Zeek's orig_bytes; UDP/ICMP: summed). */
  payloadBytesOut: number;
  payloadBytesIn: number;
  /** TCP flags seen per direction (bitwise OR of TcpFlag), 0 for non-TCP. */
  tcpFlagsOut: number;
  tcpFlagsIn: number;
  connState: ConnState;
  communityId: string;
  srcMac: string | null;
  dstMac: string | null;
  vlan: number | null;
  sni: string | null;
  httpHost: string | null;
  /** DNS/mDNS query names seen in the flow (bounded, first seen first). */
  dnsNames: readonly string[];
  closeReason: CloseReason;
}
