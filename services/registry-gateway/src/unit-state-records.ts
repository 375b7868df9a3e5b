// Unit states: each agent reports its units' states under its machine's lease (they vanish with
// the lease), in fenced batches that fail when the machine is not registered under that lease.
// Reports that arrive together share transactions (fenced-write-batcher.ts).
import { assertMachineId, assertValidUnitName, FleetError, type UnitState } from "@fleet/domain";
import { del, leased, put } from "./etcd-ops.js";
import { FencedWriteBatcher } from "./fenced-write-batcher.js";
import type { Keys } from "./keys.js";
import type { RegistryStore } from "./registry-store.js";

export class UnitStateRecords {
  private readonly batcher: FencedWriteBatcher;

  constructor(
    private readonly store: RegistryStore,
    private readonly keys: Keys,
  ) {
    this.batcher = new FencedWriteBatcher(store);
  }

  /** States of the machine's units (every machine's when machineId is ""), of the named units (all when none), by unit name then machine. */
  list(machineId: string, unitNames: readonly string[]): UnitState[] {
    const { states, stateMachines } = this.store.cache;
    const out: UnitState[] = [];
    if (unitNames.length > 0) {
      // Looked up by name: a few units' states cost the same in a cluster of any size.
      for (const name of new Set(unitNames)) {
        for (const m of machineId ? [machineId] : (stateMachines.get(name) ?? [])) {
          const entry = states.get(m)?.get(name);
          if (entry) out.push(entry.value);
        }
      }
    } else {
      for (const m of machineId ? [machineId] : states.keys()) for (const entry of states.get(m)?.values() ?? []) out.push(entry.value);
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.machineId < b.machineId ? -1 : 1));
  }

  /** Writes `states` and deletes `removed` under the machine's lease; FAILED_PRECONDITION when it is not registered under that lease. */
  async report(machineId: string, leaseId: string, states: readonly UnitState[], removed: readonly string[]): Promise<number> {
    assertMachineId(machineId);
    for (const s of states) assertValidUnitName(s.name);
    for (const name of removed) assertValidUnitName(name);
    const ops = [
      ...states.map((s) =>
        put(
          this.keys.state(machineId, s.name),
          { hash: s.hash, loadState: s.loadState, activeState: s.activeState, subState: s.subState, currentState: s.currentState, ...(s.reason ? { reason: s.reason } : {}) },
          leaseId,
        ),
      ),
      ...removed.map((name) => del(this.keys.state(machineId, name))),
    ];
    // Puts and deletes under a compare a retry cannot flip: safe to re-send.
    return this.batcher.write({
      compare: [leased(this.keys.machine(machineId), leaseId)],
      ops,
      op: "txn-idempotent",
      refused: () => new FleetError("failed-precondition", `machine ${machineId} is not registered under lease ${leaseId}`),
    });
  }
}
