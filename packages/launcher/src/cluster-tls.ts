// A sandbox cluster under mutual TLS (fleet-dev up --tls), made the way docs/security.md tells
// an operator to: deploy/tls/make-certs.sh makes a CA, the control plane's certificates and one
// per machine (common name = machine id, for the machine's address). Two client identities
// besides: fleet-dev, which the gateways count as control plane (the launcher lists machines
// through them), and fleet-admin, which fleetctl presents (the api maps it to admin when auth is on).
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { credentials, quietIpServerNameWarning, type ChannelCredentials } from "@fleet/wire";

export interface ClusterTls {
  /** Holds ca.pem, ca.key and NAME.pem / NAME.key for every identity. */
  dir: string;
}

/** The identity the launcher presents to the gateways. */
export const LAUNCHER_IDENTITY = "fleet-dev";
/** The client identity fleetctl presents (FLEETCTL_CERT_FILE). */
export const ADMIN_CLIENT_IDENTITY = "fleet-admin";
/** The gateways' control-plane identities: deploy's defaults plus the launcher's. */
export const SANDBOX_CONTROL_PLANE_IDENTITIES = ["fleet-api", "fleet-engine", "fleet-registry-gateway", LAUNCHER_IDENTITY];

/** Where a machine's agent finds its files, inside the machine. */
export const MACHINE_TLS_DIR = "/etc/fleet/tls";

function makeCerts(root: string, dir: string, args: string[]): void {
  try {
    execFileSync("sh", [join(root, "deploy/tls/make-certs.sh"), dir, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`deploy/tls/make-certs.sh ${args.join(" ")} failed${stderr ? `: ${stderr}` : ""}`);
  }
}

/** The CA, the control plane's certificates (valid for 127.0.0.1, where it listens) and the two client identities. */
export function makeClusterCertificates(root: string, dir: string): ClusterTls {
  makeCerts(root, dir, ["--hosts", "127.0.0.1", "--client", LAUNCHER_IDENTITY, "--client", ADMIN_CLIENT_IDENTITY]);
  return { dir };
}

/** A machine's certificate from the cluster's CA, copied into its filesystem at MACHINE_TLS_DIR. */
export function installMachineCertificate(root: string, tls: ClusterTls, machine: { machineId: string; publicIp: string; fsRoot: string }): void {
  makeCerts(root, tls.dir, ["--hosts", machine.publicIp, "--machine", machine.machineId, "--no-control-plane"]);
  const target = join(machine.fsRoot, MACHINE_TLS_DIR.slice(1));
  mkdirSync(target, { recursive: true, mode: 0o700 });
  copyFileSync(join(tls.dir, "ca.pem"), join(target, "ca.pem"));
  copyFileSync(join(tls.dir, `${machine.machineId}.pem`), join(target, "agent.pem"));
  copyFileSync(join(tls.dir, `${machine.machineId}.key`), join(target, "agent.key"));
}

/** The FLEET_TLS_* environment of a control-plane process with this identity. */
export function serviceTlsEnv(tls: ClusterTls, identity: string): Record<string, string> {
  return {
    FLEET_TLS_CA_FILE: join(tls.dir, "ca.pem"),
    FLEET_TLS_CERT_FILE: join(tls.dir, `${identity}.pem`),
    FLEET_TLS_KEY_FILE: join(tls.dir, `${identity}.key`),
  };
}

/** The agent's FLEET_TLS_* lines' values, inside the machine. */
export function machineTlsEnv(): Record<string, string> {
  return {
    FLEET_TLS_CA_FILE: `${MACHINE_TLS_DIR}/ca.pem`,
    FLEET_TLS_CERT_FILE: `${MACHINE_TLS_DIR}/agent.pem`,
    FLEET_TLS_KEY_FILE: `${MACHINE_TLS_DIR}/agent.key`,
  };
}

/** fleetctl's --ca-file, --cert-file and --key-file, as FLEETCTL_* variables. */
export function fleetctlTlsEnv(tls: ClusterTls): Record<string, string> {
  return {
    FLEETCTL_CA_FILE: join(tls.dir, "ca.pem"),
    FLEETCTL_CERT_FILE: join(tls.dir, `${ADMIN_CLIENT_IDENTITY}.pem`),
    FLEETCTL_KEY_FILE: join(tls.dir, `${ADMIN_CLIENT_IDENTITY}.key`),
  };
}

/** What the launcher calls the gateways with: plaintext, or its own identity under TLS. */
export function launcherCredentials(tls: ClusterTls | undefined): ChannelCredentials {
  if (!tls) return credentials.createInsecure();
  quietIpServerNameWarning();
  const file = (name: string) => readFileSync(join(tls.dir, name));
  return credentials.createSsl(file("ca.pem"), file(`${LAUNCHER_IDENTITY}.key`), file(`${LAUNCHER_IDENTITY}.pem`));
}
