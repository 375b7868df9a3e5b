// The ssh command lines fleetctl runs (real OpenSSH, as the user's own ssh would): to a
// machine, through --tunnel as a jump host, and the port forward that carries API requests
// through --tunnel. Pure.
//
// Host keys are checked as fleet's fleetctl checked them (its ssh/known_hosts.go): against its
// own file only (--known-hosts-file, default ~/.fleetctl/known_hosts, plain "host key" lines,
// [host]:port for ports other than 22), a changed key is refused, an unknown host is asked
// about and remembered; --strict-host-key-checking=false trusts any key and records none.
// ssh itself never asks and never writes the file (StrictHostKeyChecking=yes): it records the
// key a host offered (KnownHostsCommand), and fleetctl asks fleet's question on stderr, reads
// the answer from stdin as fleet did, adds the key and runs ssh again (ssh-log.ts,
// node-processes.ts). ssh's own messages go to a log file (-E) that fleetctl reads and tells in
// fleet's words: the remote command's output is untouched.

export interface SshSettings {
  /** --ssh-username (FLEETCTL_SSH_USERNAME); fleet's default is "core". */
  readonly username: string;
  /** --ssh-timeout in seconds. */
  readonly timeoutS: number;
  /** --strict-host-key-checking: unknown hosts are asked about and remembered; off trusts any. */
  readonly strictHostKeyChecking: boolean;
  /** --known-hosts-file; fleet's default is ~/.fleetctl/known_hosts. */
  readonly knownHostsFile: string;
  /** --tunnel host[:port] (FLEETCTL_TUNNEL): reach machines and the API through it. */
  readonly tunnel: string;
}

export interface SshTarget {
  readonly host: string;
  readonly port: number;
  readonly forwardAgent: boolean;
  /** A terminal for an interactive shell (no command). */
  readonly tty: boolean;
  /** The remote command line ("" for a shell), interpreted by the remote shell as fleet's was. */
  readonly command: string;
}

/** Where an ssh run writes what fleetctl reads afterwards: ssh's own messages (-E), and each
 * host key offered to it ("<known_hosts name> <type> <base64>" lines). */
export interface SshFiles {
  readonly log: string;
  readonly offeredKeys: string;
}

const SAFE_PATH = /^[A-Za-z0-9_./-]+$/;

/** A KnownHostsCommand that appends the key the host offers to `file` and vouches for none. */
export function recordOfferedKey(file: string): string {
  if (!SAFE_PATH.test(file)) throw new Error(`unsafe path for ssh's KnownHostsCommand: ${JSON.stringify(file)}`);
  return `/bin/sh -c 'echo "$0 $1 $2" >>"$3"' %H %t %K ${file}`;
}

/** Options every ssh (and the jump host's) gets. */
function common(s: SshSettings, files: SshFiles | undefined): string[] {
  const args = files === undefined ? [] : ["-E", files.log];
  args.push("-o", `ConnectTimeout=${Math.max(1, Math.ceil(s.timeoutS))}`);
  if (s.strictHostKeyChecking) {
    args.push(
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${s.knownHostsFile}`,
      // fleet's file only, with fleet's MD5 fingerprints in messages.
      "-o",
      "GlobalKnownHostsFile=/dev/null",
      "-o",
      "FingerprintHash=md5",
    );
    if (files !== undefined) args.push("-o", `KnownHostsCommand=${recordOfferedKey(files.offeredKeys)}`);
  } else {
    args.push("-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "GlobalKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR");
  }
  return args;
}

/** --tunnel's host and port (22 when it names none, as fleet's getTunnelFlag). */
export function splitTunnel(tunnel: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(tunnel);
  if (bracketed) return { host: bracketed[1] ?? "", port: Number(bracketed[2] ?? 22) };
  const m = /^([^:]*):(\d+)$/.exec(tunnel);
  return m ? { host: m[1] ?? "", port: Number(m[2]) } : { host: tunnel, port: 22 };
}

/** A ProxyCommand through --tunnel: an ssh with the same options (OpenSSH's -J would not pass
 * them on, and the jump host's key must be checked against the same file). */
function proxyCommand(s: SshSettings, files: SshFiles | undefined): string {
  const { host, port } = splitTunnel(s.tunnel);
  const argv = ["ssh", ...common(s, files), "-p", String(port), "-l", s.username, "-W", "[%h]:%p", host];
  // ProxyCommand expands %-tokens: a literal % in a word (a path, the jump host's own
  // KnownHostsCommand tokens) is written %%.
  return shellQuote(argv.map((w) => (w === "[%h]:%p" ? w : w.replace(/%/g, "%%"))));
}

export function sshArgv(s: SshSettings, t: SshTarget, files?: SshFiles): string[] {
  const args = ["ssh", ...common(s, files), "-p", String(t.port), "-l", s.username];
  if (t.forwardAgent) args.push("-A");
  if (s.tunnel) args.push("-o", `ProxyCommand=${proxyCommand(s, files)}`);
  args.push(t.tty ? "-t" : "-T", t.host);
  if (t.command !== "") args.push("--", t.command);
  return args;
}

/** ssh -N -L: 127.0.0.1:localPort on this side reaches `target` (host:port or socket path) via --tunnel. */
export function tunnelArgv(s: SshSettings, localPort: number, target: string, files?: SshFiles): string[] {
  const { host, port } = splitTunnel(s.tunnel);
  return ["ssh", ...common(s, files), "-N", "-o", "ExitOnForwardFailure=yes", "-p", String(port), "-l", s.username, "-L", `127.0.0.1:${localPort}:${target}`, host];
}

/** A command line as one string for the remote shell, each word quoted when it must be. */
export function shellQuote(words: readonly string[]): string {
  return words.map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`)).join(" ");
}

/** fleet's ParseFilepath for "~" and "~/...": $HOME (a "~user" path is left to ssh). */
export function expandHome(path: string, home: string | undefined): string {
  if (!home || !(path === "~" || path.startsWith("~/"))) return path;
  return `${home.replace(/\/+$/, "")}${path.slice(1)}`;
}
