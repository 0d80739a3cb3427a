/** DHCP / BOOTP message model (RFC 2131, RFC 2132, RFC 4702 for option 81). */

export const DhcpMessageType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;

export const DHCP_MESSAGE_TYPE_NAMES: Record<number, string> = {
  1: 'DISCOVER',
  2: 'OFFER',
  3: 'REQUEST',
  4: 'DECLINE',
  5: 'ACK',
  6: 'NAK',
  7: 'RELEASE',
  8: 'INFORM',
  9: 'FORCERENEW',
  10: 'LEASEQUERY',
  11: 'LEASEUNASSIGNED',
  12: 'LEASEUNKNOWN',
  13: 'LEASEACTIVE',
};

export interface DhcpFqdn {
  flags: number;
  /** The domain name (DNS wire format decoded when the E flag is set, else ASCII). */
  name: string;
}

export interface DhcpMessage {
  /** 1 = BOOTREQUEST (client), 2 = BOOTREPLY (server). */
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  broadcast: boolean;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** Client hardware address: "aa:bb:…" of the first hlen bytes (max 16). */
  chaddr: string;
  /** False when the magic cookie is absent (plain BOOTP; no options decoded). */
  hasOptions: boolean;
  /** Option 53, or null. */
  messageType: number | null;
  /** Option 12. */
  hostname: string | null;
  /** Option 50. */
  requestedIp: string | null;
  /** Option 54. */
  serverId: string | null;
  /** Option 51, seconds. */
  leaseTime: number | null;
  /** Option 15. */
  domainName: string | null;
  /** Option 55 codes in wire order. */
  paramRequestList: number[];
  /** Option 55 as "1,3,6,15,…" (the classic DHCP fingerprint), or null when absent. */
  fingerprint: string | null;
  /** Option 60. */
  vendorClass: string | null;
  /** Option 61: type byte and the rest as colon hex. */
  clientId: { type: number; value: string } | null;
  /** Option 81. */
  fqdn: DhcpFqdn | null;
  /** Option 56. */
  message: string | null;
  /** Every option code in wire order (pad and end excluded). */
  optionCodes: number[];
}
