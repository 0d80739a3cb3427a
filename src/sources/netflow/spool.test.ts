import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { FlowBatch } from './flow-batch.js';
import { BatchSpool } from './spool.js';

const dir = mkdtempSync(join(tmpdir(), 'iotsec-spool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const fileName = () => join(dir, 'sub', `s${files++}.spool`);

const batch = (n: number, bytes: Uint8Array, strings: string[]): FlowBatch => {
  const buffer = new ArrayBuffer(bytes.length);
  new Uint8Array(buffer).set(bytes);
  return { n, buffer, strings };
};
const same = (a: FlowBatch | null, b: FlowBatch) => {
  expect(a?.n).toBe(b.n);
  expect(new Uint8Array(a?.buffer ?? new ArrayBuffer(0))).toEqual(new Uint8Array(b.buffer));
  expect(a?.strings).toEqual(b.strings);
};
const arbBatch = fc
  .tuple(
    fc.nat({ max: 5000 }),
    fc.uint8Array({ maxLength: 300 }),
    fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { maxLength: 20 }),
  )
  .map(([n, bytes, strings]) => batch(n, bytes, strings));

describe('BatchSpool', () => {
  it('hands batches back whole and in order, however pushes and shifts interleave', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(arbBatch, fc.constant(null)), { maxLength: 40 }), (ops) => {
        const spool = new BatchSpool(fileName(), 1 << 30);
        const model: FlowBatch[] = [];
        for (const op of ops) {
          if (op === null) {
            const want = model.shift();
            const got = spool.shift();
            if (want) same(got, want);
            else expect(got).toBeNull();
          } else {
            expect(spool.push(op)).toBe(true);
            model.push(op);
          }
          expect(spool.records).toBe(model.reduce((s, b) => s + b.n, 0));
          expect(spool.empty).toBe(model.length === 0);
        }
        for (const want of model.splice(0)) same(spool.shift(), want);
        expect(spool.shift()).toBeNull();
        spool.close();
      }),
      { numRuns: 50 },
    );
  });

  it('refuses a batch that would take it past its size, then takes more once read', () => {
    const spool = new BatchSpool(fileName(), 12 + 100 + 2 + 12 + 100 + 2); // two batches of 100 bytes, no strings
    const b = (n: number) => batch(n, new Uint8Array(100).fill(n), []);
    expect(spool.push(b(1))).toBe(true);
    expect(spool.push(b(2))).toBe(true);
    expect(spool.push(b(3))).toBe(false);
    expect(spool.records).toBe(3);
    same(spool.shift(), b(1));
    expect(spool.push(b(3))).toBe(true);
    same(spool.shift(), b(2));
    same(spool.shift(), b(3));
  });

  it('empties its file when drained and removes it on close', () => {
    const file = fileName();
    const spool = new BatchSpool(file, 1 << 30);
    expect(existsSync(file)).toBe(false); // nothing spooled yet: no file
    spool.push(batch(4, new Uint8Array(1000), ['a', 'b']));
    expect(statSync(file).size).toBeGreaterThan(1000);
    spool.shift();
    expect(statSync(file).size).toBe(0);
    spool.push(batch(5, new Uint8Array(10), []));
    spool.close();
    expect(existsSync(file)).toBe(false);
    expect(spool.records).toBe(0);
  });

  it('keeps its index as long as what waits (many small batches, read while more arrive)', () => {
    const spool = new BatchSpool(fileName(), 1 << 30);
    for (let i = 0; i < 3000; i++) spool.push(batch(i, new Uint8Array([i & 255]), [String(i)]));
    for (let i = 0; i < 2500; i++) same(spool.shift(), batch(i, new Uint8Array([i & 255]), [String(i)]));
    for (let i = 3000; i < 3100; i++) spool.push(batch(i, new Uint8Array([i & 255]), [String(i)]));
    for (let i = 2500; i < 3100; i++) same(spool.shift(), batch(i, new Uint8Array([i & 255]), [String(i)]));
    expect(spool.empty).toBe(true);
    spool.close();
  });
});
