// The ssh command lines fleetctl runs (real OpenSSH, as the user's own ssh would): to a
// machine, through --tunnel as a jump host, and the port forward that carries API requests
// through --tunnel. Pure.

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

function common(s: SshSettings): string[] {
  const args = ["-o", `ConnectTimeout=${Math.max(1, Math.ceil(s.timeoutS))}`];
  if (s.strictHostKeyChecking) args.push("-o", "StrictHostKeyChecking=ask", "-o", `UserKnownHostsFile=${s.knownHostsFile}`);
  else args.push("-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR");
  return args;
}

/** host or host:port of --tunnel as user@host[:port] for -J. */
function jumpHost(s: SshSettings): string {
  return `${s.username}@${s.tunnel}`;
}

export function sshArgv(s: SshSettings, t: SshTarget): string[] {
  const args = ["ssh", ...common(s), "-p", String(t.port), "-l", s.username];
  if (t.forwardAgent) args.push("-A");
  if (s.tunnel) args.push("-J", jumpHost(s));
  args.push(t.tty ? "-t" : "-T", t.host);
  if (t.command !== "") args.push("--", t.command);
  return args;
}

/** ssh -N -L: 127.0.0.1:localPort on this side reaches `target` (host:port or socket path) via --tunnel. */
export function tunnelArgv(s: SshSettings, localPort: number, target: string): string[] {
  const [host = "", port] = splitTunnel(s.tunnel);
  return ["ssh", ...common(s), "-N", "-o", "ExitOnForwardFailure=yes", "-p", port ?? "22", "-l", s.username, "-L", `127.0.0.1:${localPort}:${target}`, host];
}

function splitTunnel(tunnel: string): [string, string | undefined] {
  const m = /^(.*):(\d+)$/.exec(tunnel);
  return m ? [m[1] ?? "", m[2]] : [tunnel, undefined];
}

/** A command line as one string for the remote shell, each word quoted when it must be. */
export function shellQuote(words: readonly string[]): string {
  return words.map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`)).join(" ");
}
