// What a SIGTERM (or SIGINT) asks of the agent: to leave the cluster, or only to exit for a
// moment. Pure.
//
// fleetd 1.0 left on every SIGTERM: it unloaded its units (stop + remove the unit file), removed
// its unit states and deleted its machine key (server.Purge), so the engine moved the units at
// once. But an agent restarted for an upgrade should keep its units running and the next agent
// adopt them (architecture rule 5). Both arrive as the same SIGTERM; what tells them apart is
// the job systemd runs for the agent's own unit while it sends the signal:
//
//   systemctl stop fleet-agent, poweroff/reboot, isolate   -> a "stop" job      -> leave
//   systemctl restart fleet (also try-restart,              -> a "restart" job   -> stay
//     reload-or-restart: they become restart jobs)
//   kill, systemctl kill, a container runtime's SIGTERM   -> no job            -> stay
//
// systemd keeps a restart job's type while it stops the unit (it becomes a start job only once
// the stop is done), so the agent, still running, reads "restart". Staying is the safe side of
// anything else: the units keep running, the lease lapses after agent_ttl unless an agent comes
// back (Restart=always brings one back after a kill), and the engine then moves them as it would
// after a crash. agent_leave_on_stop=always restores fleetd 1.0's behaviour for every signal (a
// supervisor that is not systemd, e.g. Kubernetes draining a node); never keeps the units always.

export type LeaveOnStop = "auto" | "always" | "never";

export const LEAVE_ON_STOP_VALUES: readonly LeaveOnStop[] = ["auto", "always", "never"];

export function isLeaveOnStop(value: string): value is LeaveOnStop {
  return (LEAVE_ON_STOP_VALUES as readonly string[]).includes(value);
}

/** The job systemd runs for the agent's own unit: its type ("stop", "restart", ...); null: the
 * unit has no job; undefined: not known (not run by systemd as a unit, or systemd not asked). */
export type OwnJob = string | null | undefined;

export interface ShutdownDecision {
  readonly leave: boolean;
  /** Why, for the log. */
  readonly why: string;
}

export function decideShutdown(mode: LeaveOnStop, job: OwnJob): ShutdownDecision {
  if (mode === "always") return { leave: true, why: "agent_leave_on_stop=always: every stop leaves the cluster" };
  if (mode === "never") return { leave: false, why: "agent_leave_on_stop=never: units keep running; the machine's lease lapses unless an agent comes back" };
  if (job === "stop") return { leave: true, why: "systemd is stopping the agent's unit (a stop job): the machine leaves the cluster" };
  if (job === "restart" || job === "try-restart" || job === "reload-or-start") {
    return { leave: false, why: "systemd is restarting the agent's unit: its units keep running and the next agent adopts them" };
  }
  if (job === null) {
    return { leave: false, why: "no systemd job for the agent's unit (a signal from elsewhere): units keep running; the lease lapses unless an agent comes back" };
  }
  if (job === undefined) {
    return { leave: false, why: "not known why the agent stops (not a systemd unit, or systemd did not say): units keep running; the lease lapses unless an agent comes back" };
  }
  return { leave: false, why: `systemd runs a ${job} job for the agent's unit, not a stop: units keep running` };
}

/**
 * The systemd unit a process belongs to, from its /proc/self/cgroup: the last path segment that
 * names a service or scope (cgroup v2's "0::" line, else v1's name=systemd one). Undefined when
 * none does (a process outside systemd's tree, or a cgroup namespace that hides it).
 */
export function ownUnitFromCgroup(procSelfCgroup: string): string | undefined {
  const lines = procSelfCgroup.split("\n").map((l) => l.trim());
  const v2 = (lines.find((l) => l.startsWith("0::")) ?? "").slice(3);
  const v1 = (lines.find((l) => /^\d+:name=systemd:/.test(l)) ?? "").replace(/^\d+:name=systemd:/, "");
  for (const path of [v2, v1]) {
    const unit = path
      .split("/")
      .filter((s) => /^[A-Za-z0-9:_.\\@-]+\.(service|scope)$/.test(s))
      .at(-1);
    if (unit) return unit;
  }
  return undefined;
}
