// The HTTP API v1 adapter against a small stand-in of fleet's API server (pages of two, error
// entities, 404s): what fleetctl sees of an original fleet cluster.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { unitHash } from "@fleet/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetApi } from "./fleet-api.js";
import { httpFleetApi } from "./http-fleet-api.js";

type Entity = Record<string, unknown>;
const units = new Map<string, Entity>();
const requests: { method: string; url: string; contentType: string | undefined; body: string }[] = [];
const machines: Entity[] = [
  { id: "m1", primaryIP: "10.0.0.1", metadata: { region: "eu" } },
  { id: "m2", primaryIP: "10.0.0.2" },
  { id: "m3" },
];
const states: Entity[] = [{ name: "a.service", hash: "h", machineID: "m1", systemdLoadState: "loaded", systemdActiveState: "active", systemdSubState: "running" }];

/** fleet's pages: two items, then a token naming the next page. */
function page(key: string, all: Entity[], url: URL): Entity {
  const n = Number(url.searchParams.get("nextPageToken") ?? "0");
  const next = n + 2 < all.length ? { nextPageToken: String(n + 2) } : {};
  const items = all.slice(n, n + 2);
  return { ...(items.length ? { [key]: items } : {}), ...next };
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => resolve(text));
  });
}

let server: Server;
let api: FleetApi;

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const text = await body(req);
    requests.push({ method: req.method ?? "", url: url.pathname + url.search, contentType: req.headers["content-type"], body: text });
    const send = (status: number, entity?: Entity) => {
      if (entity) res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(entity));
      else res.writeHead(status).end();
    };
    const name = decodeURIComponent(url.pathname.replace(/^\/base\/fleet\/v1\/units\//, ""));
    if (url.pathname === "/base/fleet/v1/machines") return send(200, page("machines", machines, url));
    if (url.pathname === "/base/fleet/v1/state") {
      const unitName = url.searchParams.get("unitName");
      return send(200, page("states", unitName ? states.filter((s) => s["name"] === unitName) : states, url));
    }
    if (url.pathname === "/base/fleet/v1/units") return send(200, page("units", [...units.values()], url));
    // The api lost the gateway's answer; or the connection is cut once the request is read.
    if (name === "lost.service") return send(503, { error: { code: 503, message: "creating unit lost.service may have been applied: no answer from the registry-gateway (127.0.0.1:49400) before the deadline" } });
    if (name === "cut.service") return void req.socket.destroy();
    if (req.method === "GET") return units.has(name) ? send(200, units.get(name)) : send(404, { error: { code: 404, message: "unit does not exist" } });
    if (req.method === "DELETE") return units.delete(name) ? send(204) : send(404, { error: { code: 404, message: "unit does not exist" } });
    if (req.method === "PUT") {
      const unit = JSON.parse(text) as Entity;
      if (units.has(name)) {
        units.set(name, { ...units.get(name), desiredState: unit["desiredState"] });
        return send(204);
      }
      if (!Array.isArray(unit["options"]) || unit["options"].length === 0) return send(409, { error: { code: 409, message: "unit does not exist and options field empty" } });
      units.set(name, { ...unit, currentState: "inactive" });
      return send(201);
    }
    return send(405, { error: { code: 405, message: "" } });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  api = httpFleetApi({ kind: "http", url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/base` }, 1_000);
});

afterAll(async () => {
  api.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const options = [{ section: "Service", name: "ExecStart", value: "/bin/true" }];

describe("httpFleetApi", () => {
  it("creates a unit with PUT and fleet's JSON, and reads it back with its hash", async () => {
    await api.createUnit({ name: "a@1.service", options, hash: "x", desiredState: "inactive" });
    expect(requests.at(-1)).toEqual({
      method: "PUT",
      url: "/base/fleet/v1/units/a%401.service",
      contentType: "application/json",
      body: JSON.stringify({ name: "a@1.service", desiredState: "inactive", options }),
    });
    expect(await api.getUnit("a@1.service")).toEqual({
      unit: { name: "a@1.service", options, hash: unitHash(options), desiredState: "inactive" },
      machineId: "",
      currentState: "inactive",
      reason: "",
    });
  });

  it("changes the desired state with a PUT of the state alone", async () => {
    await api.setUnitTargetState("a@1.service", "launched");
    expect(JSON.parse(requests.at(-1)?.body ?? "")).toEqual({ name: "a@1.service", desiredState: "launched" });
    expect((await api.getUnit("a@1.service"))?.unit.desiredState).toBe("launched");
  });

  it("carries the server's error message", async () => {
    await expect(api.createUnit({ name: "x.service", options: [], hash: "", desiredState: "inactive" })).rejects.toThrow(
      "unit does not exist and options field empty (HTTP 409)",
    );
  });

  it("follows nextPageToken through every page", async () => {
    expect((await api.listMachines()).map((m) => m.id)).toEqual(["m1", "m2", "m3"]);
    expect(requests.filter((r) => r.url.startsWith("/base/fleet/v1/machines")).map((r) => r.url)).toEqual([
      "/base/fleet/v1/machines",
      "/base/fleet/v1/machines?nextPageToken=2",
    ]);
    expect(await api.listMachines()).toContainEqual({ id: "m3", publicIp: "", metadata: {} });
  });

  it("maps unit states and units", async () => {
    expect(await api.listUnitStates()).toEqual([
      { name: "a.service", hash: "h", machineId: "m1", loadState: "loaded", activeState: "active", subState: "running", currentState: "loaded" },
    ]);
    expect((await api.listUnits()).map((u) => u.unit.name)).toContain("a@1.service");
  });

  it("reads the states of a few units with fleet's unitName filter, one unit per request", async () => {
    const before = requests.length;
    expect((await api.listUnitStates(["a.service", "b.service"])).map((s) => [s.name, s.activeState])).toEqual([["a.service", "active"]]);
    expect(requests.slice(before).map((r) => r.url).sort()).toEqual(["/base/fleet/v1/state?unitName=a.service", "/base/fleet/v1/state?unitName=b.service"]);
  });

  it("maps 404 to values and offers no status or journal", async () => {
    expect(await api.getUnit("nope.service")).toBeUndefined();
    expect(await api.destroyUnit("nope.service")).toBe(false);
    expect(await api.destroyUnit("a@1.service")).toBe(true);
    expect(api.unitStatus).toBeUndefined();
    expect(api.journal).toBeUndefined();
  });

  it("says when a write may have been applied: the api said so (503), or the connection was cut after sending", async () => {
    const lost = api.createUnit({ name: "lost.service", options, hash: "", desiredState: "launched" });
    await expect(lost).rejects.toMatchObject({
      outcome: "unknown",
      message: "creating unit lost.service may have been applied: no answer from the registry-gateway (127.0.0.1:49400) before the deadline",
    });
    await expect(api.destroyUnit("cut.service")).rejects.toMatchObject({
      outcome: "unknown",
      message: expect.stringMatching(/^destroying unit cut\.service may have been applied: the connection to the api was lost before its answer \(/),
    });
  });

  it("fails on an endpoint nobody serves", async () => {
    const nobody = httpFleetApi({ kind: "http-unix", socketPath: "/nonexistent/fleet.sock" }, 500);
    await expect(nobody.listMachines()).rejects.toThrow(/ENOENT/);
    // A write that could not connect was not sent: no "may have been applied".
    await expect(nobody.destroyUnit("a.service")).rejects.toThrow(/ENOENT/);
    await expect(nobody.destroyUnit("a.service")).rejects.not.toHaveProperty("outcome");
    nobody.close();
  });
});
