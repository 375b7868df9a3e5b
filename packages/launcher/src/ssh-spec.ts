// Pure parts of ssh on sandbox machines: the user fleetctl logs in as, sshd's config and unit,
// the account lines added to a machine's copy of the host's /etc files, known_hosts lines.
//
// Machines share the host's network namespace, so each sshd listens on its machine's own
// loopback address only (127.0.<b>.N, address-blocks.ts), never on all addresses.

/** fleetctl's default --ssh-username, as on CoreOS: `fleetctl ssh` works with no flag. */
export const SSH_USER = "core";
export const SSHD_UNIT = "sshd.service";
export const SSHD_UNIT_PATH = `etc/systemd/system/${SSHD_UNIT}`;
export const SSHD_CONFIG_PATH = "etc/ssh/sshd_config";
export const SSH_HOST_KEY_PATH = "etc/ssh/ssh_host_ed25519_key";

/** PATH of ssh sessions on a machine: fleetctl first (fleet's tunnel ran `fleetctl fd-forward`
 * on the machine, and people run fleetctl there), then the usual directories. */
export const SSH_SESSION_PATH = "/opt/fleetctl/bin:/opt/fleet/clients/fleetctl/bin:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";

export interface SshdConfig {
  /** The machine's own address (127.0.<b>.N). */
  address: string;
  port: number;
  user: string;
}

export function sshdConfigText(c: SshdConfig): string {
  return [
    "# Written by fleet-dev: key logins for one user, on this machine's own address only.",
    `ListenAddress ${c.address}:${c.port}`,
    "HostKey /etc/ssh/ssh_host_ed25519_key",
    `AllowUsers ${c.user}`,
    "PermitRootLogin no",
    "PubkeyAuthentication yes",
    "AuthorizedKeysFile .ssh/authorized_keys",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    // fleetctl --tunnel forwards to the API (TCP or fleet's unix socket) and jumps to machines.
    "AllowTcpForwarding yes",
    "AllowStreamLocalForwarding yes",
    "PrintMotd no",
    `SetEnv PATH=${SSH_SESSION_PATH}`,
    "",
  ].join("\n");
}

export function sshdUnitText(): string {
  return [
    "[Unit]",
    "Description=OpenSSH server (fleet-dev sandbox)",
    "After=network.target",
    "",
    "[Service]",
    "ExecStartPre=/usr/sbin/sshd -t",
    "ExecStart=/usr/sbin/sshd -D -e",
    "ExecReload=/bin/kill -HUP $MAINPID",
    "KillMode=process",
    "Restart=on-failure",
    "RuntimeDirectory=sshd",
    "RuntimeDirectoryMode=0755",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/** A machine's copies of the host's /etc/passwd, /etc/group and /etc/shadow. */
export interface AccountFiles {
  passwd: string;
  group: string;
  shadow: string;
}

/** Groups the ssh user joins when the machine has them: systemd-journal lets it read every
 * unit's journal (fleetctl journal runs journalctl as this user), as CoreOS's core could. */
export const SSH_USER_GROUPS = ["systemd-journal", "fleet"] as const;

const FIRST_UID = 500;

function ids(text: string, field: number): Set<number> {
  const out = new Set<number>();
  for (const line of text.split("\n")) {
    const v = Number(line.split(":")[field]);
    if (line.trim() !== "" && Number.isInteger(v)) out.add(v);
  }
  return out;
}

function names(text: string): Set<string> {
  return new Set(
    text
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => l.split(":")[0] ?? ""),
  );
}

/** /etc/group with a system group `name` (the first free gid from 450) unless it has one. */
function withSystemGroup(group: string, name: string): string {
  if (names(group).has(name)) return group;
  const taken = ids(group, 2);
  let gid = 450;
  while (taken.has(gid)) gid++;
  return `${withNewline(group)}${name}:x:${gid}:\n`;
}

function withNewline(text: string): string {
  return text === "" || text.endsWith("\n") ? text : `${text}\n`;
}

/**
 * Adds `user` (locked password, key logins only, home /home/<user>, bash) with its own group,
 * at the first uid >= 500 that is free as a uid and as a gid, and makes it a member of
 * SSH_USER_GROUPS that exist (the system group "fleet" is added first when missing). A user
 * that is already there is left as it is. Pure.
 */
export function addSshUser(given: AccountFiles, user: string): { files: AccountFiles; uid: number; gid: number } {
  // The agent gives /var/run/fleet.sock to this group: the ssh user may use it, as CoreOS's core
  // could use fleetd's socket (fleetctl --tunnel runs fd-forward on it).
  const files = { ...given, group: withSystemGroup(given.group, "fleet") };
  const existing = files.passwd.split("\n").find((l) => l.split(":")[0] === user);
  if (existing) {
    const [, , uid = "", gid = ""] = existing.split(":");
    return { files, uid: Number(uid), gid: Number(gid) };
  }
  const uids = ids(files.passwd, 2);
  const gids = ids(files.group, 2);
  let id = FIRST_UID;
  while (uids.has(id) || gids.has(id)) id++;
  if (names(files.group).has(user)) throw new Error(`group ${user} exists without a user ${user}: cannot add the ssh user`);
  const group = withNewline(files.group)
    .split("\n")
    .map((line) => {
      const parts = line.split(":");
      if (parts.length !== 4 || !(SSH_USER_GROUPS as readonly string[]).includes(parts[0] ?? "")) return line;
      const members = (parts[3] ?? "").split(",").filter((m) => m !== "");
      return [...parts.slice(0, 3), [...members, user].join(",")].join(":");
    })
    .join("\n");
  return {
    uid: id,
    gid: id,
    files: {
      passwd: `${withNewline(files.passwd)}${user}:x:${id}:${id}:fleet-dev ssh user:/home/${user}:/bin/bash\n`,
      group: `${group}${user}:x:${id}:\n`,
      // "*": no password can match, but the account is not locked ("!"), which sshd refuses.
      shadow: `${withNewline(files.shadow)}${user}:*:19000:0:99999:7:::\n`,
    },
  };
}

/** host as it is written in known_hosts: bare for port 22, [host]:port otherwise (as OpenSSH
 * and fleet's fleetctl write it). */
export function knownHostsName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** A known_hosts line for a host key: "<host> <type> <base64>" (the key's comment dropped). */
export function knownHostsLine(address: string, port: number, publicKey: string): string {
  const [type, blob] = publicKey.trim().split(/\s+/);
  if (!type || !blob) throw new Error(`not an ssh public key: ${JSON.stringify(publicKey)}`);
  return `${knownHostsName(address, port)} ${type} ${blob}\n`;
}

/** The command that removes a host's entries from a known_hosts file. */
export function forgetHostCommand(knownHostsFile: string, address: string, port: number): string {
  return `ssh-keygen -f ${knownHostsFile} -R '${knownHostsName(address, port)}'`;
}
