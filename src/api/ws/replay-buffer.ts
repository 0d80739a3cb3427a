import type { BusEvent } from '../../bus/types.js';

/**
 * The last N events this process has seen, so a client that reconnects with its last event id gets what
 * it missed. Every API process receives every event (bus fan-out), so each holds the same window.
 */
export class ReplayBuffer {
  private readonly ring: (BusEvent | undefined)[];
  private next = 0;
  private size = 0;

  constructor(readonly capacity = 2000) {
    this.ring = new Array<BusEvent | undefined>(capacity);
  }

  append(e: BusEvent): void {
    this.ring[this.next] = e;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** Events after `lastId`, oldest first; null when `lastId` is older than the window (the client must resync). */
  since(lastId: string): BusEvent[] | null {
    const out: BusEvent[] = [];
    for (let i = 0; i < this.size; i++) {
      const e = this.ring[(this.next - 1 - i + this.capacity) % this.capacity];
      if (!e) break;
      if (e.id === lastId) return out.reverse();
      out.push(e);
    }
    return null;
  }
}
