import { describe, expect, it } from "vitest";
import { formatTable, tabwrite } from "./tabwriter.js";

// Expected outputs worked out from Go's text/tabwriter with NewWriter(w, 0, 8, 1, '\t', 0):
// a column is as wide as its widest cell + 1, rounded up to a multiple of 8, filled with tabs.
describe("tabwrite", () => {
  const cases: { label: string; input: string; want: string }[] = [
    { label: "empty", input: "", want: "" },
    { label: "single cell lines are not aligned", input: "a\nbbb\n", want: "a\nbbb\n" },
    { label: "short cells take one tab", input: "A\tB\nccc\td\n", want: "A\tB\nccc\td\n" },
    {
      label: "a cell of exactly 7 runes still fits one tab stop (7 + 1 padding = 8)",
      input: "UNIT\tX\nabcdefg\ty\n",
      want: "UNIT\tX\nabcdefg\ty\n",
    },
    {
      label: "a cell of 8 runes pushes the column to 16",
      input: "UNIT\tX\nabcdefgh\ty\n",
      want: "UNIT\t\tX\nabcdefgh\ty\n",
    },
    {
      label: "fleet's list-units legend over a 20-character unit name",
      input: "UNIT\tMACHINE\tACTIVE\tSUB\nkube-kubelet.service\t07914a50.../10.1.0.77\tactive\trunning\n",
      want: "UNIT\t\t\tMACHINE\t\t\tACTIVE\tSUB\nkube-kubelet.service\t07914a50.../10.1.0.77\tactive\trunning\n",
    },
    {
      label: "the last cell of a line is never padded",
      input: "a\tb\nc\tdddddddddddddddddd\n",
      want: "a\tb\nc\tdddddddddddddddddd\n",
    },
    {
      label: "lines with fewer cells end a column block",
      input: "aaaaaaaaaa\tb\nc\nd\te\n",
      want: "aaaaaaaaaa\tb\nc\nd\te\n",
    },
    {
      label: "a trailing tab makes the empty last cell and pads the one before",
      input: "a\t\nbbbbbbbbb\t\n",
      want: "a\t\t\nbbbbbbbbb\t\n",
    },
    {
      label: "multi-byte runes count once",
      input: "ééééééé\tx\nab\ty\n",
      want: "ééééééé\tx\nab\ty\n",
    },
    {
      label: "nested blocks: a wider inner column only for the lines that have it",
      input: "a\tb\tc\nd\teeeeeeeeeeee\tf\ng\th\n",
      want: "a\tb\t\tc\nd\teeeeeeeeeeee\tf\ng\th\n",
    },
  ];
  for (const c of cases) {
    it(c.label, () => {
      expect(tabwrite(c.input)).toBe(c.want);
    });
  }
});

describe("formatTable", () => {
  it("joins cells with tabs and aligns them", () => {
    expect(formatTable([["MACHINE", "IP", "METADATA"], ["113f16a7...", "10.0.0.3", "-"]])).toBe(
      "MACHINE\t\tIP\t\tMETADATA\n113f16a7...\t10.0.0.3\t-\n",
    );
  });

  it("prints nothing for no rows", () => {
    expect(formatTable([])).toBe("");
  });

  it("aligns rows of cells exactly as tabwrite aligns their text, for ragged rows, wide runes and empty cells", () => {
    let seed = 7;
    const next = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const pieces = ["a", "web", "é", "😀", "10.0.0.1", "", "-", "x".repeat(9), "long-unit-name@instance.service"];
    const piece = () => pieces[next(pieces.length)] ?? "";
    for (let t = 0; t < 300; t++) {
      const rows = Array.from({ length: 1 + next(8) }, () => Array.from({ length: 1 + next(5) }, () => piece() + (next(3) === 0 ? piece() : "")));
      expect(formatTable(rows)).toBe(tabwrite(rows.map((r) => r.join("\t") + "\n").join("")));
    }
  });

  it("a cell holding a tab or a newline is cut where tabwrite cuts it", () => {
    const rows = [["a\tb", "c"], ["d", "e\nf"]];
    expect(formatTable(rows)).toBe(tabwrite("a\tb\tc\nd\te\nf\n"));
  });
});
