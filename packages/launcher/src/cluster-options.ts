// What startCluster is asked for, and the checks it makes before starting anything.
import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { isComponentName } from "./component-names.js";
import { validateName, DEFAULT_BASE_DIR } from "./machine-spec.js";
import { repoRoot as defaultRepoRoot } from "./repo.js";

export interface ClusterMachineSpec {
  name: string;
  metadata?: Record<string, string>;
}

export interface ClusterOptions {
  machines: ClusterMachineSpec[];
  agentTtlSeconds?: number;
  reconcileIntervalSeconds?: number;
  /** Default /var/tmp/fleet-dev/<cluster>. Machines live in <stateDir>/<machine>. */
  stateDir?: string;
  /** Default: the state dir's base name (or "default"). Used in cgroup names. */
  cluster?: string;
  /** Processes in their own sessions, unref'd: they outlive this process (fleet-dev up). */
  detached?: boolean;
  repoRoot?: string;
  engines?: number;
  /** etcd members (default 1): named "etcd" when 1, else etcd-1..etcd-N. */
  etcdMembers?: number;
  /** registry-gateways (default 1): named "registry-gateway" when 1, else registry-gateway-1..-N.
   * Engines, the api and agents get all of them, comma separated, in FLEET_GATEWAY_ENDPOINT. */
  gateways?: number;
  /** The gateways' hint_spread_rate (their default when unset): machines a second a global unit's change wakes. */
  hintSpreadRate?: number;
  /** The api requires authentication; an admin token is made in <stateDir>/admin.token (clientEnv's FLEETCTL_TOKEN). */
  auth?: boolean;
  /** Mutual TLS between every process, with certificates made by deploy/tls/make-certs.sh in
   * <stateDir>/tls; fleetctl gets the fleet-admin client certificate (FLEETCTL_CERT_FILE). */
  tls?: boolean;
  /** Progress messages. */
  log?: (msg: string) => void;
  /** Boot + registration timeout. */
  readyTimeoutMs?: number;
  /** On failure leave processes running for inspection (default: stop them, keep logs). */
  keepOnFailure?: boolean;
}

export function defaultStateDir(cluster = "default"): string {
  return join(DEFAULT_BASE_DIR, cluster);
}

export const SERVICES = ["registry-gateway", "engine", "api", "agent"] as const;

export function serviceMain(root: string, svc: (typeof SERVICES)[number]): string {
  return join(root, "services", svc, "dist", "main.js");
}

/** The parent's environment minus FLEET_* / FLEETCTL_* (they would leak into services). */
export function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("FLEET")) env[k] = v;
  return env;
}

/** A machine name is a valid name and not one of a component (fleet-dev kill NAME would be
 * ambiguous). */
export function checkMachineName(name: string): void {
  validateName("machine", name);
  if (isComponentName(name)) throw new Error(`machine name ${name} is taken by a component (etcd[-N], nats, registry-gateway[-N], engine[-N], api): choose another`);
}

/** ClusterOptions with its defaults resolved and checked. */
export interface CheckedOptions {
  stateDir: string;
  cluster: string;
  root: string;
  etcdMembers: number;
  gatewayCount: number;
}

/** Throws on a bad name, a duplicate machine, a replica count out of 1..9 or an unbuilt
 * service, before anything is started. */
export function checkClusterOptions(o: ClusterOptions): CheckedOptions {
  const stateDir = resolve(o.stateDir ?? defaultStateDir(o.cluster));
  const cluster = o.cluster ?? basename(stateDir);
  validateName("cluster", cluster);
  const names = new Set<string>();
  for (const m of o.machines) {
    checkMachineName(m.name);
    if (names.has(m.name)) throw new Error(`duplicate machine name ${m.name}`);
    names.add(m.name);
  }
  const etcdMembers = o.etcdMembers ?? 1;
  const gatewayCount = o.gateways ?? 1;
  for (const [what, n] of [["etcdMembers", etcdMembers], ["gateways", gatewayCount]] as const) {
    if (!Number.isInteger(n) || n < 1 || n > 9) throw new Error(`${what} must be an integer 1..9, got ${n}`);
  }
  if (o.hintSpreadRate !== undefined && !(Number.isInteger(o.hintSpreadRate) && o.hintSpreadRate >= 0)) {
    throw new Error(`hintSpreadRate must be an integer of at least 0 (0: no spread), got ${o.hintSpreadRate}`);
  }
  const root = o.repoRoot ?? defaultRepoRoot();
  for (const svc of SERVICES) {
    if (!existsSync(serviceMain(root, svc))) throw new Error(`${serviceMain(root, svc)} is missing: build first (npx tsc -b tsconfig.build.json)`);
  }
  return { stateDir, cluster, root, etcdMembers, gatewayCount };
}
