// A min-heap of machines ordered by (load, machine index), for "the least-loaded eligible
// machine, smallest machine id first". Machine indexes follow machine-id order, so the
// smallest index is the smallest id.
//
// Entries are single numbers, load * 2^21 + index. Loads change while units are placed; the
// heap is not told about increases: an entry whose load is stale is fixed when it reaches the
// top (re-pushed with the current load). Decreases are pushed by the caller (pushMachine), and
// the stale higher entry is dropped when it surfaces.

const SHIFT = 2 ** 21;

export const MAX_MACHINES = SHIFT;

export class LoadHeap {
  private readonly keys: number[] = [];

  constructor(
    members: readonly number[],
    private readonly load: Int32Array,
  ) {
    for (const m of members) this.keys.push((load[m] as number) * SHIFT + m);
    for (let i = (this.keys.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  /** Tell the heap a machine's load went down (increases are found lazily). */
  pushMachine(m: number): void {
    this.push((this.load[m] as number) * SHIFT + m);
  }

  /**
   * The least-loaded machine (smallest index among equals) for which `accept` is true, or -1.
   * Machines rejected on the way are kept in the heap.
   */
  first(accept: (m: number) => boolean): number {
    let skipped: number[] | undefined;
    let seen: Set<number> | undefined;
    let found = -1;
    while (this.keys.length > 0) {
      const key = this.keys[0] as number;
      const m = key % SHIFT;
      const load = (key - m) / SHIFT;
      const current = this.load[m] as number;
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

  private push(key: number): void {
    const keys = this.keys;
    keys.push(key);
    let i = keys.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((keys[parent] as number) <= key) break;
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
      const child = right < n && (keys[right] as number) < (keys[left] as number) ? right : left;
      if ((keys[child] as number) >= key) break;
      keys[i] = keys[child] as number;
      i = child;
    }
    keys[i] = key;
  }
}
