import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { clientEnv, etcdServers, gatewayEndpoints, readState, refreshState, writeState, type ClusterState } from "./state.js";

const state = (endpoints: ClusterState["endpoints"]): ClusterState => ({
  version: 1,
  cluster: "c",
  stateDir: "/var/tmp/fleet-dev/c",
  repoRoot: "/r",
  createdAt: "2026-01-01T00:00:00.000Z",
  detached: false,
  status: "up",
  agentTtlSeconds: 5,
  reconcileIntervalSeconds: 5,
  endpoints,
  components: [],
  machines: [],
});

describe("clientEnv", () => {
  it("gives every gateway and every etcd member, comma separated", () => {
    const s = state({
      api: "127.0.0.1:1",
      gateway: "127.0.0.1:2",
      gateways: ["127.0.0.1:2", "127.0.0.1:3"],
      etcd: "http://127.0.0.1:4",
      etcdServers: ["http://127.0.0.1:4", "http://127.0.0.1:5", "http://127.0.0.1:6"],
      nats: "nats://127.0.0.1:7",
    });
    expect(clientEnv(s)).toEqual({
      FLEETCTL_ENDPOINT: "127.0.0.1:1",
      FLEET_GATEWAY_ENDPOINT: "127.0.0.1:2,127.0.0.1:3",
      FLEET_NATS_SERVERS: "nats://127.0.0.1:7",
      FLEET_ETCD_SERVERS: "http://127.0.0.1:4,http://127.0.0.1:5,http://127.0.0.1:6",
      FLEET_DEV_STATE: "/var/tmp/fleet-dev/c",
    });
  });
  it("hands fleetctl the cluster's ssh: its agent, fleet's user, its known_hosts", () => {
    const s = {
      ...state({ api: "127.0.0.1:1" }),
      ssh: {
        user: "core",
        port: 22,
        keyFile: "/s/ssh/id_ed25519",
        knownHostsFile: "/s/ssh/known_hosts",
        agentSocket: "/s/ssh/agent.sock",
        agentPid: 1,
        agentStartTime: "1",
        agentLogFile: "/s/ssh/ssh-agent.log",
      },
    };
    expect(clientEnv(s)).toMatchObject({ SSH_AUTH_SOCK: "/s/ssh/agent.sock", FLEETCTL_SSH_USERNAME: "core", FLEETCTL_KNOWN_HOSTS_FILE: "/s/ssh/known_hosts" });
    expect(Object.keys(clientEnv(state({})))).not.toContain("SSH_AUTH_SOCK");
  });
  it("reads state files written before the lists existed", () => {
    const s = state({ gateway: "127.0.0.1:2", etcd: "http://127.0.0.1:4" });
    expect(gatewayEndpoints(s)).toEqual(["127.0.0.1:2"]);
    expect(etcdServers(s)).toEqual(["http://127.0.0.1:4"]);
    expect(clientEnv(s)).toMatchObject({ FLEET_GATEWAY_ENDPOINT: "127.0.0.1:2", FLEET_ETCD_SERVERS: "http://127.0.0.1:4" });
    expect(gatewayEndpoints(state({}))).toEqual([]);
  });
});

describe("refreshState", () => {
  it("takes in what another process wrote, and only that", () => {
    const dir = mkdtempSync(join(tmpdir(), "fleet-state-"));
    try {
      const mine = { ...state({ gateway: "127.0.0.1:2" }), stateDir: dir };
      writeState(mine);
      expect(refreshState(mine)).toBe(false); // the file is what this object wrote
      // This process changed its object but has not written it yet: the file must not undo that.
      mine.status = "stopping";
      expect(refreshState(mine)).toBe(false);
      expect(mine.status).toBe("stopping");
      // Another process (here: another object) writes a partition.
      const other = readState(dir)!;
      other.partitions = [{ machine: "m1", chain: "FLEET-c-m1", cgroupPath: "fleet-c-m1", ip: "127.0.1.1", appliedAt: "t" }];
      writeState(other);
      expect(refreshState(mine)).toBe(true);
      expect(mine.partitions?.map((p) => p.machine)).toEqual(["m1"]);
      expect(mine.status).toBe("up");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
