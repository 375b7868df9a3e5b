// The bench's view of units on a WatchUnits stream (the units and failover phases): the api
// pushes each unit's placement and the state its machine reports as they change, so the bench
// learns of them without listing every unit and state, which would load the processes it
// measures.
import { performance } from "node:perf_hooks";
import { sleep } from "@fleet/launcher";
import { TargetState, type UnitView } from "@fleet/wire";
import type { FleetApi } from "./fleet-api.js";

/** WatchUnits takes at most this many names; more are followed by watching every unit. */
const MAX_WATCHED_NAMES = 10_000;
const FIRST_MESSAGE_MS = 30_000;

/** Units as WatchUnits shows them: how many are placed, and launched, on a machine `counts`
 * accepts (any machine by default). Pure. */
export class WatchedUnits {
  private readonly placedOn = new Map<string, boolean>();
  private readonly launchedNow = new Map<string, boolean>();
  placed = 0;
  launched = 0;

  constructor(
    private readonly names: ReadonlySet<string>,
    private readonly counts: (machineId: string) => boolean = () => true,
  ) {}

  apply(views: readonly UnitView[]): void {
    for (const v of views) {
      const name = v.unit?.name;
      if (name === undefined || !this.names.has(name)) continue;
      const placed = v.machineId !== "" && this.counts(v.machineId);
      this.placed += count(this.placedOn, name, placed);
      this.launched += count(this.launchedNow, name, placed && v.currentState === TargetState.TARGET_STATE_LAUNCHED);
    }
  }

  get all(): number {
    return this.names.size;
  }
}

/** Sets name's flag; the change to the count (-1, 0, 1). */
function count(flags: Map<string, boolean>, name: string, now: boolean): number {
  const was = flags.get(name) ?? false;
  flags.set(name, now);
  return now === was ? 0 : now ? 1 : -1;
}

export interface UnitsWatch {
  readonly watched: WatchedUnits;
  /** Why the stream is not followed: it failed, or gave nothing within 30 s; undefined while it is. */
  failure(): Error | undefined;
  cancel(): void;
}

/** Opens a stream of `names` (counted on machines `counts` accepts) and waits for its first message. */
export async function openUnitsWatch(api: FleetApi, names: readonly string[], counts?: (machineId: string) => boolean): Promise<UnitsWatch> {
  const watched = new WatchedUnits(new Set(names), counts);
  let opened = false;
  let failed: Error | undefined;
  const stream = api.watchUnits(
    (views) => {
      opened = true;
      watched.apply(views);
    },
    (err) => {
      failed = err;
    },
    names.length <= MAX_WATCHED_NAMES ? [...names] : [],
  );
  const t0 = performance.now();
  while (!opened && failed === undefined && performance.now() - t0 < FIRST_MESSAGE_MS) await sleep(20);
  if (!opened) failed ??= new Error(`no first message in ${FIRST_MESSAGE_MS / 1000} s`);
  return { watched, failure: () => failed, cancel: () => stream.cancel() };
}
