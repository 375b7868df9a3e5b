// Arrays kept sorted by name, searched by bisection: the scheduler's one sorted-array helper
// (the name index, the incremental index's units, followers and replacedBy kept in name order).

export interface Named {
  readonly name: string;
}

/** Orders by name (code unit order, as Go compares strings). */
export function byName(a: Named, b: Named): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The first index whose name is not below `name`. */
export function lowerBound(sorted: readonly Named[], name: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as Named).name < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index whose name is above `name`. */
export function upperBound(sorted: readonly Named[], name: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as Named).name <= name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Inserts after the items of the same or a smaller name. */
export function insertByName<T extends Named>(sorted: T[], item: T): void {
  sorted.splice(upperBound(sorted, item.name), 0, item);
}

/** Removes `item` if `sorted` holds it among the items of its name. */
export function removeByName<T extends Named>(sorted: T[], item: T): void {
  for (let at = lowerBound(sorted, item.name); at < sorted.length && (sorted[at] as T).name === item.name; at++) {
    if (sorted[at] === item) {
      sorted.splice(at, 1);
      return;
    }
  }
}

/** Adds `fresh` (any order; sorted here) to `sorted`, in place. */
export function mergeByName<T extends Named>(sorted: T[], fresh: T[]): void {
  if (fresh.length === 0) return;
  fresh.sort(byName);
  if (fresh.length < 64) {
    for (const item of fresh) sorted.splice(lowerBound(sorted, item.name), 0, item);
    return;
  }
  const merged: T[] = [];
  let i = 0;
  let j = 0;
  while (i < sorted.length || j < fresh.length) {
    const a = sorted[i];
    const b = fresh[j];
    if (b === undefined || (a !== undefined && a.name < b.name)) {
      merged.push(a as T);
      i++;
    } else {
      merged.push(b);
      j++;
    }
  }
  sorted.length = 0;
  for (const item of merged) sorted.push(item);
}
