import { describe, expect, it } from "vitest";
import { decideShutdown, isLeaveOnStop, ownUnitFromCgroup, type LeaveOnStop, type OwnJob } from "./shutdown-intent.js";

describe("decideShutdown: a SIGTERM leaves the cluster only when systemd stops the agent", () => {
  const cases: Array<{ name: string; mode: LeaveOnStop; job: OwnJob; leave: boolean }> = [
    { name: "systemctl stop fleet-agent (a stop job): leave, as fleetd 1.0", mode: "auto", job: "stop", leave: true },
    { name: "poweroff / reboot (stop jobs for every unit): leave", mode: "auto", job: "stop", leave: true },
    { name: "systemctl restart fleet (a restart job while it stops): stay, the next agent adopts", mode: "auto", job: "restart", leave: false },
    { name: "systemctl try-restart: stay", mode: "auto", job: "try-restart", leave: false },
    { name: "systemctl reload-or-restart: stay", mode: "auto", job: "reload-or-start", leave: false },
    { name: "kill / systemctl kill (no job; Restart=always brings it back): stay", mode: "auto", job: null, leave: false },
    { name: "not a systemd unit, or systemd did not answer: stay", mode: "auto", job: undefined, leave: false },
    { name: "an odd job type (verify-active): stay", mode: "auto", job: "verify-active", leave: false },
    { name: "always: a restart leaves too (fleetd 1.0 left on every SIGTERM)", mode: "always", job: "restart", leave: true },
    { name: "always: a kill outside systemd leaves", mode: "always", job: undefined, leave: true },
    { name: "never: a stop job keeps the units", mode: "never", job: "stop", leave: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = decideShutdown(c.mode, c.job);
      expect(d.leave).toBe(c.leave);
      expect(d.why).not.toBe("");
    });
  }

  it("accepts auto, always and never only", () => {
    expect(["auto", "always", "never", "yes", ""].map(isLeaveOnStop)).toEqual([true, true, true, false, false]);
  });
});

describe("ownUnitFromCgroup", () => {
  const cases: Array<{ name: string; text: string; unit: string | undefined }> = [
    { name: "cgroup v2, a system service", text: "0::/system.slice/fleet-agent.service\n", unit: "fleet-agent.service" },
    { name: "cgroup v2, a service with delegated sub-groups", text: "0::/system.slice/fleet-agent.service/main\n", unit: "fleet-agent.service" },
    { name: "an instance of a template", text: "0::/system.slice/system-fleet.slice/fleet@a.service\n", unit: "fleet@a.service" },
    {
      name: "hybrid: the v1 name=systemd line when v2's says nothing",
      text: "12:pids:/system.slice/fleet-agent.service\n1:name=systemd:/system.slice/fleet-agent.service\n0::/\n",
      unit: "fleet-agent.service",
    },
    { name: "a login session (not a service)", text: "0::/user.slice/user-0.slice/session-3.scope\n", unit: "session-3.scope" },
    { name: "a container's cgroup namespace: nothing to see", text: "0::/\n", unit: undefined },
    { name: "empty", text: "", unit: undefined },
  ];
  for (const c of cases) it(c.name, () => expect(ownUnitFromCgroup(c.text)).toBe(c.unit));
});
