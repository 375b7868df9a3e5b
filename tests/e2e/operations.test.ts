// What an operator sees of a sandbox cluster: every process ready on its metrics port (the
// agents' included, on their machines' addresses), a request followed by its id through the
// api, the gateway, the engine and the agent's journal, and metrics that follow a fault (the
// leading engine killed: the other one leads).
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentLog, AGENT_METRICS_PORT, waitFor, type ClusterHandle } from "@fleet/launcher";
import { isActive, startTestCluster } from "./sandbox.js";

let cluster: ClusterHandle;

const get = async (url: string): Promise<{ status: number; text: string }> => {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
};
const base = (metricsUrl: string) => metricsUrl.replace(/\/metrics$/, "");
/** The JSON log lines of a file or text that mention `requestId`. */
const linesWith = (text: string, requestId: string) =>
  text
    .split("\n")
    .filter((l) => l.startsWith("{") && l.includes(requestId))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  cluster = await startTestCluster("ops", [{ name: "o1" }]);
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

describe("operating a sandbox cluster", () => {
  it("every component and every machine's agent is ready on its metrics port, with fleet_ series", async () => {
    const services = cluster.state.components.filter((c) => c.kind !== "etcd" && c.kind !== "nats");
    expect(services.map((c) => c.metricsUrl)).not.toContain(undefined);
    for (const c of services) {
      expect(await get(`${base(c.metricsUrl ?? "")}/readyz`), c.name).toEqual({ status: 200, text: "ready\n" });
    }
    const agent = `http://${cluster.machine("o1").publicIp}:${AGENT_METRICS_PORT}`;
    await waitFor("the agent ready", async () => (await get(`${agent}/readyz`)).status === 200, { timeoutMs: 10_000, intervalMs: 200 });
    expect((await get(`${agent}/metrics`)).text).toMatch(/^fleet_agent_registered 1$/m);
  });

  it("a request's id is logged by the api, the gateway, the engine that placed the unit and the agent that started it", async () => {
    const requestId = `e2e-ops-${process.pid}`;
    const res = await fetch(`${cluster.endpoints.apiHttp}/fleet/v1/units/traced.service`, {
      method: "PUT",
      headers: { "Content-Type": "application/json", "X-Request-Id": requestId },
      body: JSON.stringify({ desiredState: "launched", options: [{ section: "Service", name: "ExecStart", value: "/bin/sleep infinity" }] }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("x-request-id")).toBe(requestId);
    await waitFor("traced.service active", async () => (await isActive(cluster, "o1", "traced.service")) === "active", { timeoutMs: 30_000, intervalMs: 250 });
    const log = (name: string) => readFileSync(cluster.component(name).logFile, "utf8");
    expect(linesWith(log("api"), requestId).some((l) => l.msg === "unit created" || l.msg === "desired state set")).toBe(true);
    expect(linesWith(log("registry-gateway"), requestId).length).toBeGreaterThan(0);
    const engines = cluster.state.components.filter((c) => c.kind === "engine").map((c) => log(c.name));
    expect(engines.flatMap((text) => linesWith(text, requestId)).some((l) => l.msg === "scheduled unit" && l.unit === "traced.service")).toBe(true);
    await waitFor("the agent's journal to name the request", () => linesWith(agentLog(cluster.machine("o1")), requestId).some((l) => l.msg === "applying tasks"), { timeoutMs: 10_000, intervalMs: 250 });
    // Every line is JSON with the level by name and an ISO time.
    const line = linesWith(agentLog(cluster.machine("o1")), requestId)[0] ?? {};
    expect(line).toMatchObject({ level: "info", service: "agent" });
    expect(String(line.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("the agent counts its D-Bus calls; with the leading engine killed the other one leads, as its metrics say", async () => {
    const agent = `http://${cluster.machine("o1").publicIp}:${AGENT_METRICS_PORT}`;
    expect((await get(`${agent}/metrics`)).text).toMatch(/^fleet_agent_dbus_calls_total\{member="StartUnit",outcome="ok"\} [1-9]\d*$/m);
    const leader = await cluster.leaderEngine();
    if (!leader) throw new Error("no engine leads");
    const other = cluster.state.components.find((c) => c.kind === "engine" && c.name !== leader.name);
    if (!other?.metricsUrl) throw new Error("no second engine");
    expect((await get(other.metricsUrl)).text).toMatch(/^fleet_engine_leader 0$/m);
    await cluster.killComponent(leader.name, "SIGKILL");
    await waitFor(`${other.name} to lead`, async () => /^fleet_engine_leader 1$/m.test((await get(other.metricsUrl ?? "")).text), { timeoutMs: 30_000, intervalMs: 250 });
    expect(await isActive(cluster, "o1", "traced.service")).toBe("active");
  });
});
