// One reconcile round of the leader: liveness -> decide (pure) -> liveness filter (pure) -> fenced writes.
//
//   replica caught up? ──no──▶ re-sync; no decision without a view of the cluster
//   liveness.evaluate ──▶ (a missing machine waits for a lease check: GetMachineLeases)
//   replica.decide() ──▶ filterForLiveness ──▶ write            ApplySchedule (leader's fence)
//                                          ──▶ offLost          ApplySchedule + absent_machines
//                                          ──▶ ifNotRunning     ListUnitStates, then ApplySchedule
//                                          ──▶ held             logged; a round when they may pass
//
// The decision comes from the cluster replica (the gateway's WatchCluster stream held as an
// IncrementalScheduler): it costs what changed since the last round. While the replica is not
// synced (stream down, re-syncing) the round decides nothing: a snapshot read then would show
// machines missing because the control plane had trouble, and their units would move.
import {
  describeMassLoss,
  failingLeases,
  filterForLiveness,
  isFleetError,
  placeableAtMostOnce,
  planChanges,
  type HeldChange,
  type LivenessView,
  type MachineLiveness,
  type Placement,
  type Plan,
  type UnitState,
} from "@fleet/domain";
import type { Logger } from "@fleet/wire";
import { machinesLost, placementsWritten, reconcileRounds, reconcileSeconds } from "./engine-metrics.js";
import type { Leadership, Term } from "./leadership.js";

export interface MachineLease {
  readonly machineId: string;
  readonly remainingMs: number;
  readonly grantedMs: number;
}

export interface SchedulePlanner {
  /** The newest revision this engine has heard of (its writes, hints): decisions must reflect it. */
  readonly minRevision: number;
  /**
   * Writes placements fenced by the term (and, when given, by none of `absentMachines` being
   * registered: ABORTED otherwise); resolves with the revision they committed at.
   */
  apply(candidateId: string, term: Term, placements: readonly Placement[], absentMachines?: readonly string[]): Promise<number>;
  /** The registered machines' leases: how much of their TTL is left. */
  machineLeases(): Promise<MachineLease[]>;
  /** Every machine's reported state of these units. */
  unitStates(unitNames: readonly string[]): Promise<UnitState[]>;
  /** Stores the leader's liveness report (fenced by the term), for fleetctl and the API. */
  reportStatus(candidateId: string, term: Term, status: EngineStatus): Promise<void>;
}

/** What the leader says of the machines' liveness. */
export interface EngineStatus {
  readonly massLoss: string;
  readonly heldMachines: ReadonlyArray<{ readonly machineId: string; readonly reason: string }>;
}

/** What the engine needs of its replica (ClusterReplica). */
export interface ScheduleSource {
  decide(): { plan: Plan; kept: number; tried: number } | undefined;
  wrote(changes: readonly Placement[]): void;
  /** True once the replica reflects `revision` (false: not within timeoutMs, or not synced). */
  waitFor(revision: number, timeoutMs: number): Promise<boolean>;
  resync(reason: string): void;
  readonly liveness: Pick<MachineLiveness, "evaluate" | "leasesChecked" | "heldMachines"> & LivenessView;
  now(): number;
  placedOn(unitName: string): string;
  isAtMostOnce(unitName: string): boolean;
  /** The request that last created or replaced the unit, when known (for its log lines). */
  requestOf(unitName: string): string | undefined;
}

/** How long a round waits for the stream to bring a revision a hint announced. */
export const CATCH_UP_MS = 2000;
/** How soon a round looks again at AtMostOnce units still running elsewhere, or leases it could not read. */
export const RECHECK_MS = 500;

export class Engine {
  private massLoss = "";
  private heldSummary = "";
  /** The status last stored, as JSON, and the term it was stored in. */
  private reported: { term: Term; json: string } | undefined;

  constructor(
    private readonly planner: SchedulePlanner,
    private readonly replica: ScheduleSource,
    private readonly leadership: Leadership,
    private readonly log: Logger,
    /** Asks for a round in `delayMs` (held changes that may pass then). */
    private readonly wakeIn: (delayMs: number) => void = () => undefined,
  ) {}

  async reconcile(trigger: string): Promise<void> {
    const term = this.leadership.current();
    if (!term) return;
    const timer = reconcileSeconds.startTimer();
    let result: RoundResult = "error";
    try {
      result = await this.round(trigger, term);
    } finally {
      timer();
      reconcileRounds.inc({ result });
    }
  }

  private async round(trigger: string, term: Term): Promise<RoundResult> {
    const started = performance.now();
    const wanted = this.planner.minRevision;
    const caughtUp = await this.replica.waitFor(wanted, CATCH_UP_MS);
    if (!caughtUp) {
      if (this.leadership.current() !== undefined) this.replica.resync(`replica did not reach revision ${wanted}`);
      return "behind";
    }
    if (this.leadership.current() !== term) return "lost-leadership";
    await this.evaluateLiveness(term);
    const decided = this.replica.decide();
    if (decided === undefined) return "behind";
    const now = this.replica.now();
    // The plan as the placement records ApplySchedule writes (the registry's own format).
    const filtered = filterForLiveness(planChanges(decided.plan), {
      now,
      liveness: this.replica.liveness,
      placedOn: (u) => this.replica.placedOn(u),
      isAtMostOnce: (u) => this.replica.isAtMostOnce(u),
    });
    const held: HeldChange[] = [...filtered.held];
    let retryAt = filtered.retryAt;
    const write = [...filtered.write];
    if (filtered.ifNotRunning.length > 0) {
      try {
        const states = await this.planner.unitStates(filtered.ifNotRunning.map((c) => c.unitName));
        const checked = placeableAtMostOnce(filtered.ifNotRunning, states);
        write.push(...checked.place);
        held.push(...checked.held);
        if (checked.held.length > 0) retryAt = Math.min(retryAt ?? now + RECHECK_MS, now + RECHECK_MS);
      } catch (err) {
        for (const change of filtered.ifNotRunning) held.push({ change, reason: `AtMostOnce: cannot read its states (${(err as Error).message})` });
        retryAt = Math.min(retryAt ?? now + RECHECK_MS, now + RECHECK_MS);
      }
    }
    this.logHeld(held);
    if (retryAt !== undefined) this.wakeIn(Math.max(0, retryAt - now));

    const decidedMs = performance.now() - started;
    let written = 0;
    if (write.length > 0) {
      if (!(await this.write(term, write))) return "lost-leadership";
      written += write.length;
    }
    for (const [machineId, moves] of filtered.offLost) {
      if (!(await this.write(term, moves, [machineId]))) return "lost-leadership";
      written += moves.length;
    }
    if (written === 0) return "unchanged";
    this.log.debug(
      {
        trigger,
        changes: written,
        held: held.length,
        planned: planCounts(decided.plan),
        kept: decided.kept,
        tried: decided.tried,
        decideMs: Math.round(decidedMs * 100) / 100,
        ms: Math.round(performance.now() - started),
      },
      "reconciled",
    );
    return "changed";
  }

  /** Writes one group of changes; false when this engine is no longer the leader. */
  private async write(term: Term, changes: readonly Placement[], absentMachines?: readonly string[]): Promise<boolean> {
    try {
      await this.planner.apply(this.leadership.candidateId, term, changes, absentMachines);
    } catch (err) {
      if (isFleetError(err, "failed-precondition")) {
        this.leadership.lost(err.message);
        return false;
      }
      if (absentMachines !== undefined && isFleetError(err, "aborted")) {
        // The machine registered again: its AtMostOnce units stay (the next round sees it back).
        this.log.info({ machineId: absentMachines[0], units: changes.length, reason: err.message }, "AtMostOnce units not moved: their machine is back");
        return true;
      }
      throw err;
    }
    this.replica.wrote(changes);
    for (const c of changes) {
      placementsWritten.inc({ kind: c.machineId ? "placed" : c.reason ? "unplaceable" : "unscheduled" });
      // Logged with the request that made the unit, whichever request woke the round.
      const requestId = this.replica.requestOf(c.unitName);
      const made = requestId !== undefined ? { requestId } : {};
      if (c.machineId) this.log.info({ unit: c.unitName, machineId: c.machineId, reason: c.reason, ...made }, "scheduled unit");
      else if (c.reason) this.log.info({ unit: c.unitName, reason: c.reason }, "unit not placed");
      else this.log.info({ unit: c.unitName }, "unscheduled unit");
    }
    return true;
  }

  /** Declares machines lost when the rules allow (reading the leases when a missing machine needs it). */
  private async evaluateLiveness(term: Term): Promise<void> {
    const liveness = this.replica.liveness;
    let verdict = liveness.evaluate(this.replica.now());
    if (verdict.needLeaseCheck) {
      try {
        const leases = await this.planner.machineLeases();
        liveness.leasesChecked(this.replica.now(), failingLeases(leases));
        verdict = liveness.evaluate(this.replica.now());
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, "cannot read the machines' leases; missing machines stay where they are");
        this.wakeIn(RECHECK_MS);
      }
    }
    for (const machineId of verdict.declaredLost) {
      machinesLost.inc();
      this.log.warn({ machineId }, "machine lost: its units move");
    }
    const massLoss = verdict.massLoss ? describeMassLoss(verdict.massLoss) : "";
    if (massLoss !== this.massLoss) {
      if (verdict.massLoss) this.log.warn({ machines: verdict.massLoss.affected, total: verdict.massLoss.total }, massLoss);
      else this.log.info("mass loss over: machines returned or fewer are missing");
      this.massLoss = massLoss;
    }
    if (verdict.nextAt !== undefined) this.wakeIn(Math.max(0, verdict.nextAt - this.replica.now()));
    await this.report(term, { massLoss, heldMachines: liveness.heldMachines(this.replica.now()) });
  }

  /** Stores the status when it changed (or the term did); a failure is retried next round. */
  private async report(term: Term, status: EngineStatus): Promise<void> {
    const json = JSON.stringify(status);
    if (this.reported?.term === term && this.reported.json === json) return;
    try {
      await this.planner.reportStatus(this.leadership.candidateId, term, status);
      this.reported = { term, json };
    } catch (err) {
      if (isFleetError(err, "failed-precondition")) return this.leadership.lost(err.message);
      this.log.warn({ err: (err as Error).message }, "cannot store the engine's status; retrying next round");
    }
  }

  /** Logs the held changes when what is held changes (not every round). */
  private logHeld(held: readonly HeldChange[]): void {
    const byReason = new Map<string, string[]>();
    for (const h of held) byReason.set(h.reason, [...(byReason.get(h.reason) ?? []), h.change.unitName]);
    const summary = [...byReason].map(([reason, units]) => `${reason}: ${units.length}`).join("; ");
    if (summary === this.heldSummary) return;
    this.heldSummary = summary;
    for (const [reason, units] of byReason) this.log.info({ units: units.slice(0, 20), count: units.length, reason }, "units held in place");
  }
}

/** How a reconcile round ended (fleet_engine_reconcile_rounds_total's result label). */
type RoundResult = "changed" | "unchanged" | "behind" | "lost-leadership" | "error";

function planCounts(plan: Plan): { place: number; move: number; unschedule: number; unplaceable: number } {
  return { place: plan.place.length, move: plan.move.length, unschedule: plan.unschedule.length, unplaceable: plan.unplaceable.length };
}
