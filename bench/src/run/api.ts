// The units the bench starts and the api it starts them through.
import { connect, unary, FleetServiceClient, TargetState, type Machine, type UnitState } from "@fleet/wire";
import { log, now, POLL_MS, sleep } from "./config.js";

let seq = 0;
const RUN_ID = Math.random().toString(36).slice(2, 7);

/** A name no earlier run or phase used: bench-<kind>-<run id>-<n>.service. */
export function unitName(kind: string): string {
  seq += 1;
  return `bench-${kind}-${RUN_ID}-${seq}.service`;
}

/** Every bench unit: a plain service sleeping forever. */
export function unitOptions(name: string): { section: string; name: string; value: string }[] {
  return [
    { section: "Unit", name: "Description", value: `fleet bench ${name}` },
    { section: "Service", name: "ExecStart", value: "/bin/sleep infinity" },
  ];
}

export function unitFileText(name: string): string {
  return `[Unit]\nDescription=fleet bench ${name}\n\n[Service]\nExecStart=/bin/sleep infinity\n`;
}

export class Api {
  private readonly client: FleetServiceClient;
  readonly calls = { listUnitStates: 0 };

  constructor(endpoint: string) {
    this.client = connect(FleetServiceClient, endpoint);
  }
  create(name: string): Promise<unknown> {
    const c = this.client;
    return unary(c.createUnit.bind(c), { unit: { name, options: unitOptions(name), hash: "", desiredState: TargetState.TARGET_STATE_LAUNCHED } });
  }
  destroy(name: string): Promise<unknown> {
    const c = this.client;
    return unary(c.destroyUnit.bind(c), { name });
  }
  async states(unitNames: string[] = []): Promise<UnitState[]> {
    const c = this.client;
    this.calls.listUnitStates += 1;
    return (await unary(c.listUnitStates.bind(c), { unitNames, machineId: "" }, { deadlineMs: 5_000 })).states;
  }
  async machines(): Promise<Machine[]> {
    const c = this.client;
    return (await unary(c.listMachines.bind(c), {})).machines;
  }
  close(): void {
    this.client.close();
  }
}

export interface PollOptions {
  intervalMs?: number;
  timeoutMs?: number;
  what?: string;
}

/** Polls listUnitStates until pred(states) is truthy; returns that value. */
export async function pollStates<T>(api: Api, names: string[], pred: (states: UnitState[]) => T | undefined | false, o: PollOptions = {}): Promise<T> {
  const { intervalMs = POLL_MS, timeoutMs = 30_000, what = "states" } = o;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const states = await api.states(names);
      const v = pred(states);
      if (v) return v;
      last = states;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last)?.slice(0, 400);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${detail}`);
    }
    if (intervalMs > 0) await sleep(intervalMs);
  }
}

export const isActive = (s: UnitState): boolean => s.activeState === "active";

/** Destroys the units and waits until no unit state for them is left. */
export async function destroyAll(api: Api, names: string[], timeoutMs = 60_000): Promise<void> {
  if (names.length === 0) return;
  const t = now();
  const errors: string[] = [];
  for (let i = 0; i < names.length; i += 25) {
    await Promise.all(
      names.slice(i, i + 25).map((n) =>
        api.destroy(n).catch((e: unknown) => {
          const message = e instanceof Error ? e.message : String(e);
          if (!/not.?found/i.test(message)) errors.push(`${n}: ${message}`);
        }),
      ),
    );
  }
  if (errors.length) log(`destroy errors: ${errors.slice(0, 3).join("; ")}`);
  const set = new Set(names);
  await pollStates(api, [], (states) => !states.some((s) => set.has(s.name)), { intervalMs: 100, timeoutMs, what: `${names.length} destroyed units to disappear` }).catch((e: Error) =>
    log(`warning: ${e.message}`),
  );
  log(`destroyed ${names.length} unit(s) in ${Math.round(now() - t)} ms`);
}
