import { describe, expect, it } from "vitest";
import { Keys } from "./keys.js";

const keys = new Keys("/fleet/");

describe("Keys", () => {
  it.each([
    [keys.unit("a.service"), { kind: "unit", name: "a.service" }],
    [keys.schedule("a@1.service"), { kind: "schedule", name: "a@1.service" }],
    [keys.machine("0123"), { kind: "machine", id: "0123" }],
    [keys.machineMetadata("0123"), { kind: "machine-metadata", id: "0123" }],
    [keys.state("0123", "a.service"), { kind: "state", machineId: "0123", name: "a.service" }],
    [keys.leader(), { kind: "leader" }],
  ])("round-trips %s", (key, want) => expect(keys.parse(key)).toEqual(want));

  it.each(["/other/unit/a.service", "/fleet/unit/", "/fleet/bogus/x", "/fleet/state/m1", "/fleet/state/m1/", "/fleet/engine/other", "/fleet/unit"])(
    "ignores %s",
    (key) => expect(keys.parse(key)).toBeUndefined(),
  );
});
