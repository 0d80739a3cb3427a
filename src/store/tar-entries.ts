/**
 * Reads a POSIX tar (ustar) archive held in memory, as PGlite's dumpDataDir writes it: regular files and
 * directories, names up to 255 bytes through the ustar prefix. Pure and bounds-checked; used to lay out a
 * template cluster on disk (pglite-template.ts). Anything else (links, devices, PAX or GNU long-name
 * headers, a header whose checksum is wrong, a name that climbs out with `..`, data running past the end)
 * is refused with a TarError naming the byte offset, so a damaged template is never half trusted.
 */

export interface TarEntry {
  /** Relative, '/'-separated, without a leading '/' or '.' parts. */
  path: string;
  type: 'file' | 'directory';
  /** A view of the archive's bytes (empty for a directory). */
  data: Uint8Array;
}

export class TarError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset}`);
    this.name = 'TarError';
  }
}

const BLOCK = 512;

function field(b: Uint8Array, at: number, len: number): string {
  let end = at;
  while (end < at + len && b[end] !== 0) end++;
  let s = '';
  for (let i = at; i < end; i++) s += String.fromCharCode(b[i] as number);
  return s;
}

function octal(b: Uint8Array, at: number, len: number, offset: number): number {
  const s = field(b, at, len).trim();
  if (!/^[0-7]*$/.test(s)) throw new TarError('a tar header holds a number that is not octal', offset);
  return s === '' ? 0 : parseInt(s, 8);
}

function zeroBlock(b: Uint8Array, at: number): boolean {
  for (let i = at; i < at + BLOCK; i++) if (b[i] !== 0) return false;
  return true;
}

/** The header's checksum: the sum of its bytes with the checksum field itself read as spaces. */
function checksumOk(b: Uint8Array, at: number, offset: number): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (b[at + i] as number);
  return sum === octal(b, at + 148, 8, offset);
}

function cleanPath(raw: string, offset: number): string {
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..'))
    throw new TarError(`a tar entry has an unusable name (${JSON.stringify(raw)})`, offset);
  return parts.join('/');
}

/** The archive's entries in order. Two zero blocks (or the end of the bytes on a block boundary) end it. */
export function tarEntries(b: Uint8Array): TarEntry[] {
  const out: TarEntry[] = [];
  let at = 0;
  while (at + BLOCK <= b.length) {
    if (zeroBlock(b, at)) break;
    if (!checksumOk(b, at, at)) throw new TarError('a tar header has a wrong checksum', at);
    const name = field(b, at, 100);
    const prefix = field(b, at + 345, 155);
    const size = octal(b, at + 124, 12, at);
    const flag = b[at + 156] as number;
    const path = cleanPath(prefix ? `${prefix}/${name}` : name, at);
    const dataAt = at + BLOCK;
    if (dataAt + size > b.length) throw new TarError(`the tar entry ${path} runs past the end`, at);
    if (flag === 0x35 /* '5' */) out.push({ path, type: 'directory', data: new Uint8Array(0) });
    else if (flag === 0x30 /* '0' */ || flag === 0)
      out.push({ path, type: 'file', data: b.subarray(dataAt, dataAt + size) });
    else throw new TarError(`the tar entry ${path} is neither a file nor a directory`, at);
    at = dataAt + Math.ceil(size / BLOCK) * BLOCK;
  }
  if (at < b.length && at + BLOCK > b.length) throw new TarError('the tar ends inside a header', at);
  return out;
}
