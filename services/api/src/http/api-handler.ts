// HTTP API v1: routes a request to its resource and method, and turns every failure into
// fleet's error entity. Independent of node:http (http-server.ts serves it).
import type { ApiContext, ApiRequest, ApiResponse } from "./api-request.js";
import { DISCOVERY_JSON } from "./discovery.js";
import { errorEntity, HttpError, toHttpError } from "./http-error.js";
import { listMachines, patchMachines } from "./machines-resource.js";
import { route } from "./router.js";
import { getState, listStates } from "./state-resource.js";
import { deleteUnit, getUnit, listUnits, putUnit } from "./units-resource.js";

type Handler = () => Promise<ApiResponse>;

/** What there is, for the messages of 404 and 405 (never empty: a client shows them). */
const RESOURCES = "/fleet/v1/units[/NAME], /fleet/v1/state, /fleet/v1/machines and /fleet/v1/discovery.json";

/** The handler of `method` among `handlers`, or a 405 naming the ones there are. */
function pick(method: string, handlers: Readonly<Record<string, Handler>>, refusal: string, refusalStatus = 405): Handler {
  const handler = handlers[method];
  if (handler) return handler;
  return async () => {
    throw new HttpError(refusalStatus, refusal, Object.keys(handlers).join(", "));
  };
}

function dispatch(ctx: ApiContext, req: ApiRequest): Handler {
  const r = route(req.path);
  const m = req.method;
  switch (r.kind) {
    case "units":
      return pick(m, { GET: () => listUnits(ctx, req) }, "only GET supported against this resource");
    case "unit":
      return pick(
        m,
        { GET: () => getUnit(ctx, req, r.name), PUT: () => putUnit(ctx, req, r.name), DELETE: () => deleteUnit(ctx, req, r.name) },
        "only GET, PUT and DELETE supported against this resource",
      );
    case "states":
      return pick(m, { GET: () => listStates(ctx, req) }, "only GET supported against this resource");
    case "state":
      return pick(m, { GET: () => getState(ctx, req, r.name) }, "only GET supported against this resource");
    case "machines":
      return pick(m, { GET: () => listMachines(ctx, req), PATCH: () => patchMachines(ctx, req) }, "only GET and PATCH supported against this resource");
    case "discovery":
      // fleet answers other methods on the discovery document with 400, not 405.
      return pick(m, { GET: async () => ({ status: 200, body: { raw: DISCOVERY_JSON } }) }, "only HTTP GET supported against this resource", 400);
    case "method-not-allowed":
      return async () => {
        throw new HttpError(405, `${req.path} is no resource: use one of ${RESOURCES}`);
      };
    case "not-found":
      return async () => {
        throw new HttpError(404, `no such resource ${req.path}: fleet's API v1 has ${RESOURCES}`);
      };
  }
}

/** Serves one request; never throws. */
export async function handleApiRequest(ctx: ApiContext, req: ApiRequest): Promise<ApiResponse> {
  try {
    return await dispatch(ctx, req)();
  } catch (err) {
    const error = toHttpError(err);
    if (error.status >= 500) ctx.log.error({ requestId: req.requestId, err }, "request failed");
    return { status: error.status, body: errorEntity(error), ...(error.allow ? { allow: error.allow } : {}) };
  }
}
