// Go's text/tabwriter as fleetctl configures it: tabwriter.NewWriter(out, 0, 8, 1, '\t', 0)
// (minwidth 0, tabwidth 8, padding 1, padchar '\t', no flags). Cells are tab-terminated; the
// last cell of a line is not part of a column. A column block is a run of consecutive lines
// that have a cell in that column; its width is the widest cell + padding, and because the
// pad character is a tab, cells are padded with tabs up to the next multiple of 8 columns.
// Scripts parse this output, so it must match byte for byte.

export interface TabWriterOptions {
  readonly minwidth: number;
  readonly tabwidth: number;
  readonly padding: number;
}

export const FLEETCTL_TABWRITER: TabWriterOptions = { minwidth: 0, tabwidth: 8, padding: 1 };

/** Go counts runes, not UTF-16 units. */
function width(cell: string): number {
  return [...cell].length;
}

/** Pads a cell of `textw` to `cellw` with tabs, as tabwriter does when padchar is '\t'. */
function tabPadding(textw: number, cellw: number, tabwidth: number): string {
  const rounded = Math.ceil(cellw / tabwidth) * tabwidth;
  return "\t".repeat(Math.ceil((rounded - textw) / tabwidth));
}

/** Formats text (lines of tab-separated cells, "\n"-terminated) as the Go tabwriter would. */
export function tabwrite(text: string, options: TabWriterOptions = FLEETCTL_TABWRITER): string {
  const endsWithNewline = text.endsWith("\n");
  const body = endsWithNewline ? text.slice(0, -1) : text;
  if (body === "" && !endsWithNewline) return "";
  const lines = body.split("\n").map((l) => l.split("\t"));
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const line = lines[i] ?? [];
      let s = "";
      line.forEach((cell, j) => {
        s += cell;
        // Every cell but the last of a line belongs to a column and is padded.
        const w = widths[j];
        if (j < line.length - 1 && w !== undefined) s += tabPadding(width(cell), w, options.tabwidth);
      });
      out.push(s);
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    let start = line0;
    for (let i = line0; i < line1; i++) {
      if (column >= (lines[i]?.length ?? 0) - 1) continue;
      // A block of lines with a cell in this column begins here.
      writeLines(start, i);
      start = i;
      let w = options.minwidth;
      let end = i;
      for (; end < line1; end++) {
        const line = lines[end] ?? [];
        if (column >= line.length - 1) break;
        w = Math.max(w, width(line[column] ?? "") + options.padding);
      }
      widths.push(w);
      format(start, end);
      widths.pop();
      start = end;
      i = end - 1;
    }
    writeLines(start, line1);
  };

  format(0, lines.length);
  return out.join("\n") + (endsWithNewline ? "\n" : "");
}

/** Rows of cells as fleetctl prints them: joined by tabs, one line each, then aligned. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return "";
  return tabwrite(rows.map((r) => r.join("\t") + "\n").join(""));
}
