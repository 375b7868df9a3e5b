// What a SIGHUP changes. fleetd 1.0 re-read its configuration on SIGHUP and restarted all of its
// components with it, keeping the API's listeners ("Reloading configuration from ...",
// "Restarting server components"). The agent re-reads fleet.conf too and applies at once what
// it can without dropping its lease or its units: the log level, the machine's metadata and
// public IP (it registers again, replacing its own registration, so the engine sees them), where
// the API socket relays to, and agent_leave_on_stop. Anything else takes a restart of the agent
// (`systemctl restart fleet`, which keeps the units running); the log line names those options.
// Note that FLEET_* environment variables are those the process started with: a reload re-reads
// only the file. Pure.
import type { AgentConfig } from "./config.js";

/** Options a reload applies to the running agent. */
export const RELOADABLE = ["verbosity", "metadata", "public_ip", "api_endpoint", "api_http_endpoint", "agent_leave_on_stop"] as const;

export interface ReloadPlan {
  /** Changed options the agent applies now. */
  readonly apply: readonly string[];
  /** Changed options that take effect only when the agent restarts. */
  readonly restartNeeded: readonly string[];
}

export function planReload(before: AgentConfig, after: AgentConfig): ReloadPlan {
  const changed = (Object.keys(after) as Array<keyof AgentConfig>).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  const live = new Set<string>(RELOADABLE);
  return { apply: changed.filter((k) => live.has(k)).sort(), restartNeeded: changed.filter((k) => !live.has(k)).sort() };
}

/** Whether the reload changes what the machine registers (its metadata or public IP). */
export function changesRegistration(plan: ReloadPlan): boolean {
  return plan.apply.includes("metadata") || plan.apply.includes("public_ip");
}
