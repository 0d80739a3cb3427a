/**
 * TEST-ONLY helpers for src/wire: locate the shared real-data folder (never copied into the repo) and build
 * synthetic capture files. Nothing outside *.test.ts files may import this folder.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCapture } from '../capture/decode.js';
import { decodePacket, ip4ToString, ip6ToString, PacketInfo } from '../packet/decode.js';

/** Repository root: src/wire/test-support → three levels up. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** ../shared/data beside the repository. */
export const DATA_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'data');

export function dataPath(...parts: string[]): string {
  return path.join(DATA_DIR, ...parts);
}

export function hasData(...parts: string[]): boolean {
  return existsSync(dataPath(...parts));
}

export function missingMessage(...parts: string[]): string {
  return `real test data not found at ${dataPath(...parts)} (expected ../shared/data beside the repo root)`;
}

/** Every file under `dir` (recursively) whose name ends with `ext`, sorted. */
export function listFiles(dir: string, ext: string): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(ext)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

export function readBytes(p: string): Uint8Array {
  const b = readFileSync(p);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** A deterministic PRNG (mulberry32) for chunk sizes in tests. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Split bytes into chunks of random sizes in [1, maxChunk]. */
export function randomChunks(bytes: Uint8Array, seed: number, maxChunk: number): Uint8Array[] {
  const r = rng(seed);
  const out: Uint8Array[] = [];
  for (let o = 0; o < bytes.length;) {
    const n = 1 + Math.floor(r() * maxChunk);
    out.push(bytes.subarray(o, o + n));
    o += n;
  }
  return out;
}

/** Growable byte writer with explicit endianness, for synthetic pcap/pcapng/netflow data. */
export class ByteWriter {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  constructor(private readonly le = false) {}

  private grow(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.buf.subarray(0, this.length));
    this.buf = nb;
    this.view = new DataView(nb.buffer);
  }

  u8(v: number): this {
    this.grow(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
    return this;
  }

  u16(v: number): this {
    this.grow(2);
    this.view.setUint16(this.length, v, this.le);
    this.length += 2;
    return this;
  }

  u32(v: number): this {
    this.grow(4);
    this.view.setUint32(this.length, v >>> 0, this.le);
    this.length += 4;
    return this;
  }

  u64(v: bigint): this {
    this.grow(8);
    this.view.setBigUint64(this.length, BigInt.asUintN(64, v), this.le);
    this.length += 8;
    return this;
  }

  bytes(b: Uint8Array | number[]): this {
    const arr = b instanceof Uint8Array ? b : Uint8Array.from(b);
    this.grow(arr.length);
    this.buf.set(arr, this.length);
    this.length += arr.length;
    return this;
  }

  pad4(): this {
    while (this.length % 4 !== 0) this.u8(0);
    return this;
  }

  /** Overwrite a u16/u32 at an earlier position. */
  setU16(at: number, v: number): this {
    this.view.setUint16(at, v, this.le);
    return this;
  }

  setU32(at: number, v: number): this {
    this.view.setUint32(at, v >>> 0, this.le);
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Parse "aa:bb:…" / dotted quad into byte arrays for frame building. */
export function macBytes(s: string): number[] {
  return s.split(':').map((h) => parseInt(h, 16));
}

export function ip4Bytes(s: string): number[] {
  return s.split('.').map((x) => Number(x));
}

/** The UDP payloads of a capture (e.g. NetFlow/IPFIX export traffic), with the sender as exporter key. */
export function udpPayloads(file: string): { exporter: string; port: number; payload: Uint8Array }[] {
  const out: { exporter: string; port: number; payload: Uint8Array }[] = [];
  const info = new PacketInfo();
  for (const r of readCapture(readBytes(file))) {
    decodePacket(r.linkType, r.data, info);
    if (info.ipProto !== 17 || info.payloadOffset < 0 || info.nonFirstFragment) continue;
    const exporter = info.ipVersion === 4 ? ip4ToString(info.srcIp4) : ip6ToString(r.data, info.srcIp6Offset);
    out.push({
      exporter,
      port: info.srcPort,
      payload: r.data.subarray(info.payloadOffset, info.payloadOffset + info.payloadLength),
    });
  }
  return out;
}
