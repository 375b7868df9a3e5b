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

const SURROGATES = /[\uD800-\uDFFF]/;
const CUTS = /[\t\n]/;

/** Go counts runes, not UTF-16 units (without building an array of them: lists run to 10,000s of lines). */
function width(cell: string): number {
  return SURROGATES.test(cell) ? [...cell].length : cell.length;
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
  return alignCells(body.split("\n").map((l) => l.split("\t")), options) + (endsWithNewline ? "\n" : "");
}

/** Lines already cut into cells, aligned as tabwrite aligns them; the lines joined by "\n". */
function alignCells(lines: readonly (readonly string[])[], options: TabWriterOptions): string {
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const line = lines[i] ?? [];
      let s = "";
      for (let j = 0; j < line.length; j++) {
        const cell = line[j] ?? "";
        s += cell;
        // Every cell but the last of a line belongs to a column and is padded.
        const w = widths[j];
        if (j < line.length - 1 && w !== undefined) s += tabPadding(width(cell), w, options.tabwidth);
      }
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
  return out.join("\n");
}

/** Rows of cells as fleetctl prints them: joined by tabs, one line each, then aligned. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return "";
  // Cells holding a tab or a newline would be cut differently: those go the way of the text.
  if (rows.some((r) => r.some((cell) => CUTS.test(cell)))) return tabwrite(rows.map((r) => r.join("\t") + "\n").join(""));
  return alignCells(rows, FLEETCTL_TABWRITER) + "\n";
}
