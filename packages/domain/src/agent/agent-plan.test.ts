import { describe, expect, it } from "vitest";
import { planAgentTasks, planTasks, unrunnableUnitReason, type AgentTask, type DesiredUnit, type ObservedUnit } from "./agent-plan.js";

const file = "[Service]\nExecStart=/bin/sleep infinity\n";
const want = (name: string, desiredState: "loaded" | "launched", contents = file): DesiredUnit => ({ name, contents, desiredState });
const have = (name: string, reached: ObservedUnit["reached"], activeState: string, contents: string | undefined = file): ObservedUnit => ({
  name,
  contents,
  reached,
  activeState,
});

const installable = "[Service]\nExecStart=/bin/sleep infinity\n\n[Install]\nWantedBy=multi-user.target\n";

const cases: Array<{ name: string; desired: DesiredUnit[]; observed: ObservedUnit[]; want: string[] }> = [
  { name: "converged machine: nothing to do", desired: [want("a.service", "launched")], observed: [have("a.service", "launched", "active")], want: [] },
  { name: "nothing anywhere: nothing to do", desired: [], observed: [], want: [] },
  {
    name: "new launched unit: write, link, start (systemd loads new files on demand: no reload)",
    desired: [want("a.service", "launched")],
    observed: [],
    want: ["write-file a.service", "link a.service", "start a.service"],
  },
  {
    name: "new loaded unit: write, link, no start",
    desired: [want("a.service", "loaded")],
    observed: [],
    want: ["write-file a.service", "link a.service"],
  },
  {
    name: "loaded -> launched: start, after asking systemd whether its copy of the file is stale",
    desired: [want("a.service", "launched")],
    observed: [have("a.service", "loaded", "inactive")],
    want: ["reload-if-stale a.service", "start a.service"],
  },
  {
    name: "found on disk, not running (an agent died between writing the new file and reloading): started only after the stale check",
    desired: [want("a.service", "launched"), want("b.service", "launched")],
    observed: [have("a.service", "loaded", "inactive"), have("b.service", "loaded", "failed")],
    want: ["reload-if-stale a.service,b.service", "start a.service", "start b.service"],
  },
  {
    name: "a reload planned anyway: no stale check",
    desired: [want("a.service", "launched"), want("b.service", "launched", "[Service]\nExecStart=/bin/true\n")],
    observed: [have("a.service", "loaded", "inactive"), have("b.service", "loaded", "inactive")],
    want: ["write-file b.service", "daemon-reload", "start a.service", "start b.service"],
  },
  { name: "launched -> loaded: stop only", desired: [want("a.service", "loaded")], observed: [have("a.service", "launched", "active")], want: ["stop a.service"] },
  {
    name: "unscheduled running unit: stop, unlink, remove, reload",
    desired: [],
    observed: [have("a.service", "launched", "active")],
    want: ["stop a.service", "unlink a.service", "remove-file a.service", "daemon-reload"],
  },
  {
    name: "unscheduled failed unit is reset after removal",
    desired: [],
    observed: [have("a.service", "launched", "failed")],
    want: ["stop a.service", "unlink a.service", "remove-file a.service", "daemon-reload", "reset-failed a.service"],
  },
  {
    name: "changed file of a running unit: stop, rewrite, reload, start",
    desired: [want("a.service", "launched", "[Service]\nExecStart=/bin/true\n")],
    observed: [have("a.service", "launched", "active")],
    want: ["stop a.service", "write-file a.service", "daemon-reload", "start a.service"],
  },
  {
    name: "a launched unit that exited is not restarted by fleet (systemd's Restart= decides)",
    desired: [want("a.service", "launched")],
    observed: [have("a.service", "launched", "failed")],
    want: [],
  },
  {
    name: "adopted running unit (agent restarted): nothing to do",
    desired: [want("a.service", "launched")],
    observed: [have("a.service", "launched", "active")],
    want: [],
  },
  {
    name: "several units: stops first, one reload, starts last",
    desired: [want("b.service", "launched"), want("c.service", "launched")],
    observed: [have("a.service", "launched", "active")],
    want: [
      "stop a.service",
      "unlink a.service",
      "remove-file a.service",
      "write-file b.service",
      "write-file c.service",
      "link b.service",
      "link c.service",
      "daemon-reload",
      "start b.service",
      "start c.service",
    ],
  },
  {
    name: "a new unit with an [Install] section is enabled at runtime when loaded",
    desired: [want("a.service", "loaded", installable)],
    observed: [],
    want: ["write-file a.service", "link a.service", "enable a.service"],
  },
  {
    name: "replaced unit (new contents) that is loaded: rewrite and reload, no start",
    desired: [want("a.service", "loaded", "[Service]\nExecStart=/bin/true\n")],
    observed: [have("a.service", "loaded", "inactive")],
    want: ["write-file a.service", "daemon-reload"],
  },
  {
    name: "replaced unit that is to run but is not running (stopped, or the agent died before it started it): rewrite, reload, start",
    desired: [want("a.service", "launched", "[Service]\nExecStart=/bin/true\n")],
    observed: [have("a.service", "loaded", "inactive")],
    want: ["write-file a.service", "daemon-reload", "start a.service"],
  },
  {
    name: "replaced unit whose process had exited: rewritten and started again with the new contents",
    desired: [want("a.service", "launched", "[Service]\nExecStart=/bin/true\n")],
    observed: [have("a.service", "launched", "failed")],
    want: ["stop a.service", "write-file a.service", "daemon-reload", "start a.service"],
  },
  {
    name: "replaced unit now loaded (desired state changed with the contents): stop, rewrite, reload",
    desired: [want("a.service", "loaded", "[Service]\nExecStart=/bin/true\n")],
    observed: [have("a.service", "launched", "active")],
    want: ["stop a.service", "write-file a.service", "daemon-reload"],
  },
  {
    name: "replaced unit whose old file had an [Install] section: disabled before the rewrite, the new one enabled",
    desired: [want("a.service", "launched", installable.replace("infinity", "1000"))],
    observed: [have("a.service", "launched", "active", installable)],
    want: ["stop a.service", "disable a.service", "write-file a.service", "daemon-reload", "enable a.service", "start a.service"],
  },
  {
    name: "replaced unit that drops its [Install] section: disabled, not enabled again",
    desired: [want("a.service", "launched")],
    observed: [have("a.service", "launched", "active", installable)],
    want: ["stop a.service", "disable a.service", "write-file a.service", "daemon-reload", "start a.service"],
  },
  {
    name: "the same contents again (a replace with equal options): nothing to do",
    desired: [want("a.service", "launched", installable)],
    observed: [have("a.service", "launched", "active", installable)],
    want: [],
  },
  {
    name: "an enabled unit is disabled before it is unlinked",
    desired: [],
    observed: [have("a.service", "loaded", "inactive", installable)],
    want: ["disable a.service", "unlink a.service", "remove-file a.service", "daemon-reload"],
  },
];

const show = (t: AgentTask): string => (t.kind === "daemon-reload" ? t.kind : t.kind === "reload-if-stale" ? `${t.kind} ${t.units.join(",")}` : `${t.kind} ${t.unit}`);

describe("planAgentTasks", () => {
  it.each(cases)("$name", ({ desired, observed, want: expected }) => {
    expect(planTasks(planAgentTasks(desired, observed)).map(show)).toEqual(expected);
  });

  it("gives the phases in the order they run, each saying how its tasks run, and only those with tasks", () => {
    const plan = planAgentTasks(
      [want("b.service", "launched", installable), want("c.service", "launched", "[Service]\nExecStart=/bin/true\n")],
      [have("a.service", "launched", "failed"), have("c.service", "launched", "active")],
    );
    expect(plan.map((p) => `${p.name}:${p.run}`)).toEqual([
      "stop:together",
      "remove:in-order",
      "write:together",
      "link:one-call",
      "reload:in-order",
      "configure:in-order",
      "start:together",
    ]);
    expect(plan.find((p) => p.name === "configure")?.tasks.map(show)).toEqual(["enable b.service", "reset-failed a.service"]);
    expect(planAgentTasks([want("a.service", "loaded")], [have("a.service", "launched", "active")]).map((p) => p.name)).toEqual(["stop"]);
  });

  it("every task says why", () => {
    for (const t of planTasks(planAgentTasks([want("b.service", "launched")], [have("a.service", "launched", "failed")]))) {
      expect(t.reason).not.toBe("");
    }
  });
});

describe("unrunnableUnitReason", () => {
  it.each([
    { name: "a.service", want: undefined },
    { name: "foo@1.service", want: undefined },
    { name: "foo@.service", want: "unit foo@.service cannot run: it is a template (missing the instance name)" },
    { name: "foo@.timer", want: "unit foo@.timer cannot run: it is a template (missing the instance name)" },
    { name: "../evil.service", want: expect.stringContaining('unit ../evil.service cannot run: invalid unit name "../evil.service"') },
    { name: "nosuffix", want: expect.stringContaining("cannot run: invalid unit name") },
  ])("$name", ({ name, want }) => {
    expect(unrunnableUnitReason(name)).toEqual(want);
  });
});
