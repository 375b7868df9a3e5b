// fleetctl's global flags (fleet's, with its defaults where they still hold), and the ssh
// settings they make.
import type { SshSettings } from "../ssh/ssh.js";
import { boolFlag, numberFlag, stringFlag, type FlagSpec, type FlagValues } from "../commands/argv.js";

/** Where the api service listens by default (fleet's fleetctl defaulted to unix:///var/run/fleet.sock). */
export const DEFAULT_ENDPOINT = "127.0.0.1:49500";
/** fleet's default --request-timeout, in seconds. */
export const DEFAULT_REQUEST_TIMEOUT_S = 3;

const ignored = (name: string, kind: FlagSpec["kind"], def: FlagSpec["default"]): FlagSpec => ({
  name,
  kind,
  default: def,
  usage: "Accepted for compatibility with fleet's fleetctl; ignored.",
  ignored: true,
});

/** fleet's defaults for the ssh flags. */
export const DEFAULT_SSH_USERNAME = "core";
export const DEFAULT_KNOWN_HOSTS_FILE = "~/.fleetctl/known_hosts";

export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  {
    name: "endpoint",
    kind: "string",
    default: DEFAULT_ENDPOINT,
    usage: "Location of the fleet API: host:port (gRPC), or http://host:port or unix:///path (fleet's HTTP API v1).",
  },
  {
    name: "request-timeout",
    kind: "float",
    default: DEFAULT_REQUEST_TIMEOUT_S,
    usage: "Amount of time in seconds to allow a single request before considering it failed.",
  },
  { name: "debug", kind: "bool", default: false, usage: "Print out more debug information to stderr" },
  { name: "version", kind: "bool", default: false, usage: "Print the version and exit" },
  { name: "help", kind: "bool", default: false, short: "h", usage: "Print usage information and exit" },
  { name: "tunnel", kind: "string", default: "", usage: "Establish an SSH tunnel through the provided address for communication with fleet and the machines." },
  { name: "token", kind: "string", default: "", usage: "API token to present (Authorization: Bearer); also FLEETCTL_TOKEN." },
  { name: "ca-file", kind: "string", default: "", usage: "Path to the CA bundle to verify the endpoint (https:// or gRPC over TLS)." },
  { name: "cert-file", kind: "string", default: "", usage: "Path to the client certificate (https:// or gRPC over TLS)." },
  { name: "key-file", kind: "string", default: "", usage: "Path to the client key (https:// or gRPC over TLS)." },
  { name: "ssh-username", kind: "string", default: DEFAULT_SSH_USERNAME, usage: "Username to use when connecting to CoreOS instance." },
  { name: "ssh-timeout", kind: "float", default: 10, usage: "Amount of time in seconds to allow for SSH connection initialization before failing." },
  { name: "strict-host-key-checking", kind: "bool", default: true, usage: "Verify host keys presented by remote machines before initiating SSH connections." },
  { name: "known-hosts-file", kind: "string", default: DEFAULT_KNOWN_HOSTS_FILE, usage: "File used to store remote machine fingerprints. Ignored if strict host key checking is disabled." },
  ignored("driver", "string", "API"),
  ignored("etcd-key-prefix", "string", "/_coreos.com/fleet/"),
  ignored("etcd-keyfile", "string", ""),
  ignored("etcd-certfile", "string", ""),
  ignored("etcd-cafile", "string", ""),
  ignored("experimental-api", "bool", true),
];

export function sshSettings(global: FlagValues): SshSettings {
  return {
    username: stringFlag(global, "ssh-username") || DEFAULT_SSH_USERNAME,
    timeoutS: numberFlag(global, "ssh-timeout"),
    strictHostKeyChecking: boolFlag(global, "strict-host-key-checking"),
    knownHostsFile: stringFlag(global, "known-hosts-file") || DEFAULT_KNOWN_HOSTS_FILE,
    tunnel: stringFlag(global, "tunnel"),
  };
}
