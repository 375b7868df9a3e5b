// The agent's state, where a person or a script on the machine can read it:
// <agent_state_dir>/agent-state.json, rewritten (atomically) at every change, e.g.
//
//   {"state":"refused","since":"2024-05-01T10:00:00.000Z","machineId":"…","publicIp":"10.0.0.2",
//    "pid":812,"reason":"machine id … is already registered by another machine (10.0.0.1) …"}
//
// States: starting (not registered yet), registered, refused (another machine holds this
// machine id: the agent runs nothing and asks again every agent_ttl/2), leaving (stopping its
// units before it deregisters), left (out of the cluster), exited (stopped without leaving: a
// restart; the next agent adopts the units).
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "@fleet/wire";

export type AgentStateName = "starting" | "registered" | "refused" | "leaving" | "left" | "exited";

export const AGENT_STATE_FILE = "agent-state.json";

export interface AgentStateRecord {
  readonly state: AgentStateName;
  readonly since: string;
  readonly machineId: string;
  readonly publicIp: string;
  readonly pid: number;
  readonly reason?: string;
}

/** The file's text. Pure. */
export function agentStateText(r: AgentStateRecord): string {
  return `${JSON.stringify(r)}\n`;
}

export class AgentStateFile {
  private current: AgentStateName | undefined;
  readonly path: string;

  constructor(
    dir: string,
    private readonly identity: { machineId: string; publicIp: string },
    private readonly log: Logger,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.path = join(dir, AGENT_STATE_FILE);
  }

  get state(): AgentStateName | undefined {
    return this.current;
  }

  /** Records the state (a failure to write is logged, never thrown). */
  set(state: AgentStateName, reason?: string): void {
    this.current = state;
    const record: AgentStateRecord = { state, since: this.clock().toISOString(), ...this.identity, pid: process.pid, ...(reason ? { reason } : {}) };
    try {
      mkdirSync(join(this.path, ".."), { recursive: true });
      const tmp = `${this.path}.${process.pid}.tmp`;
      writeFileSync(tmp, agentStateText(record), { mode: 0o644 });
      renameSync(tmp, this.path);
    } catch (err) {
      this.log.warn({ path: this.path, err: (err as Error).message }, "agent state not written");
    }
  }
}
