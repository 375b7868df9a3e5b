// The at-most-once fence on a real machine: a sandbox machine's own systemd stops an AtMostOnce
// unit about D = 0.6 x agent_ttl after the agent's last lease renewal when the agent is frozen
// (SIGSTOP), while a normal unit beside it keeps running; systemd refuses to start the unit
// meanwhile; once the agent runs again it renews, re-arms the fence and starts the unit again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor, type ClusterHandle } from "@fleet/launcher";
import { fleetctl } from "./fleetctl.js";
import { startTestCluster, unitWriter } from "./sandbox.js";

const AGENT_TTL_MS = 5000;
const D_MS = 0.6 * AGENT_TTL_MS;
const HEARTBEAT_MS = AGENT_TTL_MS / 3;
let cluster: ClusterHandle;
const units = unitWriter("amo");
const LOOP = "ExecStart=/bin/sh -c 'while true; do sleep 1; done'\n";

const sh = (script: string, timeoutMs = 30_000) => cluster.exec("m1", ["bash", "-c", script], { timeoutMs });
const mainPid = async (unit: string) => (await sh(`systemctl show -p MainPID --value ${unit}`)).stdout.trim();
const isActive = async (unit: string) => (await sh(`systemctl is-active ${unit}`)).stdout.trim();

beforeAll(async () => {
  cluster = await startTestCluster("amo", [{ name: "m1" }]);
  const amo = units.write("amo.service", `[Service]\n${LOOP}\n[X-Fleet]\nAtMostOnce=true\n`);
  const plain = units.write("plain.service", `[Service]\n${LOOP}`);
  const r = await fleetctl(cluster.env, "start", amo, plain);
  expect(r.stderr).toBe("");
  await waitFor("both units active", async () => (await isActive("amo.service")) === "active" && (await isActive("plain.service")) === "active", { timeoutMs: 30_000 });
});

afterAll(async () => {
  // Never leave the agent frozen.
  await sh("kill -CONT $(systemctl show -p MainPID --value fleet-agent.service)").catch(() => undefined);
  await cluster?.stop({ removeState: true });
});

describe("the at-most-once fence on a sandbox machine", () => {
  it("joins the AtMostOnce unit to the fence in the file the agent writes, and arms systemd's timer", async () => {
    const file = (await sh("cat /run/fleet/units/amo.service")).stdout;
    expect(file).toContain("AtMostOnce=true");
    expect(file).toMatch(/\[Unit\]\nPartOf=fleet-at-most-once.target\nRequisite=fleet-at-most-once.target\nAfter=fleet-at-most-once.target\n$/);
    expect((await sh("cat /run/fleet/units/plain.service")).stdout).not.toContain("fleet-at-most-once");
    expect(await isActive("fleet-at-most-once.target")).toBe("active");
    expect(await isActive("fleet-fence.timer")).toBe("active");
    // The stored unit is as the user wrote it: its hash is that of the file without the fence lines.
    const cat = await fleetctl(cluster.env, "cat", "amo.service");
    expect(cat.stdout).not.toContain("fleet-at-most-once");
  });

  const figures: number[] = [];
  for (const round of [1, 2, 3]) {
    it(`round ${round}: a frozen agent's AtMostOnce unit is stopped by systemd within D of its last renewal; the normal unit runs on; thawed, the unit runs again`, async () => {
      const plainPid = await mainPid("plain.service");
      const amoPid = await mainPid("amo.service");
      expect(amoPid).not.toBe("0");
      // Inside the machine: freeze the agent, then time how long the unit stays active.
      const r = await sh(
        [
          "agent=$(systemctl show -p MainPID --value fleet-agent.service)",
          "kill -STOP $agent",
          "s=$(date +%s%N)",
          "while systemctl -q is-active amo.service; do",
          "  [ $(( ($(date +%s%N) - s) / 1000000 )) -gt 15000 ] && break",
          "  sleep 0.02",
          "done",
          "e=$(date +%s%N)",
          "echo elapsed=$(( (e - s) / 1000000 ))",
          // From systemd's own journal: the last re-arm (timer started) to the unit stopped.
          "armed=$(journalctl -o short-monotonic --no-pager -u fleet-fence.timer | grep 'Started ' | tail -1 | sed 's/^\\[ *\\([0-9.]*\\)\\].*/\\1/')",
          "stopped=$(journalctl -o short-monotonic --no-pager -u amo.service | grep 'Stopped ' | tail -1 | sed 's/^\\[ *\\([0-9.]*\\)\\].*/\\1/')",
          "echo rearmToStopped=$(echo \"($stopped - $armed) * 1000 / 1\" | bc)",
          // While the fence is down, systemd refuses to start the unit, whoever asks.
          "systemctl start amo.service 2>/dev/null && echo manual=started || echo manual=refused",
          "echo plain=$(systemctl is-active plain.service)",
          "kill -CONT $agent",
        ].join("\n"),
      );
      const out = Object.fromEntries(
        r.stdout
          .trim()
          .split("\n")
          .map((l) => l.split("=") as [string, string]),
      );
      const elapsed = Number(out.elapsed);
      const rearmToStopped = Number(out.rearmToStopped);
      figures.push(elapsed);
      console.log(
        `round ${round}: SIGSTOP -> AtMostOnce unit inactive in ${elapsed} ms; last re-arm -> unit stopped ${rearmToStopped} ms (D = ${D_MS} ms, heartbeat every ${Math.round(HEARTBEAT_MS)} ms)`,
      );
      expect(rearmToStopped).toBeGreaterThanOrEqual(D_MS);
      expect(rearmToStopped).toBeLessThanOrEqual(D_MS + 500);
      // The last re-arm was at most one heartbeat interval before the freeze (and a retry or two).
      expect(elapsed).toBeLessThanOrEqual(D_MS + 700);
      expect(elapsed).toBeGreaterThanOrEqual(D_MS - HEARTBEAT_MS - 300);
      expect(out.manual).toBe("refused");
      expect(out.plain).toBe("active");
      expect(await mainPid("plain.service")).toBe(plainPid);

      // Thawed: the agent renews its lease, re-arms the fence and starts the unit again, here.
      await waitFor("amo.service active again", async () => (await isActive("amo.service")) === "active", { timeoutMs: 15_000, intervalMs: 100 });
      expect(await mainPid("amo.service")).not.toBe(amoPid);
      expect(await mainPid("plain.service")).toBe(plainPid);
    });
  }

  it("figures", () => {
    console.log(`SIGSTOP -> inactive (ms): ${figures.join(", ")}; D = ${D_MS} ms`);
    expect(figures).toHaveLength(3);
  });
});
