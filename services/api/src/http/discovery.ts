// The discovery document of HTTP API v1 (Google API discovery format), served at
// /fleet/v1/discovery: the resources, methods and schemas this API serves, equal to fleet's
// own schema/v1.json so clients generated from either work with both.
import type { JsonObject } from "./entities.js";

const STATES = ["inactive", "loaded", "launched"];
const str = (): JsonObject => ({ type: "string" });
const ref = (id: string): JsonObject => ({ $ref: id });
const listOf = (id: string): JsonObject => ({ type: "array", items: ref(id) });
const object = (id: string, properties: JsonObject): JsonObject => ({ id, type: "object", properties });
const page = (id: string, key: string, item: string): JsonObject => object(id, { [key]: listOf(item), nextPageToken: str() });
const query = (): JsonObject => ({ type: "string", location: "query" });
const unitNameParam = { unitName: { type: "string", location: "path", required: true } };

function method(id: string, description: string, httpMethod: string, path: string, extra: JsonObject = {}): JsonObject {
  return { id, description, httpMethod, path, ...extra };
}

const itemMethod = (id: string, description: string, httpMethod: string, path: string, extra: JsonObject = {}): JsonObject =>
  method(id, description, httpMethod, path, { parameters: unitNameParam, parameterOrder: ["unitName"], ...extra });

export const DISCOVERY_DOCUMENT: JsonObject = {
  kind: "discovery#restDescription",
  discoveryVersion: "v1",
  id: "fleet:v1",
  name: "schema",
  version: "v1",
  title: "fleet API",
  description: "",
  documentationLink: "http://github.com/coreos/fleet",
  protocol: "rest",
  icons: { x16: "", x32: "" },
  labels: [],
  baseUrl: "$ENDPOINT/fleet/v1/",
  basePath: "/fleet/v1/",
  rootUrl: "$ENDPOINT/",
  servicePath: "fleet/v1/",
  batchPath: "batch",
  parameters: {},
  auth: {},
  schemas: {
    Machine: object("Machine", {
      id: str(),
      primaryIP: str(),
      metadata: { type: "object", properties: {}, additionalProperties: str() },
    }),
    MachinePage: page("MachinePage", "machines", "Machine"),
    UnitOption: object("UnitOption", { section: str(), name: str(), value: str() }),
    Unit: object("Unit", {
      name: str(),
      options: listOf("UnitOption"),
      desiredState: { type: "string", enum: STATES },
      currentState: { type: "string", enum: STATES },
      machineID: { type: "string", required: true },
    }),
    UnitPage: page("UnitPage", "units", "Unit"),
    UnitState: object("UnitState", {
      name: str(),
      hash: str(),
      machineID: str(),
      systemdLoadState: str(),
      systemdActiveState: str(),
      systemdSubState: str(),
    }),
    UnitStatePage: page("UnitStatePage", "states", "UnitState"),
  },
  resources: {
    Machines: {
      methods: {
        List: method("fleet.Machine.List", "Retrieve a page of Machine objects.", "GET", "machines", {
          parameters: { nextPageToken: query() },
          response: ref("MachinePage"),
        }),
      },
    },
    Units: {
      methods: {
        List: method("fleet.Unit.List", "Retrieve a page of Unit objects.", "GET", "units", {
          parameters: { nextPageToken: query() },
          response: ref("UnitPage"),
        }),
        Get: itemMethod("fleet.Unit.Get", "Retrieve a single Unit object.", "GET", "units/{unitName}", { response: ref("Unit") }),
        Delete: itemMethod("fleet.Unit.Delete", "Delete the referenced Unit object.", "DELETE", "units/{unitName}"),
        Set: itemMethod("fleet.Unit.Set", "Create or update a Unit.", "PUT", "units/{unitName}", { request: ref("Unit") }),
      },
    },
    UnitState: {
      methods: {
        Get: itemMethod("fleet.UnitState.Get", "Retrieve a page of a single UnitState object.", "GET", "state/{unitName}", {
          response: ref("UnitState"),
        }),
        List: method("fleet.UnitState.List", "Retrieve a page of UnitState objects.", "GET", "state", {
          parameters: { nextPageToken: query(), unitName: query(), machineID: query() },
          response: ref("UnitStatePage"),
        }),
      },
    },
  },
};

/** The document as served: indented like fleet's file. */
export const DISCOVERY_JSON = `${JSON.stringify(DISCOVERY_DOCUMENT, null, 2)}\n`;
