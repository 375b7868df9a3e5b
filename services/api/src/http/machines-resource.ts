// /fleet/v1/machines: live machines (paginated) and PATCH of their metadata. Metadata set here
// is kept apart from the machine's registration: it outlives the machine leaving and
// rejoining, and the scheduler sees it.
import { noContent, ok, requestPageToken, type ApiContext, type ApiRequest, type ApiResponse } from "./api-request.js";
import { machineEntity, pageEntity } from "./entities.js";
import { metadataChanges, parseMachinePatch } from "./machine-patch.js";
import { cutPage } from "./page-token.js";

export async function listMachines(ctx: ApiContext, req: ApiRequest): Promise<ApiResponse> {
  const token = requestPageToken(ctx, req);
  const page = cutPage(await ctx.backend.listMachines(req.call), token);
  return ok(pageEntity("machines", page.items.map(machineEntity), page.next));
}

export async function patchMachines(ctx: ApiContext, req: ApiRequest): Promise<ApiResponse> {
  const changes = metadataChanges(parseMachinePatch(await req.body()));
  for (const change of changes) {
    await ctx.backend.setMachineMetadata(change, req.call);
    ctx.log.info({ requestId: req.requestId, machineId: change.machineId, set: change.set, remove: change.remove }, "machine metadata changed");
  }
  return noContent();
}
