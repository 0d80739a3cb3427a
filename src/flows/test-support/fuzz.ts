/** TEST-ONLY: fuzz helpers shared by the decoder tests (fast-check). */
import fc from 'fast-check';
import { DecodeError } from '../../wire/errors.js';

/** Runs `decode` and fails the property if it throws anything but a DecodeError. */
export function onlyDecodeError(decode: () => unknown): boolean {
  try {
    decode();
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
  return true;
}

/** Random bytes, optionally prefixed (so the fuzzer gets past a magic/type byte). */
export function randomBytes(prefix: number[] = [], maxLength = 600): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ maxLength }).map((b) => (prefix.length ? Uint8Array.from([...prefix, ...b]) : b));
}

/** A real payload with random byte flips, truncation and insertions. */
export function mutated(seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .record({
      i: fc.nat({ max: Math.max(0, seeds.length - 1) }),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }),
      cut: fc.option(fc.nat()),
    })
    .map(({ i, flips, cut }) => {
      const src = seeds[i] ?? new Uint8Array(0);
      const b = Uint8Array.from(src);
      for (const [pos, v] of flips) if (b.length) b[pos % b.length] = v;
      return cut === null ? b : b.subarray(0, cut % (b.length + 1));
    });
}

export const FUZZ_RUNS = 400;
