// A min-heap of machines ordered by (load, machine-id order), for "the least-loaded eligible
// machine, smallest machine id first".
//
// Entries are single numbers, load * 2^21 + slot. A machine's slot is its index in the
// scheduling state; the order of machine ids is the slot order itself (one decision, slots
// given in id order) or a rank per slot (the incremental scheduler, whose slots stay put while
// machines come and go; its heaps are rebuilt when ranks change).
//
// Loads change while units are placed; the heap is not told about increases: an entry whose
// load is stale is fixed when it reaches the top (re-pushed with the current load). Decreases
// are pushed by the caller (pushMachine), and the stale higher entry is dropped when it
// surfaces. Entries of machines that left the group (or died) are dropped when they surface.
import { asSlot, type Slot } from "./unit-record.js";

const SHIFT = 2 ** 21;

export const MAX_MACHINES = SHIFT;

/** What the heap reads when it compares: current loads and, when slots are not in id order, ranks. */
export interface LoadSource {
  readonly load: Int32Array;
  /** Slot -> position in machine-id order; undefined when slots already are in id order. */
  readonly rank: Int32Array | undefined;
}

export class LoadHeap {
  private readonly keys: number[] = [];

  constructor(
    members: readonly Slot[],
    private readonly source: LoadSource,
    /** Whether a slot still belongs to the heap's machines; undefined: always. */
    private readonly member?: (m: Slot) => boolean,
  ) {
    const load = source.load;
    for (const m of members) this.keys.push((load[m] as number) * SHIFT + m);
    for (let i = (this.keys.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  get size(): number {
    return this.keys.length;
  }

  /** Tell the heap a machine's load went down, or that it joined (increases are found lazily). */
  pushMachine(m: Slot): void {
    this.push((this.source.load[m] as number) * SHIFT + m);
  }

  /**
   * The least-loaded machine (smallest id among equals) for which `accept` is true, if any.
   * Machines rejected on the way are kept in the heap.
   */
  first(accept: (m: Slot) => boolean): Slot | undefined {
    let skipped: number[] | undefined;
    let seen: Set<number> | undefined;
    let found: Slot | undefined;
    const loads = this.source.load;
    while (this.keys.length > 0) {
      const key = this.keys[0] as number;
      const m = asSlot(key % SHIFT);
      if (this.member !== undefined && !this.member(m)) {
        this.pop();
        continue;
      }
      const load = (key - m) / SHIFT;
      const current = loads[m] as number;
      if (load !== current || seen?.has(m)) {
        this.pop();
        if (load < current && !seen?.has(m)) this.push(current * SHIFT + m);
        continue;
      }
      if (accept(m)) {
        found = m;
        break;
      }
      (skipped ??= []).push(this.pop());
      (seen ??= new Set()).add(m);
    }
    if (skipped) for (const key of skipped) this.push(key);
    return found;
  }

  /** a before b: smaller load, then smaller machine id. */
  private less(a: number, b: number): boolean {
    const rank = this.source.rank;
    if (rank === undefined) return a < b;
    const sa = a % SHIFT;
    const sb = b % SHIFT;
    const la = a - sa;
    const lb = b - sb;
    return la !== lb ? la < lb : (rank[sa] as number) < (rank[sb] as number);
  }

  private push(key: number): void {
    const keys = this.keys;
    keys.push(key);
    let i = keys.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(key, keys[parent] as number)) break;
      keys[i] = keys[parent] as number;
      i = parent;
    }
    keys[i] = key;
  }

  private pop(): number {
    const keys = this.keys;
    const top = keys[0] as number;
    const last = keys.pop() as number;
    if (keys.length > 0) {
      keys[0] = last;
      this.down(0);
    }
    return top;
  }

  private down(start: number): void {
    const keys = this.keys;
    const n = keys.length;
    const key = keys[start] as number;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.less(keys[right] as number, keys[left] as number) ? right : left;
      if (!this.less(keys[child] as number, key)) break;
      keys[i] = keys[child] as number;
      i = child;
    }
    keys[i] = key;
  }
}
