/**
 * The flow table's index: flows by normalised key, an open-addressing hash table (linear probing,
 * backward-shift deletion) over int32 key words. IPv4 and IPv6 share it with one key shape, so a lookup
 * allocates nothing for either family (no key object, string or boxed number per packet).
 *
 * Key: endpoint A and endpoint B as four 32-bit words each (an IPv6 address big-endian word by word; an
 * IPv4 address in word 0, the others 0), the ports (A's << 16 | B's) and a protocol class whose bit 3 says
 * IPv6 (so an IPv4 key never equals an IPv6 one that happens to have the same words). A flow keeps words
 * 1–3 in a separate object, IPv6 flows only: most flows are IPv4, and every field of a flow is memory
 * the garbage collector copies.
 */

/** Words 1–3 of an IPv6 key's endpoint addresses. */
export class Key6 {
  constructor(
    readonly a1: number,
    readonly a2: number,
    readonly a3: number,
    readonly b1: number,
    readonly b2: number,
    readonly b3: number,
  ) {}
}

/** The key a flow carries (set once, when the flow is created): k6 is set exactly when kt has KT_IPV6. */
export interface FlowKey {
  ka: number;
  kb: number;
  kp: number;
  kt: number;
  k6: Key6 | null;
}

/** Protocol class bit of IPv6 keys. */
export const KT_IPV6 = 8;

/** Big-endian 32-bit word at `o` (as a signed int32: only equality and the order below use it). */
export function word32(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) << 24) | ((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0);
}

/**
 * Compares the 16-byte IPv6 addresses at `a` and `b` in `d` as the bytes compare (unsigned, first byte
 * most significant): negative, 0 or positive.
 */
export function compareIp6(d: Uint8Array, a: number, b: number): number {
  for (let i = 0; i < 16; i += 4) {
    const x = word32(d, a + i) >>> 0;
    const y = word32(d, b + i) >>> 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function mix(h: number, w: number): number {
  const x = Math.imul(h ^ w, 0x85ebca6b);
  return x ^ (x >>> 13);
}

/** Hash of a key; IPv4 keys (zero upper words) skip the six zero words. */
function hashKey(
  a: number,
  a1: number,
  a2: number,
  a3: number,
  b: number,
  b1: number,
  b2: number,
  b3: number,
  p: number,
  t: number,
): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ b, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ p, 0x27d4eb2f);
  if ((t & KT_IPV6) !== 0) {
    h = mix(h, a1);
    h = mix(h, a2);
    h = mix(h, a3);
    h = mix(h, b1);
    h = mix(h, b2);
    h = mix(h, b3);
  }
  h ^= t;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return h ^ (h >>> 16);
}

function hashOf(f: FlowKey): number {
  const w = f.k6;
  return w === null
    ? hashKey(f.ka, 0, 0, 0, f.kb, 0, 0, 0, f.kp, f.kt)
    : hashKey(f.ka, w.a1, w.a2, w.a3, f.kb, w.b1, w.b2, w.b3, f.kp, f.kt);
}

/** Do an IPv6 key's words 1–3 equal these (always true for an IPv4 key, whose words are all 0)? */
export function sameWords(
  w: Key6 | null,
  a1: number,
  a2: number,
  a3: number,
  b1: number,
  b2: number,
  b3: number,
): boolean {
  return (
    w === null || (w.a1 === a1 && w.a2 === a2 && w.a3 === a3 && w.b1 === b1 && w.b2 === b2 && w.b3 === b3)
  );
}

const INITIAL_CAP = 1 << 12;
const EMPTY_HASHES = new Int32Array(0);

export class FlowIndex<F extends FlowKey> {
  // The table fields are declared empty and set by allocate(), in the constructor and on every grow(): a
  // field V8 has only seen set once is taken as constant, and the first grow (mid-way through the first
  // capture) would discard the optimised flow-table code built on that.
  private cap = 0;
  private mask = 0;
  private count = 0;
  private slots: (F | null)[] = [];
  /**
   * The key hash of each slot's flow. A probe that reaches another flow's slot, and the backward shift of
   * a deletion, compare and place by these instead of reading that flow: flows are scattered over the
   * heap, and reading one is mostly a cache miss.
   */
  private hashes = EMPTY_HASHES;

  constructor() {
    this.allocate(INITIAL_CAP);
  }

  /** Flows held. */
  get size(): number {
    return this.count;
  }

  /** The flow with this key, or null. */
  get(
    a: number,
    a1: number,
    a2: number,
    a3: number,
    b: number,
    b1: number,
    b2: number,
    b3: number,
    p: number,
    t: number,
  ): F | null {
    const slots = this.slots;
    const hashes = this.hashes;
    const mask = this.mask;
    const h = hashKey(a, a1, a2, a3, b, b1, b2, b3, p, t);
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const f = slots[i];
      if (!f) return null;
      if (
        hashes[i] === h &&
        f.ka === a &&
        f.kb === b &&
        f.kp === p &&
        f.kt === t &&
        sameWords(f.k6, a1, a2, a3, b1, b2, b3)
      )
        return f;
    }
  }

  /** Adds a flow whose key is not present. */
  set(f: F): void {
    if ((this.count + 1) * 2 > this.cap) this.grow();
    this.place(f, hashOf(f));
    this.count++;
  }

  /** Removes this flow (by identity); no-op when absent. */
  delete(f: F): void {
    const slots = this.slots;
    const hashes = this.hashes;
    const mask = this.mask;
    let i = hashOf(f) & mask;
    for (;;) {
      const g = slots[i];
      if (!g) return;
      if (g === f) break;
      i = (i + 1) & mask;
    }
    // Backward-shift: move later members of the probe run into the hole when their home allows it.
    let hole = i;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const g = slots[j];
      if (!g) break;
      const home = (hashes[j] ?? 0) & mask;
      // g may move to `hole` unless its home lies cyclically in (hole, j].
      if (hole <= j ? home <= hole || home > j : home <= hole && home > j) {
        slots[hole] = g;
        hashes[hole] = hashes[j] ?? 0;
        hole = j;
      }
    }
    slots[hole] = null;
    this.count--;
  }

  private place(f: F, h: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = h & mask;
    while (slots[i]) i = (i + 1) & mask;
    slots[i] = f;
    this.hashes[i] = h;
  }

  /** Empty tables of `cap` slots (the flows held are the caller's to place again). */
  private allocate(cap: number): void {
    this.cap = cap;
    this.mask = cap - 1;
    this.slots = new Array<F | null>(cap).fill(null);
    this.hashes = new Int32Array(cap);
  }

  private grow(): void {
    const old = this.slots;
    const oldHashes = this.hashes;
    this.allocate(this.cap * 2);
    for (let i = 0; i < old.length; i++) {
      const f = old[i];
      if (f) this.place(f, oldHashes[i] ?? 0);
    }
  }
}
