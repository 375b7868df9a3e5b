// What PUT /units/<name> does, as fleet 1.0's unitsResource.set decides it (api/units.go). Pure:
// the handler reads the unit that exists, asks this, and carries the answer out.
//
//   no unit by that name      -> options required (409), [X-Fleet] checked (400): write, 201
//   options whose hash differs -> the unit is replaced: write, 201
//   otherwise (no options, or  -> a desired state is required (409): set it, 204
//   the same contents)
//
// A write stores the contents and the desired state given, or inactive when none is given
// (fleet's CreateUnit), and keeps the unit's placement (RegistryService.ReplaceUnit).
// Two checks fleet 1.0 skipped for a replacement are made here too, because the registry
// refuses such a unit anyway: [X-Fleet] options that can never be met together, and a template
// (foo@.service) that is to be loaded or launched.
import { parseUnitName, unitHash, type TargetState, type Unit, type UnitOption } from "@fleet/domain";
import { HttpError } from "./http-error.js";
import type { UnitBody } from "./unit-body.js";

export type PutDecision =
  | { readonly kind: "write"; readonly why: "new unit" | "contents differ"; readonly options: readonly UnitOption[]; readonly desiredState: TargetState }
  | { readonly kind: "set-state"; readonly desiredState: TargetState };

function assertActivatable(name: string, desiredState: TargetState): void {
  if (desiredState !== "inactive" && parseUnitName(name).isTemplate) throw new HttpError(400, `cannot activate template ${JSON.stringify(name)}`);
}

/**
 * The decision for a PUT of `body` to the unit `name` (already validated), given the unit by
 * that name if there is one and fleet's [X-Fleet] check; throws the HttpError fleet answers.
 */
export function decideUnitPut(
  name: string,
  body: UnitBody,
  existing: Pick<Unit, "options"> | undefined,
  xFleetConflict: (options: readonly UnitOption[]) => string | undefined,
): PutDecision {
  const contentsDiffer = existing !== undefined && body.options.length > 0 && unitHash(body.options) !== unitHash(existing.options);
  if (existing === undefined || contentsDiffer) {
    if (existing === undefined && body.options.length === 0) throw new HttpError(409, "unit does not exist and options field empty");
    const conflict = xFleetConflict(body.options);
    if (conflict) throw new HttpError(400, conflict);
    const desiredState = body.desiredState ?? "inactive";
    assertActivatable(name, desiredState);
    return { kind: "write", why: existing === undefined ? "new unit" : "contents differ", options: body.options, desiredState };
  }
  if (body.desiredState === undefined) throw new HttpError(409, "must provide DesiredState to update existing unit");
  assertActivatable(name, body.desiredState);
  return { kind: "set-state", desiredState: body.desiredState };
}
