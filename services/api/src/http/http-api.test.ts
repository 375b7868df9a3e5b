// Contract tests of HTTP API v1: every endpoint and each of its errors, over a real node:http
// server in this process, against the in-memory backend. Bad input must change nothing.
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { request, type Server } from "node:http";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FleetError } from "@fleet/wire";
import { parseUnitFile, unitHash, type Machine, type UnitState } from "@fleet/domain";
import { DISCOVERY_DOCUMENT } from "./discovery.js";
import { FakeFleetBackend } from "./fake-fleet-backend.js";
import type { UnitView } from "./fleet-backend.js";
import { createHttpApiServer } from "./http-server.js";
import { closeServer, listenTcp } from "./listen.js";
import { encodePageToken } from "./page-token.js";

const M1 = "113f16a7b9c34d5e8f0a1b2c3d4e5f60";
const M2 = "9a8b7c6d5e4f30211203405060708090";
const HELLO = parseUnitFile("[Unit]\nDescription=Hello\n\n[Service]\nExecStart=/bin/sleep 100\n");
const machines: Machine[] = [
  { id: M2, publicIp: "10.0.0.4", metadata: {} },
  { id: M1, publicIp: "10.0.0.3", metadata: { region: "east" } },
];

function view(name: string, over: Partial<UnitView> = {}, desiredState: UnitView["unit"]["desiredState"] = "launched"): UnitView {
  return { unit: { name, options: HELLO, hash: unitHash(HELLO), desiredState }, machineId: M1, currentState: "launched", reason: "", ...over };
}

function state(name: string, machineId: string, activeState = "active"): UnitState {
  return { name, hash: unitHash(HELLO), machineId, loadState: "loaded", activeState, subState: "running", currentState: "launched" };
}

let backend: FakeFleetBackend;
let server: Server;
let base: string;

async function start(tokenLimit = 100, maxBodyBytes?: number): Promise<void> {
  if (server) await closeServer(server);
  server = createHttpApiServer({ backend, tokenLimit, log: pino({ level: "silent" }), ...(maxBodyBytes ? { maxBodyBytes } : {}) });
  await listenTcp(server, "127.0.0.1:0");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeEach(async () => {
  backend = new FakeFleetBackend({
    units: [view("hello.service"), view("idle.service", { machineId: "", currentState: "inactive" }, "inactive")],
    states: [state("hello.service", M1), state("a.service", M2, "failed")],
    machines,
  });
  await start();
});

afterEach(async () => {
  await closeServer(server);
});

interface Reply {
  status: number;
  body: unknown;
  text: string;
  headers: Headers;
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    init.headers = { "Content-Type": "application/json", ...headers };
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  return { status: res.status, text, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

const error = (code: number, message: string) => ({ error: { code, message } });

/** A PUT with exactly this body and no Content-Type (fetch would add one). */
function rawPut(path: string, body: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: "PUT", headers: { "Content-Length": Buffer.byteLength(body) } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("GET /fleet/v1/units", () => {
  it("lists units with fleet's field names, leaving out empty fields", async () => {
    const r = await call("GET", "/fleet/v1/units");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(r.body).toEqual({
      units: [
        {
          currentState: "launched",
          desiredState: "launched",
          machineID: M1,
          name: "hello.service",
          options: [
            { name: "Description", section: "Unit", value: "Hello" },
            { name: "ExecStart", section: "Service", value: "/bin/sleep 100" },
          ],
        },
        { currentState: "inactive", desiredState: "inactive", name: "idle.service", options: expect.any(Array) },
      ],
    });
  });

  it("is an empty object without units, as fleet's omitempty", async () => {
    backend.units.clear();
    expect((await call("GET", "/fleet/v1/units")).body).toEqual({});
  });

  it("pages by token_limit with nextPageToken", async () => {
    backend.units.set("z.service", view("z.service"));
    await start(2);
    const first = await call("GET", "/fleet/v1/units");
    expect((first.body as { units: unknown[] }).units).toHaveLength(2);
    expect((first.body as { nextPageToken: string }).nextPageToken).toBe(encodePageToken({ limit: 2, page: 2 }));
    const second = await call("GET", `/fleet/v1/units?nextPageToken=${encodeURIComponent(encodePageToken({ limit: 2, page: 2 }))}`);
    expect(second.body).toEqual({ units: [expect.objectContaining({ name: "z.service" })] });
  });

  it.each([
    ["undecodable", "nextPageToken=xyz", "invalid value of nextPageToken query parameter"],
    ["of another limit", `nextPageToken=${encodePageToken({ limit: 7, page: 1 })}`, "token limit must be 100"],
    ["for page 0", `nextPageToken=${encodePageToken({ limit: 100, page: 0 })}`, "token page must be greater than zero"],
    ["given twice", "nextPageToken=ZAABAA==&nextPageToken=ZAABAA==", "too many values for page token"],
  ])("refuses a token %s with 400", async (_name, query, message) => {
    const r = await call("GET", `/fleet/v1/units?${query}`);
    expect(r.status).toBe(400);
    expect(r.body).toEqual(error(400, message));
  });
});

describe("GET /fleet/v1/units/<name>", () => {
  it("returns the unit", async () => {
    const r = await call("GET", "/fleet/v1/units/hello.service");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: "hello.service", desiredState: "launched", currentState: "launched", machineID: M1 });
  });
  it("is 404 for a unit that does not exist, or a name no unit can have", async () => {
    expect(await call("GET", "/fleet/v1/units/nope.service")).toMatchObject({ status: 404, body: error(404, "unit does not exist") });
    expect(await call("GET", "/fleet/v1/units/no-suffix")).toMatchObject({ status: 404, body: error(404, "unit does not exist") });
  });
  it("decodes escaped names", async () => {
    expect((await call("GET", "/fleet/v1/units/hello%2Eservice")).status).toBe(200);
  });
});

describe("PUT /fleet/v1/units/<name>", () => {
  const options = [{ section: "Service", name: "ExecStart", value: "/bin/true" }];

  it("creates a unit with its desired state: 201 and no body", async () => {
    const r = await call("PUT", "/fleet/v1/units/new.service", { desiredState: "launched", options });
    expect(r.status).toBe(201);
    expect(r.text).toBe("");
    expect(backend.writes).toEqual([
      { method: "replaceUnit", unit: { name: "new.service", options, hash: unitHash(options), desiredState: "launched" } },
    ]);
  });

  it("creates inactive when no desired state is given, and ignores unknown fields", async () => {
    const r = await call("PUT", "/fleet/v1/units/new.service", { name: "new.service", options, colour: 3, machineID: "x", currentState: "launched" });
    expect(r.status).toBe(201);
    expect(backend.units.get("new.service")?.unit.desiredState).toBe("inactive");
  });

  it("changes the desired state of an existing unit: 204", async () => {
    const r = await call("PUT", "/fleet/v1/units/hello.service", { desiredState: "loaded" });
    expect(r.status).toBe(204);
    expect(backend.writes).toEqual([{ method: "setUnitTargetState", name: "hello.service", state: "loaded" }]);
  });

  it("replaces an existing unit given other options, as fleet 1.0: 201, new contents and desired state, same machine", async () => {
    const r = await call("PUT", "/fleet/v1/units/hello.service", { desiredState: "loaded", options });
    expect(r.status).toBe(201);
    expect(r.text).toBe("");
    expect(backend.writes).toEqual([{ method: "replaceUnit", unit: { name: "hello.service", options, hash: unitHash(options), desiredState: "loaded" } }]);
    expect((await call("GET", "/fleet/v1/units/hello.service")).body).toMatchObject({ options: [{ section: "Service", name: "ExecStart", value: "/bin/true" }], desiredState: "loaded", machineID: M1 });
  });

  it("replaces an existing unit given other options and no desired state: 201, inactive (fleet's CreateUnit)", async () => {
    expect((await call("PUT", "/fleet/v1/units/hello.service", { options })).status).toBe(201);
    expect(backend.units.get("hello.service")?.unit).toMatchObject({ options, desiredState: "inactive" });
  });

  it("the same options with a desired state only change the state: 204", async () => {
    expect((await call("PUT", "/fleet/v1/units/hello.service", { desiredState: "loaded", options: HELLO })).status).toBe(204);
    expect(backend.writes).toEqual([{ method: "setUnitTargetState", name: "hello.service", state: "loaded" }]);
  });

  const refusals: Array<[string, string, unknown, Record<string, string>, number, string | RegExp]> = [
    ["no Content-Type", "new.service", undefined, {}, 415, "expected 1 Content-Type, got 0"],
    ["another Content-Type", "new.service", "{}", { "Content-Type": "text/plain" }, 415, "only acceptable Content-Type is application/json"],
    ["malformed JSON", "new.service", "{not json", {}, 400, /^unable to decode body: /],
    ["a list body", "new.service", "[]", {}, 400, "unable to decode body: expected a JSON object (a Unit)"],
    ["a name that is not a string", "new.service", { name: 5, options }, {}, 400, "unable to decode body: name must be a string"],
    ["options that are not a list", "new.service", { options: "x" }, {}, 400, "unable to decode body: options must be a list"],
    ["an option value that is not a string", "new.service", { options: [{ section: "Service", name: "ExecStart", value: 1 }] }, {}, 400, "unable to decode body: options[0].value must be a string"],
    ["a desired state that is not a string", "hello.service", { desiredState: true }, {}, 400, "unable to decode body: desiredState must be a string"],
    ["an unknown desired state", "hello.service", { desiredState: "running" }, {}, 400, 'invalid desiredState "running": must be inactive, loaded or launched'],
    ["a name differing from the URL", "new.service", { name: "other.service", options }, {}, 400, 'name in URL "new.service" differs from unit name in request body "other.service"'],
    ["an invalid name", "bad", { options }, {}, 400, /^invalid unit name "bad"/],
    ["a new unit without options", "new.service", { desiredState: "launched" }, {}, 409, "unit does not exist and options field empty"],
    ["an existing unit without a desired state", "hello.service", {}, {}, 409, "must provide DesiredState to update existing unit"],
    ["an existing unit given its own options and no desired state", "hello.service", { options: HELLO }, {}, 409, "must provide DesiredState to update existing unit"],
    ["launching a template", "tpl@.service", { desiredState: "launched", options }, {}, 400, 'cannot activate template "tpl@.service"'],
    [
      "conflicting [X-Fleet] options",
      "new.service",
      { options: [...options, { section: "X-Fleet", name: "Global", value: "true" }, { section: "X-Fleet", name: "Replaces", value: "a*" }] },
      {},
      400,
      "Global cannot be used with Replaces",
    ],
  ];
  it.each(refusals)("refuses %s and changes nothing", async (_name, unit, body, headers, status, message) => {
    const r = body === undefined ? await rawPut(`/fleet/v1/units/${unit}`, "{}") : await call("PUT", `/fleet/v1/units/${unit}`, body, headers);
    expect(r.status).toBe(status);
    expect(r.body).toEqual({ error: { code: status, message: typeof message === "string" ? message : expect.stringMatching(message) } });
    expect(backend.writes).toEqual([]);
  });

  it("refuses an oversized body with 413 and changes nothing", async () => {
    await start(100, 1024);
    const big = { options: [{ section: "Service", name: "ExecStart", value: "x".repeat(2000) }] };
    const r = await call("PUT", "/fleet/v1/units/big.service", big);
    expect(r.status).toBe(413);
    expect(r.body).toEqual(error(413, "request body larger than 1024 bytes"));
    expect(backend.writes).toEqual([]);
  });

  it("a unit created meanwhile is overwritten, as fleet's CreateUnit did: 201", async () => {
    const original = backend.getUnit.bind(backend);
    backend.getUnit = async (name, id) => (name === "hello.service" ? undefined : original(name, id));
    const r = await call("PUT", "/fleet/v1/units/hello.service", { options });
    expect(r.status).toBe(201);
    expect(backend.units.get("hello.service")?.unit.options).toEqual(options);
  });
});

describe("DELETE /fleet/v1/units/<name>", () => {
  it("destroys the unit: 204", async () => {
    const r = await call("DELETE", "/fleet/v1/units/hello.service");
    expect(r.status).toBe(204);
    expect(backend.writes).toEqual([{ method: "destroyUnit", name: "hello.service" }]);
  });
  it("is 404 for a unit that does not exist", async () => {
    expect(await call("DELETE", "/fleet/v1/units/nope.service")).toMatchObject({ status: 404, body: error(404, "unit does not exist") });
    expect(await call("DELETE", "/fleet/v1/units/no-suffix")).toMatchObject({ status: 404, body: error(404, "unit does not exist") });
    expect(backend.writes).toEqual([]);
  });
});

describe("GET /fleet/v1/state", () => {
  it("lists unit states with systemd's words, by unit", async () => {
    const r = await call("GET", "/fleet/v1/state");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      states: [
        { hash: unitHash(HELLO), machineID: M2, name: "a.service", systemdActiveState: "failed", systemdLoadState: "loaded", systemdSubState: "running" },
        { hash: unitHash(HELLO), machineID: M1, name: "hello.service", systemdActiveState: "active", systemdLoadState: "loaded", systemdSubState: "running" },
      ],
    });
  });
  it("filters by machineID and unitName", async () => {
    expect((await call("GET", `/fleet/v1/state?machineID=${M2}`)).body).toEqual({ states: [expect.objectContaining({ name: "a.service" })] });
    expect((await call("GET", "/fleet/v1/state?unitName=hello.service")).body).toEqual({ states: [expect.objectContaining({ machineID: M1 })] });
    expect((await call("GET", `/fleet/v1/state?unitName=hello.service&machineID=${M2}`)).body).toEqual({});
    expect((await call("GET", "/fleet/v1/state?unitName=not-a-unit")).body).toEqual({});
  });
  it("refuses a bad page token with 400", async () => {
    expect((await call("GET", "/fleet/v1/state?nextPageToken=abc")).status).toBe(400);
  });
  it("returns one unit's state, or 404", async () => {
    expect(await call("GET", "/fleet/v1/state/hello.service")).toMatchObject({ status: 200, body: { name: "hello.service", machineID: M1 } });
    expect(await call("GET", "/fleet/v1/state/idle.service")).toMatchObject({ status: 404, body: error(404, "unit state does not exist") });
  });
});

describe("/fleet/v1/machines", () => {
  it("lists machines by id, metadata left out when empty", async () => {
    expect((await call("GET", "/fleet/v1/machines")).body).toEqual({
      machines: [
        { id: M1, metadata: { region: "east" }, primaryIP: "10.0.0.3" },
        { id: M2, primaryIP: "10.0.0.4" },
      ],
    });
  });

  it("PATCH takes fleet 1.0's value shape ({\"value\": ...}, fields named in any case) and plain strings alike", async () => {
    const r = await call("PATCH", "/fleet/v1/machines", [
      { op: "add", path: `/${M1}/metadata/role`, value: { value: "web" } },
      { Op: "replace", Path: `/${M1}/metadata/region`, Value: { Value: "west" } },
      { op: "add", path: `/${M1}/metadata/disk`, value: "ssd" },
      { op: "remove", path: `/${M2}/metadata/gpu`, value: { value: "" } },
    ]);
    expect(r.status).toBe(204);
    expect(backend.writes).toEqual([
      { method: "setMachineMetadata", change: { machineId: M1, set: { role: "web", region: "west", disk: "ssd" }, remove: [] } },
      { method: "setMachineMetadata", change: { machineId: M2, set: {}, remove: ["gpu"] } },
    ]);
  });

  it("PATCH adds, replaces and removes metadata: 204, one change per machine", async () => {
    const r = await call("PATCH", "/fleet/v1/machines", [
      { op: "add", path: `/${M1}/metadata/disk`, value: "ssd" },
      { op: "replace", path: `/${M1}/metadata/region`, value: "west" },
      { op: "remove", path: `/${M2}/metadata/gpu` },
      { op: "remove", path: `/${M1}/metadata/disk` },
    ]);
    expect(r.status).toBe(204);
    expect(backend.writes).toEqual([
      { method: "setMachineMetadata", change: { machineId: M1, set: { region: "west" }, remove: ["disk"] } },
      { method: "setMachineMetadata", change: { machineId: M2, set: {}, remove: ["gpu"] } },
    ]);
    expect((await call("GET", "/fleet/v1/machines")).body).toMatchObject({ machines: [{ id: M1, metadata: { region: "west" } }, { id: M2 }] });
  });

  it.each([
    ["malformed JSON", "[{", /^unable to decode body: /],
    ["an object body", { op: "add" }, "unable to decode body: expected a JSON Patch (a list of operations)"],
    ["an unknown op", [{ op: "move", path: `/${M1}/metadata/a`, value: "b" }], "invalid op: expect add, remove, or replace"],
    ["a path outside metadata", [{ op: "add", path: `/${M1}/id`, value: "b" }], "machine metadata path invalid"],
    ["a bad key", [{ op: "add", path: `/${M1}/metadata/a b`, value: "b" }], "machine metadata path invalid"],
    ["a bad machine id", [{ op: "add", path: "/m1/metadata/a", value: "b" }], 'invalid machine id "m1": expected 32 lowercase hex digits'],
    ["add without a value", [{ op: "add", path: `/${M1}/metadata/a` }], "invalid value: add and replace require a value"],
    ["a value that is not a string", [{ op: "add", path: `/${M1}/metadata/a`, value: 3 }], 'unable to decode body: [0].value must be {"value": "..."} or a string'],
    ["an inner value that is not a string", [{ op: "add", path: `/${M1}/metadata/a`, value: { value: 3 } }], "unable to decode body: [0].value.value must be a string"],
    ["add with an empty inner value", [{ op: "add", path: `/${M1}/metadata/a`, value: { value: "" } }], "invalid value: add and replace require a value"],
    ["a value with a comma", [{ op: "add", path: `/${M1}/metadata/a`, value: "b,c" }], /^invalid value for metadata key "a"/],
    ["a value with a NUL", [{ op: "add", path: `/${M1}/metadata/a`, value: "b\u0000c" }], 'invalid value for metadata key "a": it contains the control character U+0000'],
    ["a value with an escape", [{ op: "add", path: `/${M1}/metadata/a`, value: { value: "\u001b[31m" } }], 'invalid value for metadata key "a": it contains the control character U+001B'],
    [
      "a good op followed by a bad one",
      [
        { op: "add", path: `/${M1}/metadata/a`, value: "b" },
        { op: "add", path: `/${M1}/metadata/c` },
      ],
      "invalid value: add and replace require a value",
    ],
  ])("PATCH refuses %s with 400 and changes nothing", async (_name, body, message) => {
    const r = await call("PATCH", "/fleet/v1/machines", body);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: { code: 400, message: typeof message === "string" ? message : expect.stringMatching(message) } });
    expect(backend.writes).toEqual([]);
  });

  it("PATCH refuses a value over its limit with 413 naming the limit, and changes nothing", async () => {
    const r = await call("PATCH", "/fleet/v1/machines", [{ op: "add", path: `/${M1}/metadata/a`, value: "v".repeat(1025) }]);
    expect(r.status).toBe(413);
    expect(r.body).toEqual({ error: { code: 413, message: 'the value of metadata key "a" is 1025 characters; the limit is 1024 characters (metadataValueLength)' } });
    expect(backend.writes).toEqual([]);
  });

  it("PATCH of a machine the registry never saw is 204, as fleet 1.0 (the change waits for the machine to register)", async () => {
    const unseen = "0123456789abcdef0123456789abcdef";
    expect((await call("PATCH", "/fleet/v1/machines", [{ op: "add", path: `/${unseen}/metadata/role`, value: { value: "web" } }])).status).toBe(204);
    expect(backend.writes).toEqual([{ method: "setMachineMetadata", change: { machineId: unseen, set: { role: "web" }, remove: [] } }]);
  });
});

describe("/fleet/v1/discovery", () => {
  it("serves the discovery document at /discovery and /discovery.json", async () => {
    for (const path of ["/fleet/v1/discovery", "/fleet/v1/discovery.json"]) {
      const r = await call("GET", path);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe("application/json");
      expect(r.body).toEqual(DISCOVERY_DOCUMENT);
    }
  });
  // fleet's own document (reference/README.md).
  const reference = new URL("./reference/fleet-api-v1-discovery.json", import.meta.url);
  it("is fleet's own document", () => {
    expect(DISCOVERY_DOCUMENT).toEqual(JSON.parse(readFileSync(reference, "utf8")));
  });
  it("refuses other methods with 400, as fleet", async () => {
    expect(await call("POST", "/fleet/v1/discovery", {})).toMatchObject({ status: 400, body: error(400, "only HTTP GET supported against this resource") });
  });
});

describe("methods, paths and failures", () => {
  it.each([
    ["POST", "/fleet/v1/units", "only GET supported against this resource", "GET"],
    ["PATCH", "/fleet/v1/units/hello.service", "only GET, PUT and DELETE supported against this resource", "GET, PUT, DELETE"],
    ["POST", "/fleet/v1/state", "only GET supported against this resource", "GET"],
    ["DELETE", "/fleet/v1/state/hello.service", "only GET supported against this resource", "GET"],
    ["DELETE", "/fleet/v1/machines", "only GET and PATCH supported against this resource", "GET, PATCH"],
  ])("%s %s is 405", async (method, path, message, allow) => {
    const r = await call(method, path);
    expect(r).toMatchObject({ status: 405, body: error(405, message) });
    expect(r.headers.get("allow")).toBe(allow);
    expect(backend.writes).toEqual([]);
  });

  it.each([
    ["/", 405],
    ["/fleet/v1", 405],
    ["/nope", 404],
    ["/fleet/v1/nope", 404],
    ["/fleet/v1/units/", 404],
    ["/fleet/v1/units/a/b.service", 404],
    ["/fleet/v1/machines/x", 404],
  ])("GET %s is %i with an error entity that says what there is", async (path, status) => {
    const resources = "/fleet/v1/units[/NAME], /fleet/v1/state, /fleet/v1/machines and /fleet/v1/discovery.json";
    const message = status === 404 ? `no such resource ${path}: fleet's API v1 has ${resources}` : `${path} is no resource: use one of ${resources}`;
    expect(await call("GET", path)).toMatchObject({ status, body: error(status, message) });
  });

  it("serves the same resources under /v1-alpha", async () => {
    expect((await call("GET", "/v1-alpha/units/hello.service")).status).toBe(200);
  });

  it("maps backend failures: unavailable 503, anything else 500", async () => {
    backend.failure = new FleetError("unavailable", "gateway down");
    expect(await call("GET", "/fleet/v1/units")).toMatchObject({ status: 503, body: error(503, "gateway down") });
    backend.failure = new Error("boom");
    expect(await call("GET", "/fleet/v1/machines")).toMatchObject({ status: 500, body: error(500, "boom") });
  });

  it("answers a write whose outcome is unknown with 503 and the message that says so, whatever cut it short", async () => {
    const message = "destroying unit hello.service may have been applied: no answer from the registry-gateway (127.0.0.1:49400) before the deadline";
    backend.failure = new FleetError("deadline-exceeded", message, "unknown");
    expect(await call("DELETE", "/fleet/v1/units/hello.service")).toMatchObject({ status: 503, body: error(503, message) });
    // Without that, a deadline is still a 504.
    backend.failure = new FleetError("deadline-exceeded", "Deadline exceeded");
    expect(await call("GET", "/fleet/v1/units")).toMatchObject({ status: 504 });
    backend.failure = undefined;
  });

  it("names this server and its version in a Server header on every response, as fleetd did (fleetd/<version>)", async () => {
    const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    for (const [method, path] of [["GET", "/fleet/v1/units"], ["GET", "/"], ["GET", "/bogus"], ["GET", "/fleet/v1"], ["PUT", "/fleet/v1/units/x.service"]] as const) {
      expect((await call(method, path)).headers.get("server")).toBe(`fleet-api/${version}`);
    }
  });

  it("passes the request id to the backend and echoes it", async () => {
    const r = await call("GET", "/fleet/v1/units", undefined, { "X-Request-Id": "req-42" });
    expect(r.headers.get("x-request-id")).toBe("req-42");
    expect(backend.requestIds).toContain("req-42");
    const other = await call("GET", "/fleet/v1/units");
    expect(other.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
