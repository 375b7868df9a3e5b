import { describe, expect, it } from "vitest";
import { describeMetadata, machineMatchesMetadata, metadataKey, parseMetadataRequirement } from "./metadata-match.js";

describe("MachineMetadata requirements", () => {
  const req = (...pairs: string[]) => parseMetadataRequirement(pairs).requirement;

  it.each([
    { name: "one key", pairs: ["region=west"], metadata: { region: "west" }, want: true },
    { name: "one key, other value", pairs: ["region=west"], metadata: { region: "east" }, want: false },
    { name: "missing key", pairs: ["region=west"], metadata: {}, want: false },
    { name: "same key twice is OR", pairs: ["region=west", "region=east"], metadata: { region: "east" }, want: true },
    { name: "different keys are AND (both hold)", pairs: ["region=west", "disk=ssd"], metadata: { region: "west", disk: "ssd" }, want: true },
    { name: "different keys are AND (one fails)", pairs: ["region=west", "disk=ssd"], metadata: { region: "west", disk: "hdd" }, want: false },
    { name: "OR and AND", pairs: ["region=west", "region=east", "disk=ssd"], metadata: { region: "east", disk: "ssd" }, want: true },
    { name: "case matters", pairs: ["region=West"], metadata: { region: "west" }, want: false },
    { name: "no requirement matches all", pairs: [], metadata: {}, want: true },
  ])("$name", ({ pairs, metadata, want }) => {
    expect(machineMatchesMetadata(metadata as Record<string, string>, req(...pairs))).toBe(want);
  });

  it("sets malformed pairs aside", () => {
    expect(parseMetadataRequirement(["region", "=x", "k=", "a=b=c", "ok=1"])).toEqual({
      requirement: [["ok", ["1"]]],
      malformed: ["region", "=x", "k=", "a=b=c"],
    });
  });

  it("gives equal requirements equal keys and describes them", () => {
    expect(metadataKey(req("b=2", "a=1", "a=0"))).toBe(metadataKey(req("a=0", "a=1", "b=2")));
    expect(describeMetadata(req("region=west"))).toBe("region=west");
    expect(describeMetadata(req("region=west", "region=east"))).toBe("region=east or region=west");
    expect(describeMetadata(req("region=west", "region=east", "disk=ssd"))).toBe("disk=ssd and (region=east or region=west)");
  });
});
