// /fleet/v1/units: list (paginated), get, PUT (create, or change the desired state) and DELETE,
// with fleet's checks in fleet's order and its status codes. Nothing is written unless every
// check passed.
import { parseUnitName, unitHash, unitNameError, isValidUnitName } from "@fleet/domain";
import { isFleetError } from "@fleet/wire";
import { created, noContent, ok, requestPageToken, type ApiContext, type ApiRequest, type ApiResponse } from "./api-request.js";
import { pageEntity, unitEntity } from "./entities.js";
import { HttpError } from "./http-error.js";
import { cutPage } from "./page-token.js";
import { parseUnitBody, xFleetConflict } from "./unit-body.js";

export async function listUnits(ctx: ApiContext, req: ApiRequest): Promise<ApiResponse> {
  const token = requestPageToken(ctx, req);
  const page = cutPage(await ctx.backend.listUnits(req.requestId), token);
  return ok(pageEntity("units", page.items.map(unitEntity), page.next));
}

const unitMissing = () => new HttpError(404, "unit does not exist");

export async function getUnit(ctx: ApiContext, req: ApiRequest, name: string): Promise<ApiResponse> {
  // A name that is not valid names no unit: 404, as fleet answers.
  if (!isValidUnitName(name)) throw unitMissing();
  const view = await ctx.backend.getUnit(name, req.requestId);
  if (!view) throw unitMissing();
  return ok(unitEntity(view));
}

export async function deleteUnit(ctx: ApiContext, req: ApiRequest, name: string): Promise<ApiResponse> {
  if (!isValidUnitName(name)) throw unitMissing();
  try {
    await ctx.backend.destroyUnit(name, req.requestId);
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

export async function putUnit(ctx: ApiContext, req: ApiRequest, item: string): Promise<ApiResponse> {
  assertJson(req);
  const body = parseUnitBody(await req.body());
  const name = body.name ?? item;
  if (name !== item) throw new HttpError(400, `name in URL ${JSON.stringify(item)} differs from unit name in request body ${JSON.stringify(name)}`);
  const invalid = unitNameError(name);
  if (invalid) throw new HttpError(400, invalid);

  const existing = await ctx.backend.getUnit(name, req.requestId);
  if (!existing) {
    if (body.options.length === 0) throw new HttpError(409, "unit does not exist and options field empty");
    const conflict = xFleetConflict(body.options);
    if (conflict) throw new HttpError(400, conflict);
    const desiredState = body.desiredState ?? "inactive";
    if (parseUnitName(name).isTemplate && desiredState !== "inactive") throw new HttpError(400, `cannot activate template ${JSON.stringify(name)}`);
    await ctx.backend.createUnit({ name, options: body.options, hash: unitHash(body.options), desiredState }, req.requestId);
    ctx.log.info({ requestId: req.requestId, unit: name, desiredState }, "unit created");
    return created();
  }

  if (body.desiredState === undefined) throw new HttpError(409, "must provide DesiredState to update existing unit");
  if (parseUnitName(name).isTemplate && body.desiredState !== "inactive") throw new HttpError(400, `cannot activate template ${JSON.stringify(name)}`);
  await ctx.backend.setUnitTargetState(name, body.desiredState, req.requestId);
  ctx.log.info({ requestId: req.requestId, unit: name, desiredState: body.desiredState }, "desired state set");
  return noContent();
}
