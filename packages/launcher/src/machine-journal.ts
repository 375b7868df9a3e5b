// A sandbox machine's journal, read from the host: its /var/log/journal is in the machine's
// filesystem, so journalctl -D reads it without entering the machine (even one that is down).
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { MachineRecord } from "./machine.js";

/** Where the machine's journal files are, on the host. */
export function machineJournalDir(m: Pick<MachineRecord, "fs">): string {
  return join(m.fs, "var/log/journal");
}

/** The command that shows its agent's log on the host. */
export function agentLogCommand(m: Pick<MachineRecord, "fs">): string {
  return `journalctl -D ${machineJournalDir(m)} -u fleet-agent.service`;
}

/** Its agent's log lines (the JSON the agent writes), oldest first; "" when there are none yet. */
export function agentLog(m: Pick<MachineRecord, "fs">): string {
  try {
    return execFileSync("journalctl", ["-D", machineJournalDir(m), "-u", "fleet-agent.service", "-o", "cat", "--no-pager", "-q"], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? "";
    throw new Error(`cannot read the journal of ${m.fs}: ${stderr.trim() || (err as Error).message}`);
  }
}
