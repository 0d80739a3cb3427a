/**
 * Streaming line splitter shared by the text-log sources (Zeek TSV/JSON, Suricata EVE). Memory is bounded by
 * one line (capped, default 1 MiB) plus the chunk being scanned: a longer line is skipped up to its newline and
 * counted, never buffered. Offsets are absolute byte offsets, for checkpoints.
 */
import { createReadStream } from 'node:fs';
import type { SourceItem, SourceStats } from '../types.js';
import { countError, emptyStats } from '../types.js';

/** Anything a log source can read from: a file path, a Node readable stream, or any async iterable of chunks. */
export type LogInput = string | AsyncIterable<Uint8Array | string>;

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
/** Line errors kept in LogReadState.lineErrors (all of them are counted in stats.errors). */
export const MAX_KEPT_LINE_ERRORS = 100;

/** One problem with one input line: the line is skipped, reading goes on. */
export interface LineError {
  /** 1-based line number (relative to the start offset when resuming). */
  line: number;
  /** Byte offset of the start of the line. */
  offset: number;
  /** Error kind counted in SourceStats.errors. */
  kind: string;
  message: string;
}

/** Progress of a log reader, readable at any time while iterating. */
export interface LogReadState {
  stats: SourceStats;
  /**
   * Checkpoint: absolute byte offset just after the last line that is fully processed. It moves past a line
   * right before that line's last item is yielded (or when the line yields nothing), so a consumer holding the
   * last item of a line may commit this offset together with everything received so far.
   */
  offset: number;
  /** Lines read (including headers, comments and bad lines). */
  lines: number;
  /** Valid records of a kind the source does not turn into items (other Zeek logs, EVE stats …). */
  skipped: number;
  /** The first MAX_KEPT_LINE_ERRORS line errors (every error is counted in stats.errors). */
  lineErrors: LineError[];
}

export function newLogReadState(startOffset = 0): LogReadState {
  return { stats: emptyStats(), offset: startOffset, lines: 0, skipped: 0, lineErrors: [] };
}

export function recordLineError(state: LogReadState, err: LineError, onError?: (e: LineError) => void): void {
  countError(state.stats, err.kind);
  if (state.lineErrors.length < MAX_KEPT_LINE_ERRORS) state.lineErrors.push(err);
  onError?.(err);
}

export interface RawLine {
  /** The line without its terminator (LF or CRLF), decoded as UTF-8 (invalid bytes replaced). */
  text: string;
  /** 1-based line number. */
  lineNo: number;
  /** Absolute offset of the first byte of the line. */
  start: number;
  /** Absolute offset just after the line terminator (or the end of input for a last line without one). */
  end: number;
}

export interface SplitOptions {
  /** Absolute offset of the first byte of the input (when resuming from a checkpoint). Default 0. */
  startOffset?: number;
  maxLineBytes?: number;
  /** Called for a line over the cap (it is skipped); `end` is the offset just after it. */
  onTooLong?: (lineNo: number, start: number, end: number) => void;
}

function toStream(input: LogInput, startOffset: number): AsyncIterable<Uint8Array | string> {
  if (typeof input === 'string') return createReadStream(input, { start: startOffset });
  return input;
}

/** Splits a byte stream into lines. Counts bytes into `stats.bytes`. */
export async function* splitLines(
  input: LogInput,
  stats: SourceStats,
  opts: SplitOptions = {},
): AsyncGenerator<RawLine> {
  const max = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let pos = opts.startOffset ?? 0;
  let lineStart = pos;
  let lineNo = 0;
  let parts: Buffer[] = [];
  let partLen = 0;
  let discarding = false;
  const decode = (last: Buffer | null): string => {
    let buf: Buffer;
    if (parts.length === 0) buf = last ?? Buffer.alloc(0);
    else buf = Buffer.concat(last ? [...parts, last] : parts, partLen + (last ? last.length : 0));
    let n = buf.length;
    if (n > 0 && buf[n - 1] === 0x0d) n--;
    return buf.toString('utf8', 0, n);
  };
  for await (const raw of toStream(input, pos)) {
    const chunk =
      typeof raw === 'string'
        ? Buffer.from(raw, 'utf8')
        : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    stats.bytes += chunk.length;
    let i = 0;
    while (i < chunk.length) {
      const nl = chunk.indexOf(0x0a, i);
      const stop = nl < 0 ? chunk.length : nl;
      const pieceLen = stop - i;
      if (!discarding && partLen + pieceLen > max) {
        discarding = true;
        parts = [];
      }
      if (discarding) partLen += pieceLen;
      else if (nl >= 0) {
        // whole line available: decode without copying when nothing is buffered
      } else {
        parts.push(Buffer.from(chunk.subarray(i, stop)));
        partLen += pieceLen;
      }
      if (nl < 0) {
        pos += pieceLen;
        break;
      }
      lineNo++;
      const end = pos + pieceLen + 1;
      if (discarding) {
        opts.onTooLong?.(lineNo, lineStart, end);
      } else {
        const text = decode(chunk.subarray(i, stop));
        yield { text, lineNo, start: lineStart, end };
      }
      parts = [];
      partLen = 0;
      discarding = false;
      pos = end;
      lineStart = end;
      i = nl + 1;
    }
  }
  if (discarding) {
    opts.onTooLong?.(lineNo + 1, lineStart, pos);
  } else if (partLen > 0) {
    yield { text: decode(null), lineNo: lineNo + 1, start: lineStart, end: pos };
  }
}

/** Options every line-based log reader takes (Zeek, Suricata EVE). */
export interface LogReadOptions {
  /** Name used in error messages (default: the path, or "stream"). */
  source?: string;
  /** Resume at this byte offset (a checkpoint). */
  startOffset?: number;
  /** Longer lines are skipped and counted as "line_too_long". Default 1 MiB. */
  maxLineBytes?: number;
  /** Community ID seed used when a record has no community_id. Default 0. */
  communityIdSeed?: number;
  /** Called for every bad line (in addition to the counters in state). */
  onError?: (e: LineError) => void;
}

/** The async generator of items of a log reader, with its progress (stats, checkpoint offset, line errors). */
export type LogReader = AsyncGenerator<SourceItem, void, undefined> & { readonly state: LogReadState };

/** A bad line or record: skipped and counted under `kind`. */
export class LineKindError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

/** Wraps a reader body as a LogReader whose state is readable while iterating. */
export function logReader<O extends LogReadOptions>(
  run: (input: LogInput, opts: O, state: LogReadState) => AsyncGenerator<SourceItem, void, undefined>,
  input: LogInput,
  opts: O,
): LogReader {
  const state = newLogReadState(opts.startOffset ?? 0);
  return Object.assign(run(input, opts, state), { state });
}
