/**
 * Streaming NVD importer. Accepts, from a path, stream or async iterable (gzip detected by magic bytes):
 * - a single CVE API 2.0 record (`{"id": "CVE-…", …}`, as in fkie-cad/nvd-json-data-feeds) or `{"cve": {…}}`;
 * - an API 2.0 page or a 2.0 yearly feed (`{…, "format": "NVD_CVE", "version": "2.0", "vulnerabilities": [{cve}…]}`);
 * - a top-level JSON array of records / `{cve}` wrappers.
 *
 * Memory is bounded by one record: the `vulnerabilities` array is never materialised; each element is assembled
 * from stream-json tokens, normalised and yielded before the next one is read. Input is fed to the tokenizer in
 * 16 KiB slices, so byte positions in errors are exact for truncation and within 16 KiB for syntax errors.
 *
 * Per-record problems (not an object, bad id, bad configuration/CPE) yield `{kind: 'error'}` items with the
 * record index and CVE id when known, and the import continues. Whole-input problems throw NvdImportError after
 * every complete record before them has been yielded: NVD_JSON_SYNTAX / NVD_TRUNCATED (with byte position),
 * NVD_UNSUPPORTED_SCHEMA (the 1.1 `CVE_Items` feeds, a version other than 2.0, a format other than NVD_CVE),
 * NVD_UNKNOWN_SCHEMA (JSON that is none of the shapes above), NVD_INPUT (I/O or gzip failure).
 */
import Assembler from 'stream-json/Assembler.js';
import Parser from 'stream-json/Parser.js';
import { readBytes, sourceName } from '../input.js';
import type { ByteSource } from '../input.js';
import { NvdRecordError, normaliseCve } from './normalise.js';
import type { CveRecord } from './types.js';

export type NvdImportErrorCode =
  'NVD_JSON_SYNTAX' | 'NVD_TRUNCATED' | 'NVD_UNSUPPORTED_SCHEMA' | 'NVD_UNKNOWN_SCHEMA' | 'NVD_INPUT';

export class NvdImportError extends Error {
  override readonly name = 'NvdImportError';
  constructor(
    readonly code: NvdImportErrorCode,
    message: string,
    readonly source: string,
    /** Byte offset in the (decompressed) input at or before which the problem was detected. */
    readonly position: number | null,
    /** Records (good or bad) completed before the problem. */
    readonly recordsBefore: number,
  ) {
    super(`${source}${position === null ? '' : ` at byte ${position}`}: ${message}`);
  }
}

export type NvdImportItem =
  | { kind: 'cve'; index: number; record: CveRecord }
  | {
      kind: 'error';
      code: 'NVD_BAD_RECORD';
      index: number;
      cveId: string | null;
      /** Byte offset (decompressed) of the end of the slice in which the record ended. */
      position: number;
      message: string;
    };

export interface NvdImportSummary {
  source: string;
  /** 'record' | 'envelope' | 'array' */
  shape: 'record' | 'envelope' | 'array';
  records: number;
  errors: number;
  /** Envelope metadata when present. */
  version: string | null;
  format: string | null;
  timestamp: string | null;
  totalResults: number | null;
}

interface Token {
  name: string;
  value?: string;
}

type State =
  | 'start'
  | 'topKey'
  | 'topValue'
  | 'vulnArrayStart'
  | 'vulnItem'
  | 'vulnValue'
  | 'arrayItem'
  | 'arrayValue'
  | 'end';

const SLICE = 16 * 1024;

interface ParserInternals {
  push(token: Token | null): boolean;
  _transform(chunk: Buffer, encoding: BufferEncoding, cb: (err?: Error | null) => void): void;
  _flush(cb: (err?: Error | null) => void): void;
}

/** Streams normalised CVE records out of an NVD JSON input. The generator's return value is a summary. */
export async function* importNvd(
  src: ByteSource,
  options: { sourceName?: string } = {},
): AsyncGenerator<NvdImportItem, NvdImportSummary, undefined> {
  const name = options.sourceName ?? sourceName(src);
  const tokens: Token[] = [];
  const parser = new Parser({ packValues: true, streamValues: false }) as unknown as ParserInternals;
  parser.push = (t: Token | null): boolean => {
    if (t) tokens.push(t);
    return true;
  };

  let position = 0;
  let state: State = 'start';
  let topKey = '';
  let asm: Assembler | null = null;
  const top: Record<string, unknown> = {};
  let index = 0;
  const summary: NvdImportSummary = {
    source: name,
    shape: 'record',
    records: 0,
    errors: 0,
    version: null,
    format: null,
    timestamp: null,
    totalResults: null,
  };
  const out: NvdImportItem[] = [];

  const fail = (code: NvdImportErrorCode, message: string, pos: number | null = position): NvdImportError =>
    new NvdImportError(code, message, name, pos, index);

  const emitRecord = (value: unknown): void => {
    const i = index++;
    try {
      out.push({ kind: 'cve', index: i, record: normaliseCve(value) });
      summary.records++;
    } catch (e) {
      if (!(e instanceof NvdRecordError)) throw e;
      let cveId = e.cveId;
      if (cveId === null) {
        const id = guessId(value);
        if (id) cveId = id;
      }
      out.push({ kind: 'error', code: 'NVD_BAD_RECORD', index: i, cveId, position, message: e.message });
      summary.errors++;
    }
  };

  const checkTopScalar = (key: string, value: unknown): void => {
    if (key === 'version') {
      summary.version = typeof value === 'string' ? value : String(value);
      if (value !== '2.0') {
        throw fail(
          'NVD_UNSUPPORTED_SCHEMA',
          `unsupported NVD schema version ${JSON.stringify(value)} (need "2.0")`,
        );
      }
    } else if (key === 'format') {
      summary.format = typeof value === 'string' ? value : String(value);
      if (value !== 'NVD_CVE') {
        throw fail(
          'NVD_UNSUPPORTED_SCHEMA',
          `unsupported NVD format ${JSON.stringify(value)} (need "NVD_CVE")`,
        );
      }
    } else if (key === 'timestamp' && typeof value === 'string') {
      summary.timestamp = value;
    } else if (key === 'totalResults' && typeof value === 'number') {
      summary.totalResults = value;
    }
  };

  const step = (t: Token): void => {
    switch (state) {
      case 'start':
        if (t.name === 'startObject') state = 'topKey';
        else if (t.name === 'startArray') {
          state = 'arrayItem';
          summary.shape = 'array';
        } else throw fail('NVD_UNKNOWN_SCHEMA', 'top-level JSON value is neither an object nor an array');
        return;
      case 'topKey':
        if (t.name === 'endObject') {
          state = 'end';
          if (summary.shape === 'record') {
            if (!('id' in top) && !('cve' in top)) {
              throw fail(
                'NVD_UNKNOWN_SCHEMA',
                'not an NVD 2.0 document: no "vulnerabilities" array and no CVE "id"',
              );
            }
            emitRecord(top);
          }
          return;
        }
        if (t.name !== 'keyValue') throw fail('NVD_JSON_SYNTAX', `unexpected token ${t.name}`);
        topKey = t.value ?? '';
        if (topKey === 'CVE_Items' || topKey === 'CVE_data_format' || topKey === 'CVE_data_version') {
          throw fail(
            'NVD_UNSUPPORTED_SCHEMA',
            'this is an NVD JSON 1.1 feed (CVE_Items); only the CVE API 2.0 / 2.0 feed format is supported',
          );
        }
        if (topKey === 'vulnerabilities') {
          state = 'vulnArrayStart';
          summary.shape = 'envelope';
        } else {
          state = 'topValue';
          asm = new Assembler();
        }
        return;
      case 'topValue': {
        const a = asm as Assembler;
        a.consume(t);
        if (a.done) {
          const v: unknown = a.current;
          top[topKey] = v;
          checkTopScalar(topKey, v);
          asm = null;
          state = 'topKey';
        }
        return;
      }
      case 'vulnArrayStart':
        if (t.name !== 'startArray') throw fail('NVD_UNKNOWN_SCHEMA', '"vulnerabilities" is not an array');
        state = 'vulnItem';
        return;
      case 'vulnItem':
      case 'arrayItem': {
        if (t.name === 'endArray') {
          state = state === 'vulnItem' ? 'topKey' : 'end';
          return;
        }
        const a = new Assembler();
        a.consume(t);
        if (a.done) emitRecord(a.current);
        else {
          asm = a;
          state = state === 'vulnItem' ? 'vulnValue' : 'arrayValue';
        }
        return;
      }
      case 'vulnValue':
      case 'arrayValue': {
        const a = asm as Assembler;
        a.consume(t);
        if (a.done) {
          emitRecord(a.current);
          asm = null;
          state = state === 'vulnValue' ? 'vulnItem' : 'arrayItem';
        }
        return;
      }
      case 'end':
        throw fail('NVD_JSON_SYNTAX', 'unexpected data after the top-level value');
    }
  };

  const drain = (): void => {
    for (let i = 0; i < tokens.length; i++) step(tokens[i] as Token);
    tokens.length = 0;
  };

  let parseError: Error | null = null;
  const onDone = (err?: Error | null): void => {
    if (err) parseError = err;
  };

  try {
    for await (const chunk of readBytes(src)) {
      for (let off = 0; off < chunk.length; off += SLICE) {
        const slice = chunk.subarray(off, Math.min(chunk.length, off + SLICE));
        parser._transform(slice, 'utf8', onDone);
        position += slice.length;
        if (parseError) {
          drain();
          yield* flushOut(out);
          throw fail('NVD_JSON_SYNTAX', (parseError as Error).message);
        }
        drain();
        yield* flushOut(out);
      }
    }
  } catch (e) {
    if (e instanceof NvdImportError) throw e;
    const err = e instanceof Error ? e : new Error(String(e));
    const code = /unexpected end of file/i.test(err.message) ? 'NVD_TRUNCATED' : 'NVD_INPUT';
    yield* flushOut(out);
    throw fail(code, err.message);
  }
  parser._flush(onDone);
  drain();
  yield* flushOut(out);
  if (position === 0) throw fail('NVD_UNKNOWN_SCHEMA', 'empty input');
  if (parseError) {
    throw fail('NVD_TRUNCATED', `unexpected end of input (${(parseError as Error).message})`);
  }
  if (state === 'start') throw fail('NVD_UNKNOWN_SCHEMA', 'empty input');
  if (state !== 'end') throw fail('NVD_TRUNCATED', 'unexpected end of input');
  return summary;
}

function* flushOut(out: NvdImportItem[]): Generator<NvdImportItem, void, undefined> {
  for (const item of out) yield item;
  out.length = 0;
}

function guessId(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const inner = typeof v['cve'] === 'object' && v['cve'] !== null ? (v['cve'] as Record<string, unknown>) : v;
  return typeof inner['id'] === 'string' ? inner['id'] : null;
}

/** Collects a whole import into memory (tests and small inputs only). */
export async function collectNvd(src: ByteSource): Promise<{
  records: CveRecord[];
  errors: Extract<NvdImportItem, { kind: 'error' }>[];
  summary: NvdImportSummary;
}> {
  const records: CveRecord[] = [];
  const errors: Extract<NvdImportItem, { kind: 'error' }>[] = [];
  const gen = importNvd(src);
  for (;;) {
    const r = await gen.next();
    if (r.done) return { records, errors, summary: r.value };
    if (r.value.kind === 'cve') records.push(r.value.record);
    else errors.push(r.value);
  }
}
