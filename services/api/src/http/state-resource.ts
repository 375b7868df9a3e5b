// /fleet/v1/state: unit states as agents report them (paginated; filters machineID and
// unitName), and /fleet/v1/state/<unit>: the state from the unit's machine.
import { isValidUnitName } from "@fleet/domain";
import { ok, requestPageToken, type ApiContext, type ApiRequest, type ApiResponse } from "./api-request.js";
import { pageEntity, unitStateEntity } from "./entities.js";
import { HttpError } from "./http-error.js";
import { cutPage } from "./page-token.js";

const byNameThenMachine = (a: { name: string; machineId: string }, b: { name: string; machineId: string }): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : a.machineId < b.machineId ? -1 : a.machineId > b.machineId ? 1 : 0;

export async function listStates(ctx: ApiContext, req: ApiRequest): Promise<ApiResponse> {
  const token = requestPageToken(ctx, req);
  // As fleet: the first value of each filter counts; an empty one filters nothing.
  const machineId = req.query.get("machineID") ?? "";
  const unitName = req.query.get("unitName") ?? "";
  // A name that is not valid matches no state.
  const states = unitName !== "" && !isValidUnitName(unitName) ? [] : await ctx.backend.listUnitStates({ machineId, unitName }, req.call);
  const page = cutPage([...states].sort(byNameThenMachine), token);
  return ok(pageEntity("states", page.items.map(unitStateEntity), page.next));
}

export async function getState(ctx: ApiContext, req: ApiRequest, name: string): Promise<ApiResponse> {
  const missing = new HttpError(404, "unit state does not exist");
  if (!isValidUnitName(name)) throw missing;
  const [view, states] = await Promise.all([
    ctx.backend.getUnit(name, req.call),
    ctx.backend.listUnitStates({ machineId: "", unitName: name }, req.call),
  ]);
  // The state from the machine the unit is placed on; a state left elsewhere only when there is no other.
  const state = states.find((s) => view && s.machineId === view.machineId) ?? states[0];
  if (!state) throw missing;
  return ok(unitStateEntity(state));
}
