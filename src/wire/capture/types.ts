import { AS_DOUBLE } from '../packet/types.js';

/** One captured frame as produced by every capture-file reader (pcap, pcapng). */
export interface CaptureRecord {
  /** Link-layer type (LINKTYPE_* number) of this record's interface. */
  linkType: number;
  /** Capture timestamp, microseconds since the Unix epoch. */
  tsMicros: number;
  /** Bytes captured (data.length) and bytes on the wire. */
  capLen: number;
  wireLen: number;
  /** The frame bytes: a view into the pushed chunk (no copy unless the record straddled two chunks). */
  data: Uint8Array;
  /** Absolute byte offset of the record (pcap record header / pcapng block) in the stream. */
  offset: number;
  /** Interface index (pcapng interface id within its section); 0 for pcap. */
  iface: number;
}

/**
 * The current frame of a reader after nextFrame() returned true, without a record object or a subarray per
 * frame (the hot path of capture ingest): the frame is `buf[start, end)`, a view of a pushed chunk (or of a
 * copy when it straddled chunks). Every field is overwritten by the next nextFrame() call.
 */
export class CaptureFrame {
  buf: Uint8Array = new Uint8Array(0);
  start = 0;
  end = 0;
  linkType = 0;
  /** Capture timestamp, microseconds since the Unix epoch (a double from the start: see AS_DOUBLE). */
  tsMicros = AS_DOUBLE;
  wireLen = 0;
  /** Absolute byte offset of the record in the stream. */
  offset = 0;
  iface = 0;

  constructor() {
    this.tsMicros = 0;
  }
}

export type CaptureFormat = 'pcap' | 'pcapng';

/** The streaming API shared by PcapReader, PcapngReader and CaptureReader. */
export interface RecordReader {
  /** Give the reader the next chunk of the stream. The chunk must not be modified afterwards. */
  push(chunk: Uint8Array): void;
  /** Mark the end of the stream: a partial record left over is then reported by next(). */
  end(): void;
  /**
   * The next complete record, or null when more bytes are needed (or the stream is finished).
   * Throws DecodeError on a corrupt stream (and at end() when the stream stops mid-record).
   */
  next(): CaptureRecord | null;
  /** Absolute offset of the first byte not yet consumed (a safe checkpoint between records). */
  readonly offset: number;
}
