/** NTP (RFC 5905) packet header. */

export interface NtpTimestamp {
  /** Seconds since 1900-01-01. */
  seconds: number;
  /** Fraction of a second in units of 2^-32. */
  fraction: number;
}

export interface NtpMessage {
  leapIndicator: number;
  version: number;
  /** 1 sym active, 2 sym passive, 3 client, 4 server, 5 broadcast, 6 control, 7 private. */
  mode: number;
  stratum: number;
  poll: number;
  precision: number;
  /** Reference id: 4 ASCII chars for stratum 0/1 (e.g. "GPS"), else dotted quad. */
  referenceId: string;
  referenceTime: NtpTimestamp | null;
  originTime: NtpTimestamp | null;
  receiveTime: NtpTimestamp | null;
  transmitTime: NtpTimestamp | null;
  /** Transmit timestamp as Unix microseconds (0 when the timestamp is zero), null for mode 6/7. */
  transmitUnixMicros: number | null;
}
