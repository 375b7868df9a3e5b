// Command-line parsing for fleet-dev. Pure: argv + env in, a Command (or UsageError) out.
import { join } from "node:path";
import { DEFAULT_BASE_DIR, isComponentName, parseMetadata, validateName, type ClusterMachineSpec } from "@fleet/launcher";

export class UsageError extends Error {}

export interface Globals {
  stateDir: string;
  cluster?: string;
}

export type Command =
  | { cmd: "help" }
  | {
      cmd: "up";
      g: Globals;
      machines: ClusterMachineSpec[];
      etcdMembers: number;
      gateways: number;
      agentTtlSeconds: number;
      reconcileIntervalSeconds: number;
      timeoutSeconds: number;
      keepOnFailure: boolean;
      auth: boolean;
      tls: boolean;
    }
  | { cmd: "down"; g: Globals }
  | { cmd: "status"; g: Globals; json: boolean }
  | { cmd: "env"; g: Globals }
  | { cmd: "exec"; g: Globals; machine: string; argv: string[] }
  /** name: a machine or a component (etcd[-N], nats, registry-gateway[-N], engine-N, api). */
  | { cmd: "kill"; g: Globals; name: string }
  | { cmd: "restart"; g: Globals; name: string }
  | { cmd: "add"; g: Globals; machine: ClusterMachineSpec; timeoutSeconds: number }
  | { cmd: "replace"; g: Globals; machine: string; timeoutSeconds: number }
  | { cmd: "partition"; g: Globals; machine: string }
  | { cmd: "heal"; g: Globals; machine: string };

export const USAGE = `usage: fleet-dev <command> [options]

A local fleet cluster: etcd, NATS, registry-gateway, 2 engines, api, and systemd-nspawn
machines each running the agent under its own systemd.

commands:
  up --machines N                 start a cluster of N machines (m1..mN)
  up --machine NAME[:k=v,k=v] ... start the named machines (repeatable) with fleet metadata
                                  (not named like a component: etcd-2, api, ...)
       --etcd-members N           an N-member etcd cluster, etcd-1..etcd-N (default 1: "etcd")
       --gateways N               N registry-gateways, registry-gateway-1..-N (default 1:
                                  "registry-gateway"); engines, api and agents get all of
                                  them, comma separated, in FLEET_GATEWAY_ENDPOINT
       --agent-ttl S              agent lease TTL in seconds (default 5)
       --reconcile-interval S     engine reconcile interval in seconds (default 5)
       --timeout S                boot + registration timeout (default 120)
       --keep-on-failure          leave processes running if startup fails
       --auth                     the api requires authentication: an admin token is made
                                  and exported as FLEETCTL_TOKEN
       --tls                      mutual TLS between every process (certificates by
                                  deploy/tls/make-certs.sh in <state dir>/tls); fleetctl's
                                  client certificate is exported as FLEETCTL_CERT_FILE
     prints "export VAR=value" lines for clients (eval "$(fleet-dev up ...)"), ssh's
     among them: every machine runs sshd on its own address for user core with the cluster's
     key (SSH_AUTH_SOCK: the cluster's ssh-agent; FLEETCTL_KNOWN_HOSTS_FILE: their host keys),
     so fleetctl ssh, status, journal and --tunnel work as with fleet
  down                            heal partitions, stop everything (recorded PIDs only) and
                                  remove the state
  env                             the "export VAR=value" lines of the running cluster, as up
                                  printed them (eval "$(fleet-dev env)" in another shell)
  status [--json]                 components and machines, with PIDs, alive/dead, partitioned
  exec NAME -- CMD...             run CMD inside machine NAME (stdio and exit code pass through)
  kill NAME                       machine: SIGKILL its PID 1 ("lost power");
                                  component (etcd[-N], nats, registry-gateway[-N], engine-N,
                                  api): SIGKILL its recorded PID; waits for the exit
  restart NAME                    start NAME again: a machine boots on the same fs and
                                  machine-id (a partitioned one stays partitioned); a
                                  component gets the same command line, env, ports and data
                                  (an etcd member rejoins its cluster). NAME still running:
                                  it is SIGKILLed first (said on stderr)
  add NAME[:k=v,k=v]              add a machine to the running cluster (metadata as with up
                                  --machine), on the next free address; waits until its agent
                                  has registered. Options: --timeout S (default 120)
  replace NAME                    reinstall machine NAME: power it off, then boot a fresh
                                  filesystem with a new machine id and a new ssh host key on
                                  the same address and metadata (a new machine to fleet, and a
                                  changed host key to ssh). Options: --timeout S (default 120)
  partition NAME                  cut all traffic between machine NAME and everything else
                                  (iptables by its cgroup); it, its agent and its units keep
                                  running. Again on a partitioned machine: nothing to do
  heal NAME                       restore machine NAME's traffic (not partitioned: says so, exit 0)

global options:
  --cluster NAME                  cluster name (default "default")
  --state-dir DIR                 state dir (default $FLEET_DEV_STATE, else ${DEFAULT_BASE_DIR}/<cluster>)
`;

/** "NAME" or "NAME:k=v,k=v" -> machine spec. */
export function parseMachineSpec(text: string): ClusterMachineSpec {
  const colon = text.indexOf(":");
  const name = colon < 0 ? text : text.slice(0, colon);
  const metadata = colon < 0 ? {} : parseMetadata(text.slice(colon + 1));
  try {
    validateName("machine", name);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return { name, metadata };
}

function positiveNumber(flag: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || v === "" || !Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} needs a positive number, got ${JSON.stringify(v)}`);
  return n;
}

export function parseArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): Command {
  const args = [...argv];
  // "--" ends option parsing (exec's command follows it).
  const dd = args.indexOf("--");
  const rest = dd >= 0 ? args.slice(dd + 1) : [];
  const head = dd >= 0 ? args.slice(0, dd) : args;

  const opts = new Map<string, string[]>();
  const flags = new Set<string>();
  const positional: string[] = [];
  const takesValue = new Set(["--machines", "--machine", "--etcd-members", "--gateways", "--agent-ttl", "--reconcile-interval", "--timeout", "--state-dir", "--cluster"]);
  const boolFlags = new Set(["--json", "--keep-on-failure", "--auth", "--tls", "--help", "-h"]);
  for (let i = 0; i < head.length; i++) {
    const a = head[i]!;
    if (a.startsWith("-")) {
      const eq = a.indexOf("=");
      const key = eq > 0 ? a.slice(0, eq) : a;
      if (boolFlags.has(key)) {
        flags.add(key);
        continue;
      }
      if (!takesValue.has(key)) throw new UsageError(`unknown option ${key}`);
      const value = eq > 0 ? a.slice(eq + 1) : head[++i];
      if (value === undefined) throw new UsageError(`${key} needs a value`);
      opts.set(key, [...(opts.get(key) ?? []), value]);
    } else {
      positional.push(a);
    }
  }
  const one = (k: string): string | undefined => {
    const v = opts.get(k);
    if (v && v.length > 1) throw new UsageError(`${k} given more than once`);
    return v?.[0];
  };

  const cmd = positional.shift();
  if (!cmd || cmd === "help" || flags.has("--help") || flags.has("-h")) return { cmd: "help" };

  const cluster = one("--cluster");
  if (cluster !== undefined) {
    try {
      validateName("cluster", cluster);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const stateDir = one("--state-dir") ?? env.FLEET_DEV_STATE ?? join(DEFAULT_BASE_DIR, cluster ?? "default");
  const g: Globals = cluster !== undefined ? { stateDir, cluster } : { stateDir };

  const allowOnly = (allowed: string[]) => {
    for (const k of [...opts.keys(), ...flags]) {
      if (k !== "--state-dir" && k !== "--cluster" && !allowed.includes(k)) throw new UsageError(`${k} does not apply to ${cmd}`);
    }
  };
  const needMachine = (what = "a machine name"): string => {
    const m = positional.shift();
    if (!m) throw new UsageError(`${cmd} needs ${what}`);
    return m;
  };
  const replicas = (flag: string, max: number): number => {
    const v = one(flag);
    if (v === undefined) return 1;
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < 1 || n > max) throw new UsageError(`${flag} needs an integer 1..${max}, got ${JSON.stringify(v)}`);
    return n;
  };
  const timeout = (): number => (one("--timeout") === undefined ? 120 : positiveNumber("--timeout", one("--timeout")));
  const noMore = (extra: string[]) => {
    if (positional.length > 0 || extra.length > 0) throw new UsageError(`unexpected arguments: ${[...positional, ...extra].join(" ")}`);
  };

  switch (cmd) {
    case "up": {
      allowOnly(["--machines", "--machine", "--etcd-members", "--gateways", "--agent-ttl", "--reconcile-interval", "--timeout", "--keep-on-failure", "--auth", "--tls"]);
      noMore(rest);
      const count = one("--machines");
      const named = opts.get("--machine") ?? [];
      if (count !== undefined && named.length > 0) throw new UsageError("give either --machines N or --machine NAME..., not both");
      let machines: ClusterMachineSpec[];
      if (named.length > 0) {
        try {
          machines = named.map(parseMachineSpec);
        } catch (e) {
          throw e instanceof UsageError ? e : new UsageError((e as Error).message);
        }
        const seen = new Set<string>();
        for (const m of machines) {
          if (seen.has(m.name)) throw new UsageError(`machine ${m.name} given twice`);
          if (isComponentName(m.name)) throw new UsageError(`machine name ${m.name} is taken by a component (etcd[-N], nats, registry-gateway[-N], engine[-N], api): choose another`);
          seen.add(m.name);
        }
      } else {
        const n = count === undefined ? 1 : Number(count);
        if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--machines needs an integer 1..64, got ${JSON.stringify(count)}`);
        machines = Array.from({ length: n }, (_, i) => ({ name: `m${i + 1}`, metadata: {} }));
      }
      return {
        cmd: "up",
        g,
        machines,
        etcdMembers: replicas("--etcd-members", 9),
        gateways: replicas("--gateways", 9),
        agentTtlSeconds: one("--agent-ttl") === undefined ? 5 : positiveNumber("--agent-ttl", one("--agent-ttl")),
        reconcileIntervalSeconds: one("--reconcile-interval") === undefined ? 5 : positiveNumber("--reconcile-interval", one("--reconcile-interval")),
        timeoutSeconds: timeout(),
        keepOnFailure: flags.has("--keep-on-failure"),
        auth: flags.has("--auth"),
        tls: flags.has("--tls"),
      };
    }
    case "down":
      allowOnly([]);
      noMore(rest);
      return { cmd: "down", g };
    case "env":
      allowOnly([]);
      noMore(rest);
      return { cmd: "env", g };
    case "status":
      allowOnly(["--json"]);
      noMore(rest);
      return { cmd: "status", g, json: flags.has("--json") };
    case "exec": {
      allowOnly([]);
      const machine = needMachine();
      const argv = [...positional.splice(0), ...rest];
      if (argv.length === 0) throw new UsageError("exec needs a command: fleet-dev exec NAME -- CMD...");
      return { cmd: "exec", g, machine, argv };
    }
    case "kill":
    case "restart": {
      allowOnly([]);
      const name = needMachine("a machine or component name");
      noMore(rest);
      return { cmd, g, name };
    }
    case "add": {
      allowOnly(["--timeout"]);
      const text = needMachine("a machine: NAME or NAME:k=v,k=v");
      noMore(rest);
      let machine: ClusterMachineSpec;
      try {
        machine = parseMachineSpec(text);
      } catch (e) {
        throw e instanceof UsageError ? e : new UsageError((e as Error).message);
      }
      if (isComponentName(machine.name)) throw new UsageError(`machine name ${machine.name} is taken by a component (etcd[-N], nats, registry-gateway[-N], engine[-N], api): choose another`);
      return { cmd: "add", g, machine, timeoutSeconds: timeout() };
    }
    case "replace": {
      allowOnly(["--timeout"]);
      const machine = needMachine();
      noMore(rest);
      try {
        validateName("machine", machine);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      return { cmd: "replace", g, machine, timeoutSeconds: timeout() };
    }
    case "partition":
    case "heal": {
      allowOnly([]);
      const machine = needMachine();
      noMore(rest);
      return { cmd, g, machine };
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
  }
}
