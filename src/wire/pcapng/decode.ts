import { DecodeError } from '../errors.js';
import { utf8Text } from '../cursor.js';
import { ChunkQueue, rd16, rd32 } from '../capture/chunks.js';
import type { RecordReader } from '../capture/types.js';
import { ip4ToString, ip6ToString } from '../addr.js';
import {
  BlockType,
  type NameRecord,
  type PcapngInterface,
  type PcapngReaderOptions,
  type PcapngRecord,
  type PcapngSection,
} from './types.js';

export * from './types.js';

const SHB_MAGIC = 0x0a0d0d0a;
const BOM = 0x1a2b3c4d;
const TWO32 = 0x1_0000_0000;
const MAX_INTERFACES = 65_536;

/** True when the stream starts with a pcapng Section Header Block. */
export function isPcapngMagic(b: Uint8Array): boolean {
  return b.length >= 4 && rd32(b, 0, false) === SHB_MAGIC;
}

interface IfaceState extends PcapngInterface {
  /** Timestamp conversion: micros = v * mul / div (exact integer split when possible). */
  div: number;
  mul: number;
}

/**
 * Incremental pcapng reader with the same API as PcapReader: push() chunks, next() records. Handles
 * several sections (each with its own byte order and interfaces), IDB options if_tsresol/if_tsoffset/
 * if_fcslen/if_name, EPB, SPB (captured length bounded by interface 0's snaplen), the obsolete Packet Block,
 * NRB (records kept in `names`), and skips every other block type. Block total length is checked at both ends.
 */
export class PcapngReader implements RecordReader {
  section: PcapngSection | null = null;
  interfaces: PcapngInterface[] = [];
  readonly names: NameRecord[] = [];
  namesDropped = 0;
  /** Blocks of an unknown or unused type that were skipped. */
  skippedBlocks = 0;
  private ifs: IfaceState[] = [];
  private readonly q = new ChunkQueue();
  private readonly source: string;
  private readonly maxBlock: number;
  private readonly maxNames: number;
  private ended = false;
  private failed: DecodeError | null = null;
  private sectionCount = 0;
  private lastTs = 0;

  constructor(opts: PcapngReaderOptions = {}) {
    this.source = opts.source ?? 'stream';
    this.maxBlock = opts.maxBlockLength ?? 16 * 1024 * 1024;
    this.maxNames = opts.maxNameRecords ?? 100_000;
  }

  push(chunk: Uint8Array): void {
    this.q.push(chunk);
  }

  /** Stops referring to the chunks pushed so far (see ChunkQueue.detach). */
  release(): void {
    this.q.detach();
  }

  end(): void {
    this.ended = true;
  }

  get offset(): number {
    return this.q.consumed;
  }

  next(): PcapngRecord | null {
    if (this.failed) throw this.failed;
    const q = this.q;
    for (;;) {
      if (!q.ensure(12)) return this.atEnd(12);
      let b = q.front;
      let p = q.pos;
      const at = q.consumed;
      const type0 = rd32(b, p, false);
      let le: boolean;
      if (type0 === SHB_MAGIC) {
        const bom = rd32(b, p + 8, false);
        if (bom === BOM) le = false;
        else if (bom === 0x4d3c2b1a) le = true;
        else return this.fail('malformed', `bad byte-order magic 0x${bom.toString(16)}`, at + 8);
      } else if (this.section === null) {
        return this.fail('malformed', `not a pcapng stream (first block type 0x${type0.toString(16)})`, at);
      } else {
        le = this.section.littleEndian;
      }
      const type = rd32(b, p, le);
      const total = rd32(b, p + 4, le);
      if (total < 12 || total % 4 !== 0) {
        return this.fail('malformed', `block total length ${total}`, at + 4);
      }
      if (total > this.maxBlock) {
        this.failed = new DecodeError(
          'limit',
          'pcapng',
          `${this.source}: block of ${total} bytes exceeds ${this.maxBlock}`,
          at,
        );
        throw this.failed;
      }
      if (!q.ensure(total)) return this.atEnd(total);
      b = q.front;
      p = q.pos;
      if (rd32(b, p + total - 4, le) !== total) {
        return this.fail('malformed', `trailing block length differs from leading ${total}`, at + total - 4);
      }
      const body = p + 8;
      const bodyEnd = p + total - 4;
      let rec: PcapngRecord | null = null;
      switch (type) {
        case BlockType.SHB:
          this.readShb(b, body, bodyEnd, le, at);
          break;
        case BlockType.IDB:
          this.readIdb(b, body, bodyEnd, le, at);
          break;
        case BlockType.EPB:
          rec = this.readEpb(b, body, bodyEnd, le, at);
          break;
        case BlockType.SPB:
          rec = this.readSpb(b, body, bodyEnd, le, at);
          break;
        case BlockType.OPB:
          rec = this.readOpb(b, body, bodyEnd, le, at);
          break;
        case BlockType.NRB:
          this.readNrb(b, body, bodyEnd, le);
          break;
        default:
          this.skippedBlocks++;
      }
      q.consume(total);
      if (rec !== null) return rec;
    }
  }

  private readShb(b: Uint8Array, s: number, e: number, le: boolean, at: number): void {
    if (e - s < 16) this.fail('malformed', 'section header block too short', at);
    const versionMajor = rd16(b, s + 4, le);
    const versionMinor = rd16(b, s + 6, le);
    if (versionMajor !== 1)
      this.fail('unsupported', `pcapng version ${versionMajor}.${versionMinor}`, at + 12);
    const hi = rd32(b, s + 8 + (le ? 4 : 0), le);
    const lo = rd32(b, s + 8 + (le ? 0 : 4), le);
    const sectionLength = hi === 0xffffffff && lo === 0xffffffff ? -1 : hi * TWO32 + lo;
    this.section = {
      index: this.sectionCount++,
      littleEndian: le,
      versionMajor,
      versionMinor,
      sectionLength,
      offset: at,
    };
    this.interfaces = [];
    this.ifs = [];
  }

  private readIdb(b: Uint8Array, s: number, e: number, le: boolean, at: number): void {
    if (e - s < 8) this.fail('malformed', 'interface description block too short', at);
    if (this.ifs.length >= MAX_INTERFACES) {
      this.failed = new DecodeError(
        'limit',
        'pcapng',
        `${this.source}: more than ${MAX_INTERFACES} interfaces`,
        at,
      );
      throw this.failed;
    }
    const iface: IfaceState = {
      linkType: rd16(b, s, le),
      snaplen: rd32(b, s + 4, le),
      tsresolBase: 10,
      tsresolExp: 6,
      tsOffsetSec: 0,
      fcsLen: -1,
      name: null,
      div: 1,
      mul: 1,
    };
    let o = s + 8;
    while (o + 4 <= e) {
      const code = rd16(b, o, le);
      const len = rd16(b, o + 2, le);
      const v = o + 4;
      if (code === 0) break;
      if (v + len > e) break; // option runs past the block: ignore the rest
      if (code === 9 && len >= 1) {
        const r = b[v] ?? 6;
        iface.tsresolBase = r & 0x80 ? 2 : 10;
        iface.tsresolExp = r & 0x7f;
      } else if (code === 14 && len >= 8) {
        const hi = rd32(b, v + (le ? 4 : 0), le);
        const lo = rd32(b, v + (le ? 0 : 4), le);
        iface.tsOffsetSec = (hi | 0) * TWO32 + lo; // signed 64-bit
      } else if (code === 13 && len >= 1) {
        iface.fcsLen = b[v] ?? -1;
      } else if (code === 2) {
        iface.name = utf8Text(b.subarray(v, v + Math.min(len, 256))).replace(/\0+$/, '');
      }
      o = v + ((len + 3) & ~3);
    }
    if (iface.tsresolBase === 10) {
      if (iface.tsresolExp >= 6) iface.div = 10 ** (iface.tsresolExp - 6);
      else iface.mul = 10 ** (6 - iface.tsresolExp);
    } else {
      iface.mul = 1e6;
      iface.div = 2 ** iface.tsresolExp;
    }
    this.ifs.push(iface);
    const { div: _d, mul: _m, ...pub } = iface;
    this.interfaces.push(pub);
  }

  private micros(iface: IfaceState, hi: number, lo: number): number {
    let v: number;
    const { div, mul } = iface;
    if (mul === 1 && div === 1) v = hi * TWO32 + lo;
    else if (mul === 1 && div < 2_000_000) {
      const qh = Math.floor(hi / div);
      v = qh * TWO32 + Math.floor(((hi - qh * div) * TWO32 + lo) / div);
    } else v = Math.floor(((hi * TWO32 + lo) * mul) / div);
    return v + iface.tsOffsetSec * 1_000_000;
  }

  private iface(id: number, at: number): IfaceState {
    const f = this.ifs[id];
    if (f === undefined) this.fail('malformed', `packet for undeclared interface ${id}`, at);
    return f;
  }

  private readEpb(b: Uint8Array, s: number, e: number, le: boolean, at: number): PcapngRecord {
    if (e - s < 20) this.fail('malformed', 'enhanced packet block too short', at);
    const id = rd32(b, s, le);
    const f = this.iface(id, at);
    const capLen = rd32(b, s + 12, le);
    const wireLen = rd32(b, s + 16, le);
    if (capLen > e - s - 20) this.fail('malformed', `captured length ${capLen} exceeds block`, at);
    const tsMicros = this.micros(f, rd32(b, s + 4, le), rd32(b, s + 8, le));
    this.lastTs = tsMicros;
    const data = b.subarray(s + 20, s + 20 + capLen);
    return { linkType: f.linkType, tsMicros, capLen, wireLen, data, offset: at, iface: id };
  }

  private readOpb(b: Uint8Array, s: number, e: number, le: boolean, at: number): PcapngRecord {
    if (e - s < 20) this.fail('malformed', 'packet block too short', at);
    const id = rd16(b, s, le);
    const f = this.iface(id, at);
    const capLen = rd32(b, s + 12, le);
    const wireLen = rd32(b, s + 16, le);
    if (capLen > e - s - 20) this.fail('malformed', `captured length ${capLen} exceeds block`, at);
    const tsMicros = this.micros(f, rd32(b, s + 4, le), rd32(b, s + 8, le));
    this.lastTs = tsMicros;
    const data = b.subarray(s + 20, s + 20 + capLen);
    return { linkType: f.linkType, tsMicros, capLen, wireLen, data, offset: at, iface: id };
  }

  /** SPB: no timestamp (the previous packet's is used) and no interface id (always interface 0). */
  private readSpb(b: Uint8Array, s: number, e: number, le: boolean, at: number): PcapngRecord {
    if (e - s < 4) this.fail('malformed', 'simple packet block too short', at);
    const f = this.iface(0, at);
    const wireLen = rd32(b, s, le);
    let capLen = Math.min(wireLen, e - s - 4);
    if (f.snaplen > 0 && capLen > f.snaplen) capLen = f.snaplen;
    const data = b.subarray(s + 4, s + 4 + capLen);
    return { linkType: f.linkType, tsMicros: this.lastTs, capLen, wireLen, data, offset: at, iface: 0 };
  }

  private readNrb(b: Uint8Array, s: number, e: number, le: boolean): void {
    let o = s;
    while (o + 4 <= e) {
      const type = rd16(b, o, le);
      const len = rd16(b, o + 2, le);
      const v = o + 4;
      if (type === 0 || v + len > e) break;
      const alen = type === 1 ? 4 : type === 2 ? 16 : 0;
      if (alen > 0 && len > alen) {
        if (this.names.length >= this.maxNames) this.namesDropped++;
        else {
          const ip = alen === 4 ? ip4ToString(rd32(b, v, false)) : ip6ToString(b, v);
          const names = utf8Text(b.subarray(v + alen, v + len))
            .split('\0')
            .filter((n) => n.length > 0);
          this.names.push({ ip, names });
        }
      }
      o = v + ((len + 3) & ~3);
    }
  }

  private atEnd(need: number): null {
    if (this.ended && this.q.available > 0) {
      const have = this.q.available;
      const at = this.q.consumed;
      this.q.consume(have);
      throw new DecodeError(
        'truncated',
        'pcapng',
        `${this.source}: stream ends inside a block (${have} of ${need} bytes)`,
        at,
      );
    }
    return null;
  }

  private fail(kind: 'malformed' | 'unsupported', msg: string, at: number): never {
    this.failed = new DecodeError(kind, 'pcapng', `${this.source}: ${msg}`, at);
    throw this.failed;
  }
}

/** Convenience: every packet record of a whole in-memory pcapng file. */
export function* readPcapng(bytes: Uint8Array, source?: string): Generator<PcapngRecord> {
  const r = new PcapngReader(source === undefined ? {} : { source });
  r.push(bytes);
  r.end();
  for (let rec = r.next(); rec !== null; rec = r.next()) yield rec;
}
