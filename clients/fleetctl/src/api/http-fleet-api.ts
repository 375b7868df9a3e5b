// FleetApi over fleet's HTTP API v1 (/fleet/v1/units, /state, /machines): what fleetctl speaks
// with --endpoint http://HOST:PORT or unix:///path, to this api or to an original fleet. Lists
// follow nextPageToken; 404 on a unit is "not found", a value. Status and journal are not part
// of API v1: the commands fall back to ssh for them.
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage, type RequestOptions } from "node:http";
import { request as httpsRequest, Agent as HttpsAgent } from "node:https";
import { isTargetState, unitHash, type Machine, type TargetState, type Unit, type UnitOption, type UnitState } from "@fleet/domain";
import { FleetError, unknownOutcomeMessage } from "@fleet/wire/fleet-client";
import type { FleetApi, UnitView } from "./fleet-api.js";

export type HttpEndpoint = { readonly kind: "http"; readonly url: string } | { readonly kind: "http-unix"; readonly socketPath: string };

/** PEM contents for https endpoints (--ca-file, --cert-file, --key-file). */
export interface TlsMaterial {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

interface Reply {
  readonly status: number;
  readonly body: unknown;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (o: Obj, key: string): string => (typeof o[key] === "string" ? (o[key] as string) : "");
const state = (v: string): TargetState => (isTargetState(v) ? v : "inactive");
/** Up to this many units' states are read one unit per request; more, with one read of all states. */
const FEW_UNITS = 8;

function optionsOf(entity: Obj): UnitOption[] {
  const raw = Array.isArray(entity["options"]) ? (entity["options"] as unknown[]) : [];
  return raw.filter(isObj).map((o) => ({ section: str(o, "section"), name: str(o, "name"), value: str(o, "value") }));
}

export function unitViewFromEntity(entity: Obj): UnitView {
  const options = optionsOf(entity);
  return {
    unit: { name: str(entity, "name"), options, hash: unitHash(options), desiredState: state(str(entity, "desiredState")) },
    machineId: str(entity, "machineID"),
    currentState: state(str(entity, "currentState")),
    reason: "",
  };
}

export function unitStateFromEntity(entity: Obj): UnitState {
  return {
    name: str(entity, "name"),
    hash: str(entity, "hash"),
    machineId: str(entity, "machineID"),
    loadState: str(entity, "systemdLoadState"),
    activeState: str(entity, "systemdActiveState"),
    subState: str(entity, "systemdSubState"),
    // API v1 does not say which fleet state the agent reached; list-units does not show it.
    currentState: "loaded",
  };
}

export function machineFromEntity(entity: Obj): Machine {
  const metadata: Record<string, string> = {};
  const raw = entity["metadata"];
  if (isObj(raw)) for (const [k, v] of Object.entries(raw)) if (typeof v === "string") metadata[k] = v;
  return { id: str(entity, "id"), publicIp: str(entity, "primaryIP"), metadata };
}

function errorMessageOf(reply: Reply): string {
  const error = isObj(reply.body) && isObj(reply.body["error"]) ? reply.body["error"] : undefined;
  const message = error ? str(error, "message") : "";
  return message ? `${message} (HTTP ${reply.status})` : `HTTP ${reply.status}`;
}

/** Errors of a request that never reached the server: nothing was sent. */
const NOT_CONNECTED = new Set(["ECONNREFUSED", "ENOENT", "EACCES", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * The error of a write that failed: a 503 that says the write may have been applied (the api
 * lost its answer), or a connection lost after the request was sent, is a FleetError whose
 * outcome is unknown; anything else is what the server said.
 */
function writeFailure(what: string, failure: { reply: Reply } | { error: Error & { code?: string } }, timeoutMs: number): Error {
  if ("reply" in failure) {
    const message = errorMessageOf(failure.reply);
    if (failure.reply.status === 503 && message.includes("may have been applied")) return new FleetError("unavailable", message.replace(/ \(HTTP 503\)$/, ""), "unknown");
    return new Error(message);
  }
  const err = failure.error;
  if (err.code !== undefined && NOT_CONNECTED.has(err.code)) return err;
  const cause = err.message.startsWith("request timed out") ? `no answer from the api within ${timeoutMs} ms` : `the connection to the api was lost before its answer (${err.message})`;
  return new FleetError("unavailable", unknownOutcomeMessage(what, cause), "unknown");
}

/** A FleetApi on HTTP API v1 at `endpoint`; every request bounded by `timeoutMs`. */
export function httpFleetApi(endpoint: HttpEndpoint, timeoutMs: number, tls: TlsMaterial = {}, token = ""): FleetApi {
  const secure = endpoint.kind === "http" && endpoint.url.startsWith("https:");
  const agent = secure ? new HttpsAgent({ keepAlive: true, ...tls }) : new HttpAgent({ keepAlive: true });
  const base = endpoint.kind === "http" ? new URL(endpoint.url) : undefined;
  const prefix = `${base ? base.pathname.replace(/\/+$/, "") : ""}/fleet/v1`;

  const send = (method: string, path: string, body?: unknown): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const options: RequestOptions = {
        method,
        path: `${prefix}${path}`,
        agent,
        timeout: timeoutMs,
        headers: { Accept: "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(payload !== undefined ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) } : {}) },
        ...(endpoint.kind === "http-unix" ? { socketPath: endpoint.socketPath } : { host: base?.hostname.replace(/^\[|\]$/g, ""), port: base?.port || (secure ? 443 : 80) }),
      };
      const onResponse = (res: IncomingMessage) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => {
          let parsed: unknown = undefined;
          try {
            parsed = text === "" ? undefined : JSON.parse(text);
          } catch {
            parsed = text;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on("error", reject);
      };
      const req = secure ? httpsRequest(options, onResponse) : httpRequest(options, onResponse);
      req.on("timeout", () => req.destroy(new Error(`request timed out after ${timeoutMs} ms`)));
      req.on("error", reject);
      req.end(payload);
    });

  const expect = async (method: string, path: string, ok: readonly number[], body?: unknown): Promise<Reply> => {
    const reply = await send(method, path, body);
    if (!ok.includes(reply.status)) throw new Error(errorMessageOf(reply));
    return reply;
  };

  /** A request that changes something (`what`, in words): see writeFailure. */
  const change = async (what: string, method: string, path: string, ok: readonly number[], body?: unknown): Promise<Reply> => {
    let reply: Reply;
    try {
      reply = await send(method, path, body);
    } catch (err) {
      throw writeFailure(what, { error: err as Error }, timeoutMs);
    }
    if (!ok.includes(reply.status)) throw writeFailure(what, { reply }, timeoutMs);
    return reply;
  };

  /** Every item of a paginated collection. */
  const all = async (path: string, key: string): Promise<Obj[]> => {
    const items: Obj[] = [];
    let token = "";
    for (;;) {
      const sep = path.includes("?") ? "&" : "?";
      const reply = await expect("GET", token ? `${path}${sep}nextPageToken=${encodeURIComponent(token)}` : path, [200]);
      const page = isObj(reply.body) ? reply.body : {};
      const list = Array.isArray(page[key]) ? (page[key] as unknown[]) : [];
      items.push(...list.filter(isObj));
      token = str(page, "nextPageToken");
      if (!token) return items;
    }
  };

  const unitPath = (name: string) => `/units/${encodeURIComponent(name)}`;

  return {
    async getUnit(name: string): Promise<UnitView | undefined> {
      const reply = await expect("GET", unitPath(name), [200, 404]);
      return reply.status === 404 || !isObj(reply.body) ? undefined : unitViewFromEntity(reply.body);
    },
    async listUnits(): Promise<UnitView[]> {
      return (await all("/units", "units")).map(unitViewFromEntity);
    },
    async createUnit(unit: Unit): Promise<void> {
      const options = unit.options.map((o) => ({ section: o.section, name: o.name, value: o.value }));
      await change(`creating unit ${unit.name}`, "PUT", unitPath(unit.name), [201], { name: unit.name, desiredState: unit.desiredState, options });
    },
    /** fleet 1.0's PUT of other options replaces the unit (201); the same options only set the state (204). */
    async replaceUnit(unit: Unit): Promise<void> {
      const options = unit.options.map((o) => ({ section: o.section, name: o.name, value: o.value }));
      await change(`replacing unit ${unit.name}`, "PUT", unitPath(unit.name), [201, 204], { name: unit.name, desiredState: unit.desiredState, options });
    },
    async setUnitTargetState(name: string, target: TargetState): Promise<void> {
      await change(`setting the desired state of unit ${name} to ${target}`, "PUT", unitPath(name), [204], { name, desiredState: target });
    },
    async destroyUnit(name: string): Promise<boolean> {
      const reply = await change(`destroying unit ${name}`, "DELETE", unitPath(name), [204, 404]);
      return reply.status === 204;
    },
    async listUnitStates(unitNames?: readonly string[]): Promise<UnitState[]> {
      // fleet's /state filters by one unitName: a few units are asked for one by one.
      if (unitNames === undefined || unitNames.length > FEW_UNITS) {
        const wanted = unitNames && new Set(unitNames);
        return (await all("/state", "states")).map(unitStateFromEntity).filter((s) => !wanted || wanted.has(s.name));
      }
      const pages = await Promise.all(unitNames.map((name) => all(`/state?unitName=${encodeURIComponent(name)}`, "states")));
      return pages.flat().map(unitStateFromEntity);
    },
    async listMachines(): Promise<Machine[]> {
      return (await all("/machines", "machines")).map(machineFromEntity);
    },
    close(): void {
      agent.destroy();
    },
  };
}
