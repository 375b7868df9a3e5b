// fleetctl's top level end to end against the in-memory FleetApi: dispatch, flags, help and
// exit codes. Each command group's own cases are beside it in commands/.
import { describe, expect, it } from "vitest";
import { setup } from "./fleetctl-harness.js";

describe("top level", () => {
  const UNKNOWN = {
    stdout: "",
    stderr: 'Error: unknown command "frob" for "fleetctl"\nRun \'fleetctl --help\' for usage.\ncannot execute cmdFleet: unknown command "frob" for "fleetctl"\n',
  };
  it("version", async () => {
    const { run, connections } = setup();
    expect(await run("version")).toEqual({ code: 0, stdout: "fleetctl version 0.1.0\n", stderr: "" });
    expect(await run("--version")).toEqual({ code: 0, stdout: "fleetctl version 0.1.0\n", stderr: "" });
    expect(connections).toEqual([]);
  });

  it("help lists every command", async () => {
    const { run } = setup();
    for (const argv of [[], ["help"], ["--help"], ["-h"]]) {
      const result = await run(...argv);
      expect(result.code).toBe(0);
      for (const name of ["cat", "destroy", "list-machines", "list-unit-files", "list-units", "load", "start", "stop", "submit", "unload"]) {
        expect(result.stdout).toMatch(new RegExp(`^\\t${name}\\t`, "m"));
      }
    }
  });

  it("help for a command shows its flags", async () => {
    const { run } = setup();
    for (const argv of [["help", "start"], ["start", "--help"]]) {
      const result = await run(...argv);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("\tfleetctl start [--no-block|--block-attempts=N] UNIT...\n");
      expect(result.stdout).toContain("      --block-attempts int  Wait until the units are launched");
      expect(result.stdout).toContain("      --no-block            Do not wait");
    }
    const unknown = await run("help", "frob");
    expect(unknown).toMatchObject({ code: 1, stderr: "Unknown help topic [`frob`]." });
    expect(unknown.stdout).toMatch(/^NAME:\n\tfleetctl - /);
  });

  it("unknown commands and flags exit 2", async () => {
    const { run } = setup();
    expect(await run("frob")).toEqual({ code: 2, ...UNKNOWN });
    const flag = await run("list-units", "--frob");
    expect(flag).toMatchObject({ code: 2, stderr: "Error: unknown flag: --frob\n\ncannot execute cmdFleet: unknown flag: --frob\n" });
    // cobra printed the command's usage on stdout.
    expect(flag.stdout).toMatch(/^NAME:\n\tlist-units - /);
  });

  it("connects to the default endpoint with fleet's 3 s request timeout", async () => {
    const { run, connections } = setup();
    await run("list-machines");
    expect(connections.map((c) => [c.endpoint, c.timeoutMs])).toEqual([[{ kind: "grpc", address: "127.0.0.1:49500" }, 3000]]);
  });

  it("takes the endpoint and timeout from flags or FLEETCTL_ variables", async () => {
    const fromEnv = setup({ env: { FLEETCTL_ENDPOINT: "http://10.0.0.9:49500", FLEETCTL_REQUEST_TIMEOUT: "0.5" } });
    await fromEnv.run("list-machines");
    expect(fromEnv.connections.map((c) => [c.endpoint, c.timeoutMs])).toEqual([[{ kind: "http", url: "http://10.0.0.9:49500" }, 500]]);
    const fromFlags = setup({ env: { FLEETCTL_ENDPOINT: "ignored:1" } });
    await fromFlags.run("--endpoint", "unix:///run/fleet/api.sock", "list-machines", "--request-timeout=10");
    expect(fromFlags.connections.map((c) => [c.endpoint, c.timeoutMs])).toEqual([[{ kind: "http-unix", socketPath: "/run/fleet/api.sock" }, 10_000]]);
  });

  it("accepts fleet's ssh and etcd flags", async () => {
    const { run } = setup();
    expect((await run("--strict-host-key-checking=false", "--driver=etcd", "--etcd-key-prefix=/x/", "list-machines", "--no-legend")).stderr).toBe("");
  });

  it("--tunnel (or FLEETCTL_TUNNEL) reaches the endpoint through an ssh port forward, closed at the end", async () => {
    const { run, connections, tunnels } = setup({ env: { FLEETCTL_TUNNEL: "10.0.0.1" } });
    expect((await run("--endpoint", "unix:///var/run/fleet.sock", "list-machines", "--no-legend")).code).toBe(0);
    expect(tunnels).toEqual([{ tunnel: "10.0.0.1", target: "/var/run/fleet.sock", closed: true }]);
    expect(connections.map((c) => c.endpoint)).toEqual([{ kind: "http", url: "http://127.0.0.1:4000" }]);
  });

  it("passes --ca-file, --cert-file and --key-file to the client", async () => {
    const { run, connections } = setup();
    await run("--endpoint=https://fleet.example", "--ca-file=/ca.pem", "--cert-file=/c.pem", "--key-file=/k.pem", "list-units");
    expect(connections[0]?.options.tls).toEqual({ caFile: "/ca.pem", certFile: "/c.pem", keyFile: "/k.pem" });
  });

  it("refuses an endpoint it cannot read", async () => {
    const { run } = setup();
    expect(await run("--endpoint=unix://relative.sock", "list-units")).toEqual({
      code: 1,
      stdout: "",
      stderr: 'Unable to initialize client: invalid endpoint "unix://relative.sock": expected unix:///absolute/path\n',
    });
  });

  it("rejects a non-positive request timeout", async () => {
    const { run } = setup();
    expect(await run("--request-timeout=0", "list-units")).toEqual({
      code: 2,
      stdout: "",
      stderr: "invalid --request-timeout 0: must be a positive number of seconds\n",
    });
  });
});
