import type { CaptureFrame, CaptureRecord } from '../capture/types.js';

export type PcapRecord = CaptureRecord;

/** The 24-byte classic pcap global header. */
export interface PcapHeader {
  /** True when the file was written little-endian (magic read as d4 c3 b2 a1 / 4d 3c b2 a1). */
  littleEndian: boolean;
  /** True for the nanosecond-resolution magic a1b23c4d. */
  nanos: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  /** Link type (low 16 bits of the network field). */
  linkType: number;
  /** FCS length in bytes announced in the network field's upper bits (0 when absent). */
  fcsLen: number;
}

export interface PcapReaderOptions {
  /** Name used in error messages, e.g. the file path. */
  source?: string;
  /**
   * Resume mid-file from a checkpoint: the header read before and the absolute offset the first pushed
   * chunk starts at (a value of `reader.offset` taken between records).
   */
  resume?: { header: PcapHeader; offset: number };
  /** The object nextFrame() fills (CaptureReader shares its own); a new one by default. */
  frame?: CaptureFrame;
}
