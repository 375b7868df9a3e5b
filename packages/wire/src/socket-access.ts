// Who may use a unix socket fleet serves its API on: the owner and one group (mode 0660), as
// fleetd's /var/run/fleet.sock. Anyone who can open it can do what the API allows its callers.
import { chmodSync, chownSync, readFileSync } from "node:fs";

/** The id of a group in /etc/group (undefined when absent or unreadable); a number is taken as it is. */
export function groupId(name: string, groupFile = "/etc/group"): number | undefined {
  if (/^\d+$/.test(name)) return Number(name);
  let text: string;
  try {
    text = readFileSync(groupFile, "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const [group, , gid] = line.split(":");
    if (group === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

/**
 * Gives the socket mode 0660 and, when `group` names one, that group. A group that does not
 * exist is an error when `required` (a group the operator asked for), else the socket keeps
 * the process's own group.
 */
export function restrictSocket(path: string, group: string, required: boolean): void {
  chmodSync(path, 0o660);
  if (group === "") return;
  const gid = groupId(group);
  if (gid === undefined) {
    if (required) throw new Error(`group ${JSON.stringify(group)} does not exist`);
    return;
  }
  chownSync(path, process.getuid?.() ?? 0, gid);
}
