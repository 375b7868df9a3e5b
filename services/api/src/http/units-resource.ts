// /fleet/v1/units: list (paginated), get, PUT (create, replace, or change the desired state) and DELETE,
// with fleet's checks in fleet's order and its status codes. Nothing is written unless every
// check passed.
import { isFleetError, unitHash, unitNameError, isValidUnitName } from "@fleet/domain";
import { created, noContent, ok, requestPageToken, type ApiContext, type ApiRequest, type ApiResponse } from "./api-request.js";
import { pageEntity, unitEntity } from "./entities.js";
import { HttpError } from "./http-error.js";
import { pageOf } from "./page-token.js";
import { parseUnitBody, xFleetConflict } from "./unit-body.js";
import { decideUnitPut } from "./unit-put.js";

export async function listUnits(ctx: ApiContext, req: ApiRequest): Promise<ApiResponse> {
  const token = requestPageToken(ctx, req);
  // Only the page's units are read: a page costs the same with ten units or ten thousand.
  const offset = (token.page - 1) * token.limit;
  const { units, total } = await ctx.backend.listUnits(req.call, { offset, limit: token.limit });
  const page = pageOf(units, total, token);
  return ok(pageEntity("units", page.items.map(unitEntity), page.next));
}

const unitMissing = () => new HttpError(404, "unit does not exist");

export async function getUnit(ctx: ApiContext, req: ApiRequest, name: string): Promise<ApiResponse> {
  // A name that is not valid names no unit: 404, as fleet answers.
  if (!isValidUnitName(name)) throw unitMissing();
  const view = await ctx.backend.getUnit(name, req.call);
  if (!view) throw unitMissing();
  return ok(unitEntity(view));
}

export async function deleteUnit(ctx: ApiContext, req: ApiRequest, name: string): Promise<ApiResponse> {
  if (!isValidUnitName(name)) throw unitMissing();
  try {
    await ctx.backend.destroyUnit(name, req.call);
  } catch (err) {
    if (isFleetError(err, "not-found")) throw unitMissing();
    throw err;
  }
  ctx.log.info({ requestId: req.requestId, unit: name }, "unit destroyed");
  return noContent();
}

/** fleet's validateContentType: exactly one Content-Type, application/json. */
function assertJson(req: ApiRequest): void {
  const value = req.contentType;
  if (value === undefined) throw new HttpError(415, "expected 1 Content-Type, got 0");
  if (value.includes(",")) throw new HttpError(415, `expected 1 Content-Type, got ${value.split(",").length}`);
  if ((value.split(";")[0] ?? "").trim().toLowerCase() !== "application/json") {
    throw new HttpError(415, "only acceptable Content-Type is application/json");
  }
}

/** fleet 1.0's PUT: create, replace (other contents) or set the desired state; see unit-put.ts. */
export async function putUnit(ctx: ApiContext, req: ApiRequest, item: string): Promise<ApiResponse> {
  assertJson(req);
  const body = parseUnitBody(await req.body());
  const name = body.name ?? item;
  if (name !== item) throw new HttpError(400, `name in URL ${JSON.stringify(item)} differs from unit name in request body ${JSON.stringify(name)}`);
  const invalid = unitNameError(name);
  if (invalid) throw new HttpError(400, invalid);

  const existing = await ctx.backend.getUnit(name, req.call);
  const decision = decideUnitPut(name, body, existing?.unit, xFleetConflict);
  const fields = { requestId: req.requestId, unit: name, desiredState: decision.desiredState };
  if (decision.kind === "write") {
    const unit = { name, options: decision.options, hash: unitHash(decision.options), desiredState: decision.desiredState };
    const outcome = await ctx.backend.replaceUnit(unit, req.call);
    ctx.log.info({ ...fields, ...outcome }, decision.why === "new unit" ? "unit created" : "unit replaced");
    return created();
  }
  await ctx.backend.setUnitTargetState(name, decision.desiredState, req.call);
  ctx.log.info(fields, "desired state set");
  return noContent();
}
