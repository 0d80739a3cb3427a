import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { TarError, tarEntries } from './tar-entries.js';

const root = mkdtempSync(join(tmpdir(), 'iotsec-tar-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A tar made by GNU tar (the system's), in the ustar format PGlite's dumps use. */
function gnuTar(files: Record<string, string | null>): Uint8Array {
  const dir = mkdtempSync(join(root, 'src-'));
  for (const [name, body] of Object.entries(files)) {
    if (body === null) mkdirSync(join(dir, name), { recursive: true });
    else writeFileSync(join(dir, name), body);
  }
  const out = join(root, `${Math.random().toString(36).slice(2)}.tar`);
  execFileSync('tar', ['--format=ustar', '--no-recursion', '-cf', out, '-C', dir, ...Object.keys(files)]);
  return readFileSync(out);
}

/** One ustar header block with a correct checksum (the tests' own writer, for shapes GNU tar won't make). */
function header(name: string, size: number, flag: string): Uint8Array {
  const h = new Uint8Array(512);
  const put = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) h[at + i] = s.charCodeAt(i);
  };
  put(0, name);
  put(100, '0000644\0');
  put(124, `${size.toString(8).padStart(11, '0')}\0`);
  put(156, flag);
  put(257, 'ustar\x0000');
  put(148, '        ');
  let sum = 0;
  for (const b of h) sum += b;
  put(148, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

function archive(entries: { name: string; body: Uint8Array | null }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    parts.push(header(e.name, e.body?.length ?? 0, e.body === null ? '5' : '0'));
    if (e.body) {
      const padded = new Uint8Array(Math.ceil(e.body.length / 512) * 512);
      padded.set(e.body);
      parts.push(padded);
    }
  }
  parts.push(new Uint8Array(1024));
  return Buffer.concat(parts);
}

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

describe('tar entries', () => {
  it("reads GNU tar's files and directories, contents byte for byte, names without ./ or a leading /", () => {
    const tar = gnuTar({
      base: null,
      'base/1': null,
      'base/1/112': 'x'.repeat(8192),
      PG_VERSION: '17\n',
      'base/1/empty': '',
    });
    const entries = tarEntries(tar);
    expect(entries.map((e) => [e.path, e.type, e.data.length])).toEqual([
      ['base', 'directory', 0],
      ['base/1', 'directory', 0],
      ['base/1/112', 'file', 8192],
      ['PG_VERSION', 'file', 3],
      ['base/1/empty', 'file', 0],
    ]);
    expect(text(entries.find((e) => e.path === 'PG_VERSION')?.data ?? new Uint8Array())).toBe('17\n');
  });

  it('joins the ustar prefix to long names', () => {
    const deep = `${'d'.repeat(90)}/${'e'.repeat(60)}`;
    const tar = gnuTar({ [deep.split('/')[0] as string]: null, [deep]: null, [`${deep}/file`]: 'ok' });
    expect(tarEntries(tar).map((e) => e.path)).toContain(`${deep}/file`);
  });

  it('refuses links, a wrong checksum, a name leaving the directory and data past the end, naming the offset', () => {
    const dir = mkdtempSync(join(root, 'link-'));
    writeFileSync(join(dir, 'a'), 'a');
    symlinkSync('a', join(dir, 'b'));
    const out = join(root, 'link.tar');
    execFileSync('tar', ['--format=ustar', '-cf', out, '-C', dir, 'a', 'b']);
    expect(() => tarEntries(readFileSync(out))).toThrow(/b is neither a file nor a directory at byte 1024/);

    const good = archive([{ name: 'x', body: new Uint8Array([1, 2, 3]) }]);
    const bad = Uint8Array.from(good);
    bad[10] = 0x41;
    expect(() => tarEntries(bad)).toThrow(/wrong checksum at byte 0/);
    expect(() => tarEntries(archive([{ name: '../etc/passwd', body: new Uint8Array(1) }]))).toThrow(
      /unusable name/,
    );
    expect(() => tarEntries(good.subarray(0, 512 + 2))).toThrow(/runs past the end at byte 0/);
  });

  it('an empty archive, or none at all, has no entries', () => {
    expect(tarEntries(new Uint8Array(0))).toEqual([]);
    expect(tarEntries(new Uint8Array(1024))).toEqual([]);
  });

  it('gives back what was archived (fast-check)', () => {
    const name = fc.stringMatching(/^[a-z0-9_]{1,12}$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ name, body: fc.option(fc.uint8Array({ maxLength: 1500 })) }), {
          selector: (e) => e.name,
          maxLength: 8,
        }),
        (entries) => {
          const got = tarEntries(archive(entries));
          expect(got.map((e) => [e.path, e.type, [...e.data]])).toEqual(
            entries.map((e) => [e.name, e.body === null ? 'directory' : 'file', [...(e.body ?? [])]]),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('damaged archives give entries or a TarError, never another exception or a read past the end (fast-check)', () => {
    const sample = archive([
      { name: 'dir', body: null },
      { name: 'dir/file', body: new Uint8Array(700).fill(7) },
      { name: 'other', body: new Uint8Array(3) },
    ]);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(sample.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(sample.length),
        (edits, cut) => {
          const b = Uint8Array.from(sample);
          for (const [at, v] of edits) b[at] = v;
          try {
            for (const e of tarEntries(b.subarray(0, cut)))
              expect(e.data.byteOffset + e.data.length).toBeLessThanOrEqual(cut);
          } catch (e) {
            expect(e).toBeInstanceOf(TarError);
          }
        },
      ),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (b) => {
        try {
          tarEntries(b);
        } catch (e) {
          expect(e).toBeInstanceOf(TarError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
