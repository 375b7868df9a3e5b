// One reconcile round of the leader: snapshot -> decideSchedule (pure) -> fenced writes.
import { decideSchedule, type ClusterSnapshot, type Placement } from "@fleet/domain";
import { FleetError, type Logger } from "@fleet/wire";
import type { Leadership, Term } from "./leadership.js";

export interface SchedulePlanner {
  snapshot(): Promise<ClusterSnapshot>;
  apply(candidateId: string, term: Term, placements: readonly Placement[]): Promise<void>;
}

export class Engine {
  constructor(
    private readonly planner: SchedulePlanner,
    private readonly leadership: Leadership,
    private readonly log: Logger,
  ) {}

  async reconcile(trigger: string): Promise<void> {
    const term = this.leadership.current();
    if (!term) return;
    const started = performance.now();
    const snapshot = await this.planner.snapshot();
    const changes = decideSchedule(snapshot);
    if (changes.length === 0) return;
    try {
      await this.planner.apply(this.leadership.candidateId, term, changes);
    } catch (err) {
      if (err instanceof FleetError && err.kind === "failed-precondition") return this.leadership.lost(err.message);
      throw err;
    }
    for (const c of changes) {
      if (c.machineId) this.log.info({ unit: c.unitName, machineId: c.machineId, reason: c.reason }, "scheduled unit");
      else if (c.reason) this.log.info({ unit: c.unitName, reason: c.reason }, "unit cannot be placed");
      else this.log.info({ unit: c.unitName }, "unscheduled unit");
    }
    this.log.debug({ trigger, changes: changes.length, ms: Math.round(performance.now() - started) }, "reconciled");
  }
}
