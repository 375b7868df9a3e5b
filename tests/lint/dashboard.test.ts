// deploy/grafana/fleet-dashboard.json asks only for series fleet serves: each fleet_ name in its
// queries is one docs/operations.md lists (or Node's process series, fleet_process_* and
// fleet_nodejs_*), so the dashboard and the documented metrics cannot drift apart.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const dashboard = JSON.parse(readFileSync(join(root, "deploy/grafana/fleet-dashboard.json"), "utf8")) as {
  panels: Array<{ title: string; targets: Array<{ expr: string }>; gridPos: { x: number; w: number } }>;
};
const documented = readFileSync(join(root, "docs/operations.md"), "utf8");

describe("the Grafana dashboard", () => {
  const series = [...new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => [...t.expr.matchAll(/\bfleet_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, "")))))];

  it("queries fleet series", () => {
    expect(series.length).toBeGreaterThan(10);
  });

  it.each(series)("%s is a documented series", (name) => {
    expect(name.startsWith("fleet_process_") || name.startsWith("fleet_nodejs_") || documented.includes(`\`${name}\``)).toBe(true);
  });

  it("lays its panels out within Grafana's 24 columns", () => {
    for (const p of dashboard.panels) expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
  });
});
