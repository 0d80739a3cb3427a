/** SSDP / UPnP discovery (HTTP over UDP, port 1900). */

export type SsdpKind = 'msearch' | 'notify' | 'response' | 'other';

export interface SsdpMessage {
  kind: SsdpKind;
  /** Request method (M-SEARCH, NOTIFY, …) or null for a response. */
  method: string | null;
  /** Response status code or null for a request. */
  status: number | null;
  server: string | null;
  usn: string | null;
  nt: string | null;
  /** ssdp:alive, ssdp:byebye, ssdp:update. */
  nts: string | null;
  st: string | null;
  location: string | null;
  userAgent: string | null;
  /** MAN header of M-SEARCH ("ssdp:discover"). */
  man: string | null;
  cacheControl: string | null;
  /** Every header (lower-cased names), capped. */
  headers: { name: string; value: string }[];
}
