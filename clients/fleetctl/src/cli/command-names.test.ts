import { describe, expect, it } from "vitest";
import { editDistance, resolveCommand, suggestionsFor, unknownCommandMessage } from "./command-names.js";

const NAMES = ["cat", "destroy", "help", "list-machines", "list-unit-files", "list-units", "start", "status", "stop", "version", "verify"];

describe("resolveCommand (cobra with prefix matching)", () => {
  const cases: { word: string; want: string | undefined }[] = [
    { word: "start", want: "start" },
    { word: "list-m", want: "list-machines" },
    { word: "stat", want: "status" },
    { word: "des", want: "destroy" },
    { word: "h", want: "help" },
    { word: "list-units", want: "list-units" },
    { word: "list-unit", want: undefined },
    { word: "st", want: undefined },
    { word: "ver", want: undefined },
    { word: "frob", want: undefined },
    { word: "", want: undefined },
  ];
  for (const c of cases) it(`${JSON.stringify(c.word)} -> ${c.want}`, () => expect(resolveCommand(c.word, NAMES)).toBe(c.want));
});

describe("suggestions", () => {
  it("measures edits ignoring case", () => {
    expect([editDistance("stop", "stop"), editDistance("STOP", "stop"), editDistance("stpo", "stop"), editDistance("st", "cat"), editDistance("", "ssh")]).toEqual([0, 0, 2, 2, 3]);
  });

  it("suggests names within 2 edits or that begin with the word", () => {
    expect(suggestionsFor("sotp", NAMES)).toEqual(["stop"]);
    expect(suggestionsFor("list", NAMES)).toEqual(["list-machines", "list-unit-files", "list-units"]);
    expect(suggestionsFor("frobnicate", NAMES)).toEqual([]);
  });

  it("words the error as cobra", () => {
    expect(unknownCommandMessage("frob", NAMES)).toBe('unknown command "frob" for "fleetctl"');
    expect(unknownCommandMessage("sotp", NAMES)).toBe('unknown command "sotp" for "fleetctl"\n\nDid you mean this?\n\tstop\n');
  });
});
