// The per-machine daemon as fleetd 1.0's, on sandbox machines: fleet's API on every machine's
// /var/run/fleet.sock (fleetctl with no flags), the unit answering to fleet.service, SIGHUP
// reloading the configuration, `systemctl restart fleet` keeping the units running,
// `systemctl stop fleet-agent` taking the machine out of the cluster at once with its units
// moving elsewhere (never running twice), and a machine id copied into a second machine refused
// without disturbing the first. One cluster: m1 and m2 run units (role=a), m3 none (role=b).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentLog as agentJournalText, registeredMachineIds, waitFor, type ClusterHandle } from "@fleet/launcher";
import { analyse, startSampler, stopSampler } from "./active-sampler.js";
import { fleetctl, listUnits } from "./fleetctl.js";
import { describeRunning, duplicates, runningUnits } from "./machine-units.js";
import { startTestCluster, unitWriter } from "./sandbox.js";

const AGENT_TTL_MS = 5000;
/** fleetctl inside a machine: the bound repository's (on the machines' PATH). */
const FLEETCTL = "fleetctl";
const LOOP = "ExecStart=/bin/sh -c 'while true; do sleep 1; done'\n";
const UNITS = ["web-1.service", "web-2.service", "web-3.service", "web-4.service"];
let cluster: ClusterHandle;
const units = unitWriter("daemon");
const figures: string[] = [];

const OURS = new Set([...UNITS, "amo.service"]);
/** This test's units as they run: "unit machine mainpid" lines. */
const ours = async () => describeRunning(new Map([...(await runningUnits(cluster, "*.service"))].filter(([u]) => OURS.has(u))));
const idOf = (name: string) => cluster.machine(name).machineId;
const ipOf = (name: string) => cluster.machine(name).publicIp;
const sh = (machine: string, script: string, timeoutMs = 60_000) => cluster.exec(machine, ["bash", "-c", script], { timeoutMs });
const agentLog = (machine: string) => agentJournalText(cluster.machine(machine));
const agentPid = async (machine: string) => (await sh(machine, "systemctl show -p MainPID --value fleet-agent.service")).stdout.trim();
const agentState = async (machine: string): Promise<{ state: string; reason?: string; machineId: string }> =>
  JSON.parse((await sh(machine, "cat /run/fleet/agent-state.json")).stdout) as { state: string; reason?: string; machineId: string };

/** list-machines through the api, as machine id -> public IP. */
async function machines(): Promise<Map<string, string>> {
  const r = await fleetctl(cluster.env, "list-machines", "--no-legend", "--full", "--fields=machine,ip");
  if (r.code !== 0) throw new Error(`list-machines failed: ${r.stderr}`);
  return new Map(
    r.stdout
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => l.trim().split(/\s+/) as [string, string]),
  );
}

/** The lines of the agent's log (JSON) whose msg matches, after the first `skip` lines. */
function logLines(machine: string, msg: RegExp, skip = 0): Array<Record<string, unknown>> {
  return agentLog(machine)
    .split("\n")
    .slice(skip)
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((o) => typeof o.msg === "string" && msg.test(o.msg));
}
const logLength = (machine: string) => agentLog(machine).split("\n").length - 1;

beforeAll(async () => {
  cluster = await startTestCluster("daemon", [
    { name: "m1", metadata: { role: "a" } },
    { name: "m2", metadata: { role: "a" } },
    { name: "m3", metadata: { role: "b" } },
  ]);
  const files = UNITS.map((u) => units.write(u, `[Service]\n${LOOP}\n[X-Fleet]\nMachineMetadata=role=a\n`));
  files.push(units.write("amo.service", `[Service]\n${LOOP}\n[X-Fleet]\nMachineMetadata=role=a\nAtMostOnce=true\n`));
  const r = await fleetctl(cluster.env, "start", ...files);
  expect(r.code).toBe(0);
  await waitFor(
    "every unit active on m1 or m2",
    async () => {
      const running = await runningUnits(cluster, "*.service");
      return [...UNITS, "amo.service"].every((u) => running.get(u)?.length === 1);
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
});

afterAll(async () => {
  if (figures.length > 0) console.log(figures.join("\n"));
  await cluster?.stop({ removeState: true });
});

describe("fleet's API on every machine", () => {
  it("fleetctl with no flags, run inside a machine, lists the machines (HTTP API v1 on /var/run/fleet.sock, relayed by the agent)", async () => {
    for (const m of ["m1", "m3"]) {
      const r = await cluster.exec(m, [FLEETCTL, "list-machines", "--no-legend", "--full"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const ids = r.stdout.split("\n").filter((l) => l.trim() !== "").map((l) => l.split("\t")[0]);
      expect(ids.sort()).toEqual([idOf("m1"), idOf("m2"), idOf("m3")].sort());
    }
    expect((await sh("m1", "stat -c %F:%a:%G /var/run/fleet.sock")).stdout.trim()).toBe("socket:660:fleet");
  });

  it("the same socket speaks gRPC to our fleetctl, and fleet's HTTP API v1 to any HTTP client", async () => {
    const grpc = await sh("m2", `FLEETCTL_ENDPOINT=grpc+unix:///var/run/fleet.sock ${FLEETCTL} list-units --no-legend --fields=unit`);
    expect(grpc.code).toBe(0);
    expect(grpc.stdout.split("\n").filter(Boolean).sort()).toEqual(["amo.service", ...UNITS]);
    const http = await sh(
      "m2",
      `node -e 'require("http").get({socketPath:"/var/run/fleet.sock",path:"/fleet/v1/machines"},r=>{let b="";r.on("data",d=>b+=d);r.on("end",()=>console.log(r.statusCode, JSON.parse(b).machines.length))})'`,
    );
    expect(http.stdout.trim()).toBe("200 3");
  });
});

describe("the agent's unit", () => {
  it("answers to fleet.service, and SIGHUP (systemctl reload fleet) reloads the configuration with a log line", async () => {
    expect((await sh("m3", "systemctl show -p Names --value fleet.service")).stdout.trim().split(" ").sort()).toEqual(["fleet-agent.service", "fleet.service"]);
    const skip = logLength("m3");
    const r = await sh("m3", "printf 'agent_leave_on_stop = never\\nagent_reconcile_interval = 3\\n' > /etc/fleet/fleet.conf && systemctl reload fleet");
    expect(r.code).toBe(0);
    await waitFor("the reload's log lines", () => logLines("m3", /^configuration reloaded/, skip).length > 0, { timeoutMs: 10_000, intervalMs: 100 });
    expect(logLines("m3", /^reloading configuration$/, skip)[0]).toMatchObject({ file: "/etc/fleet/fleet.conf" });
    expect(logLines("m3", /^configuration reloaded/, skip)[0]).toMatchObject({ applied: ["agent_leave_on_stop"], restartNeeded: ["agent_reconcile_interval"] });
    await sh("m3", "rm -f /etc/fleet/fleet.conf && systemctl reload fleet");
  });

  it("systemctl restart fleet keeps every unit running (same MainPID), and the machine registered", async () => {
    const before = await ours();
    const pidBefore = await agentPid("m1");
    const skip = logLength("m1");
    // Watch list-machines throughout: m1 never leaves.
    let watching = true;
    let missing = 0;
    let looks = 0;
    const watch = (async () => {
      while (watching) {
        const ids = await registeredMachineIds(cluster.state).catch(() => undefined);
        looks++;
        if (ids && !ids.has(idOf("m1"))) missing++;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const t0 = Date.now();
    const r = await sh("m1", "systemctl restart fleet");
    figures.push(`systemctl restart fleet: ${Date.now() - t0} ms`);
    expect(r.code).toBe(0);
    await waitFor("the new agent registered", async () => (await agentState("m1")).state === "registered" && (await agentPid("m1")) !== pidBefore, { timeoutMs: 15_000, intervalMs: 200 });
    await new Promise((r2) => setTimeout(r2, 2 * AGENT_TTL_MS / 3));
    watching = false;
    await watch;
    expect(missing).toBe(0);
    expect(looks).toBeGreaterThan(5);
    expect(logLines("m1", /restarting the agent's unit/, skip)).toHaveLength(1);
    expect(logLines("m1", /left the cluster/, skip)).toHaveLength(0);
    let after = await ours();
    for (let i = 0; i < 50 && !after.some((row) => row.startsWith("amo.service ")); i++) {
      await new Promise((r2) => setTimeout(r2, 200));
      after = await ours();
    }
    // Plain units keep running through a restart. The AtMostOnce unit keeps running when the new
    // agent renews the lease within the fence's delay (0.6 × agent_ttl from the old agent's last
    // renewal); on a loaded machine a slower start lets the fence stop it first, by design (it
    // must stop before the lease could lapse): then it runs again, once, on the same machine.
    const plain = (rows: string[]) => rows.filter((row) => !row.startsWith("amo.service "));
    expect(plain(after)).toEqual(plain(before));
    const amoAfter = after.filter((row) => row.startsWith("amo.service "));
    const amoBefore = before.find((row) => row.startsWith("amo.service "));
    expect(amoAfter).toHaveLength(1);
    expect(amoAfter[0]?.split(" ").slice(0, 2)).toEqual(amoBefore?.split(" ").slice(0, 2));
    figures.push(`AtMostOnce unit through the restart: ${amoAfter[0] === amoBefore ? "kept its MainPID" : "fenced and started again (the new agent renewed after the fence's delay)"}`);
  });
});

describe("a machine id copied into another machine", () => {
  it("is refused on the second machine, which says so in its log and state; the first is undisturbed and list-machines does not flap", async () => {
    const before = await ours();
    const m1Skip = logLength("m1");
    const skip = logLength("m3");
    const oldM3 = idOf("m3");
    await sh("m3", `echo ${idOf("m1")} > /etc/machine-id && systemctl restart fleet-agent`);
    await waitFor("m3's agent to be refused", async () => (await agentState("m3").catch(() => ({ state: "" }))).state === "refused", { timeoutMs: 15_000, intervalMs: 200 });
    const state = await agentState("m3");
    expect(state.machineId).toBe(idOf("m1"));
    expect(state.reason).toContain(`machine id ${idOf("m1")} is already registered by another machine (${ipOf("m1")})`);
    expect(logLines("m3", /^registration refused/, skip)).toHaveLength(1);

    // For two agent TTLs: m1's id always shows m1's address; m3's old id lapses, and nothing flaps.
    const seen = new Set<string>();
    const deadline = Date.now() + 2 * AGENT_TTL_MS;
    while (Date.now() < deadline) {
      const ms = await machines();
      seen.add(ms.get(idOf("m1")) ?? "missing");
      await new Promise((r) => setTimeout(r, 200));
    }
    expect([...seen]).toEqual([ipOf("m1")]);
    expect((await machines()).has(oldM3)).toBe(false);
    expect((await agentState("m3")).state).toBe("refused");
    // Said once: the retries meanwhile (every agent_ttl/2) are not news.
    expect(logLines("m3", /^registration refused/, skip)).toHaveLength(1);
    // m1 never lost its registration, and its units never moved or restarted.
    expect(logLines("m1", /registration lapsed|machine registered/, m1Skip)).toEqual([]);
    const after = await ours();
    expect(after).toEqual(before);
    expect(after.some((l) => l.includes(" m3 "))).toBe(false);

    // Its own id back: m3 registers again as itself.
    await sh("m3", `echo ${oldM3} > /etc/machine-id && systemctl restart fleet-agent`);
    await waitFor("m3 registered as itself again", async () => (await registeredMachineIds(cluster.state)).has(oldM3), { timeoutMs: 20_000, intervalMs: 250 });
    expect((await agentState("m3")).state).toBe("registered");
  });
});

describe("systemctl stop of the agent", () => {
  it("stops the machine's units, takes it out of list-machines at once, and its units run elsewhere exactly once", async () => {
    // The machine that runs the AtMostOnce unit leaves; the other role=a machine takes its units.
    const placed = await listUnits(cluster.env);
    const victim = placed.find((u) => u.unit === "amo.service")?.machine === idOf("m1") ? "m1" : "m2";
    const other = victim === "m1" ? "m2" : "m1";
    const onVictim = placed.filter((u) => u.machine === idOf(victim)).map((u) => u.unit);
    expect(onVictim).toContain("amo.service");
    const sampled = onVictim.find((u) => u !== "amo.service") ?? "amo.service";
    await startSampler(cluster, sampled);
    const skip = logLength(victim);
    const t0 = Date.now();
    const stop = await sh(victim, "systemctl stop fleet-agent");
    const stopMs = Date.now() - t0;
    expect(stop.code).toBe(0);
    // Gone as soon as the stop returns (the registry's machine list, then list-machines): no
    // waiting for its lease to lapse.
    expect((await registeredMachineIds(cluster.state)).has(idOf(victim))).toBe(false);
    expect((await machines()).has(idOf(victim))).toBe(false);
    // Its units are stopped there and unloaded, the agent said why.
    for (const u of onVictim) expect((await sh(victim, `systemctl is-active ${u}`)).stdout.trim()).not.toBe("active");
    expect((await sh(victim, "ls /run/fleet/units | wc -l")).stdout.trim()).toBe("0");
    expect(logLines(victim, /stop job/, skip)).toHaveLength(1);
    const left = logLines(victim, /^left the cluster/, skip)[0];
    const decided = logLines(victim, /stop job/, skip)[0];
    const phases = JSON.stringify(logLines(victim, /^tasks applied$/, skip).map((l) => l.ms));
    const timeline = `tasks ${phases}, SIGTERM decided at +${Date.parse(String(decided?.time)) - t0} ms, units unloaded in ${String(left?.unloadMs)} ms, unregistered at +${Date.parse(String(left?.time)) - t0} ms`;
    expect(left).toMatchObject({ units: onVictim.length, notUnloaded: 0, unregistered: true });
    expect((await agentState(victim)).state).toBe("left");

    // Every unit runs on the other machine now, exactly once.
    let movedMs = 0;
    await waitFor(
      `${victim}'s units active on ${other}`,
      async () => {
        const running = await runningUnits(cluster, "*.service");
        const ok = [...UNITS, "amo.service"].every((u) => running.get(u)?.length === 1 && running.get(u)?.[0]?.machine === other);
        if (ok) movedMs = Date.now() - t0;
        return ok;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const report = analyse(await stopSampler(cluster));
    expect(report.twice).toEqual([]);
    expect(duplicates(new Map([...(await runningUnits(cluster, "*.service"))].filter(([u]) => OURS.has(u))))).toEqual([]);
    figures.push(
      `systemctl stop fleet-agent on ${victim} (${onVictim.length} units, AtMostOnce among them): units stopped and machine unregistered in ${String(left?.ms)} ms, ` +
        `${timeline}, stop returned after ${stopMs} ms (machine already gone), units active on ${other} at ${movedMs} ms (agent_ttl ${AGENT_TTL_MS} ms); ${report.samples} samples of ${sampled}, never on two machines`,
    );
  });
});
