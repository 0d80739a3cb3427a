/**
 * Seeded pseudo-random numbers: xoshiro128** (Blackman & Vigna) seeded through splitmix32. 32-bit integer
 * arithmetic only (Math.imul), so sequences are identical on every platform for a given seed.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed = 0) {
    let x = seed >>> 0;
    // A seed that is not a 32-bit integer (a float or a large number) contributes its high part too.
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) x = (hashNumber(seed) ^ x) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  uint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A float in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.uint32() >>> 5; // 27 bits
    const lo = this.uint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** An integer in [0, n), without modulo bias. n must be in [1, 2^32]. */
  int(n: number): number {
    if (n <= 1) return 0;
    if (n > 0xffffffff) return Math.floor(this.float() * n);
    // Rejection sampling on the top of the 32-bit range.
    const limit = 0x100000000 - (0x100000000 % n);
    let v = this.uint32();
    while (v >= limit) v = this.uint32();
    return v % n;
  }

  /** A standard normal deviate (Box–Muller). */
  normal(): number {
    let u = this.float();
    while (u === 0) u = this.float();
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles in place (Fisher–Yates) and returns the same array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** k distinct integers from [0, n), in random order. */
  sampleWithoutReplacement(n: number, k: number): Int32Array {
    if (k > n || k < 0) throw new RangeError(`cannot sample ${k} of ${n} without replacement`);
    const out = new Int32Array(k);
    if (k * 4 < n) {
      // Floyd's algorithm: O(k) memory.
      const chosen = new Set<number>();
      let m = 0;
      for (let j = n - k; j < n; j++) {
        const t = this.int(j + 1);
        const v = chosen.has(t) ? j : t;
        chosen.add(v);
        out[m++] = v;
      }
      return this.shuffle(out);
    }
    const pool = new Int32Array(n);
    for (let i = 0; i < n; i++) pool[i] = i;
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      const t = pool[i] as number;
      pool[i] = pool[j] as number;
      pool[j] = t;
      out[i] = pool[i] as number;
    }
    return out;
  }

  /** A seed for an independent child generator (e.g. one per tree), advancing this generator. */
  nextSeed(): number {
    return this.uint32();
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function hashNumber(v: number): number {
  const f = new Float64Array([v]);
  const u = new Uint32Array(f.buffer);
  return (Math.imul((u[0] as number) ^ 0x9e3779b9, 0x85ebca6b) ^ (u[1] as number)) >>> 0;
}
