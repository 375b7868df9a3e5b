// The units waiting to be placed in one pass of a decision, in the order a pass takes them
// (MachineOf depth, then name): a binary heap, so units can join a pass already under way.
import { compareRecs, type UnitRec } from "./unit-record.js";

export class RecQueue {
  private readonly heap: UnitRec[] = [];
  private readonly members = new Set<UnitRec>();

  get size(): number {
    return this.heap.length;
  }

  has(rec: UnitRec): boolean {
    return this.members.has(rec);
  }

  push(rec: UnitRec): void {
    if (this.members.has(rec)) return;
    this.members.add(rec);
    const heap = this.heap;
    heap.push(rec);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (compareRecs(heap[parent] as UnitRec, rec) <= 0) break;
      heap[i] = heap[parent] as UnitRec;
      i = parent;
    }
    heap[i] = rec;
  }

  /** The first unit in pass order, or undefined when empty. */
  pop(): UnitRec | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    this.members.delete(top);
    const last = heap.pop() as UnitRec;
    if (heap.length > 0) {
      const n = heap.length;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && compareRecs(heap[right] as UnitRec, heap[left] as UnitRec) < 0 ? right : left;
        if (compareRecs(heap[child] as UnitRec, last) >= 0) break;
        heap[i] = heap[child] as UnitRec;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}
