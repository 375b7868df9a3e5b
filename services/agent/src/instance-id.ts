// This agent's instance id for one boot of its machine: a random id kept in
// <agent_state_dir>/instance (under /run by default, so a reboot starts afresh). An agent that
// restarts presents the same id and replaces its own registration at once; a second machine
// whose /etc/machine-id was copied from this one presents another, and the registry refuses it
// (see the gateway's machine-registration.ts).
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isMachineId } from "@fleet/domain";
import type { Logger } from "@fleet/wire";

export const INSTANCE_FILE = "instance";

/** An instance id has a machine id's form: 32 lowercase hex digits. */
export function isInstanceId(text: string): boolean {
  return isMachineId(text);
}

/** The instance id in `dir`, created when there is none (or it is malformed). When the file
 * cannot be written the id still serves this process; a restart then waits out agent_ttl. */
export function loadInstanceId(dir: string, log: Logger): string {
  const path = join(dir, INSTANCE_FILE);
  try {
    const text = readFileSync(path, "utf8").trim();
    if (isInstanceId(text)) return text;
  } catch {
    // none yet
  }
  const id = randomBytes(16).toString("hex");
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${id}\n`, { mode: 0o600 });
    renameSync(tmp, path);
  } catch (err) {
    log.warn({ path, err: (err as Error).message }, "instance id not saved: a restart of the agent will wait for its old lease to lapse");
  }
  return id;
}
