import type { CaptureRecord } from '../capture/types.js';

export type PcapngRecord = CaptureRecord;

/** Block type numbers (pcapng spec, draft-ietf-opsawg-pcapng). */
export const BlockType = {
  SHB: 0x0a0d0d0a,
  IDB: 0x00000001,
  OPB: 0x00000002, // obsolete Packet Block
  SPB: 0x00000003,
  NRB: 0x00000004,
  ISB: 0x00000005,
  EPB: 0x00000006,
} as const;

export interface PcapngSection {
  /** 0-based index of the section in the stream. */
  index: number;
  littleEndian: boolean;
  versionMajor: number;
  versionMinor: number;
  /** Section length in bytes, -1 when not specified. */
  sectionLength: number;
  /** Absolute offset of the SHB. */
  offset: number;
}

export interface PcapngInterface {
  linkType: number;
  snaplen: number;
  /** if_tsresol: units per second are base^exp (10^6 by default). */
  tsresolBase: 10 | 2;
  tsresolExp: number;
  /** if_tsoffset: seconds added to every timestamp. */
  tsOffsetSec: number;
  /** if_fcslen when given, else -1. */
  fcsLen: number;
  /** if_name when given. */
  name: string | null;
}

/** One NRB record: an address (dotted IPv4 / RFC 5952 IPv6) and its names. */
export interface NameRecord {
  ip: string;
  names: string[];
}

export interface PcapngReaderOptions {
  /** Name used in error messages, e.g. the file path. */
  source?: string;
  /** Largest block accepted (bytes); bigger → DecodeError('limit'). Default 16 MiB. */
  maxBlockLength?: number;
  /** NRB records kept at most (further ones are counted in namesDropped). Default 100 000. */
  maxNameRecords?: number;
}
