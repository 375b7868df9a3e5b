import { describe, expect, it } from "vitest";
import { unitView } from "./unit-view.js";
import type { Unit, UnitState } from "@fleet/domain";

const unit: Unit = { name: "a.service", options: [], hash: "h", desiredState: "launched" };
const state = (machineId: string, currentState: UnitState["currentState"]): UnitState => ({
  name: "a.service",
  hash: "h",
  machineId,
  loadState: "loaded",
  activeState: "active",
  subState: "running",
  currentState,
});

describe("unitView", () => {
  it("is inactive and unplaced without a placement", () => {
    expect(unitView(unit, undefined, [])).toMatchObject({ machineId: "", currentState: "inactive" });
  });
  it("takes the state its machine reports", () => {
    expect(unitView(unit, { unitName: "a.service", machineId: "m1", reason: "" }, [state("m1", "launched")])).toMatchObject({
      machineId: "m1",
      currentState: "launched",
    });
  });
  it("ignores a state left by another machine", () => {
    expect(unitView(unit, { unitName: "a.service", machineId: "m2", reason: "" }, [state("m1", "launched")]).currentState).toBe("inactive");
  });
  it("does not take a state of contents the unit no longer has (replaced, its agent not there yet) for its own", () => {
    const old = { ...state("m1", "launched"), hash: "old" };
    expect(unitView(unit, { unitName: "a.service", machineId: "m1", reason: "" }, [old]).currentState).toBe("inactive");
  });
  it("carries the reason a unit is not placed", () => {
    expect(unitView(unit, { unitName: "a.service", machineId: "", reason: "no live machines" }, []).reason).toBe("no live machines");
  });
  it("carries the reason its machine's agent gives when the placement has none", () => {
    const refused = { ...state("m1", "inactive"), reason: "unit a.service cannot run: it is a template (missing the instance name)" };
    expect(unitView(unit, { unitName: "a.service", machineId: "m1", reason: "" }, [refused]).reason).toBe(refused.reason);
    expect(unitView(unit, { unitName: "a.service", machineId: "m1", reason: "placed by hand" }, [refused]).reason).toBe("placed by hand");
  });
});
