// The table a run prints: each figure, its target and the original fleet's figure.
import { ORIGINAL_FLEET, TARGETS } from "./config.js";
import type { BenchResult } from "./result.js";

function pad(s: unknown, n: number): string {
  const t = String(s);
  return t.length >= n ? t : t + " ".repeat(n - t.length);
}
function table(rows: unknown[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r, ri) => r.map((c, i) => pad(c, widths[i]!)).join("  ") + (ri === 0 ? "\n" + widths.map((w) => "-".repeat(w)).join("  ") : "")).join("\n");
}
const ok = (v: number | null | undefined, target: number) => (v === null || v === undefined ? "n/a" : v <= target ? "ok" : "MISS");
const ms = (v: number | null | undefined) => (v === null || v === undefined ? "n/a" : `${v} ms`);

export function render(r: BenchResult): string {
  const rows: unknown[][] = [["figure", "measured", "target", "", "original fleet"]];
  const s = r.singleApi;
  if (s) {
    rows.push(["1a one unit start->active, API   p50", ms(s.p50), `<= ${TARGETS.singleP50Ms} ms`, ok(s.p50, TARGETS.singleP50Ms), `${ORIGINAL_FLEET.singleMs} ms`]);
    rows.push([`1a one unit start->active, API   p99 (=max of ${s.n})`, ms(s.p99), `<= ${TARGETS.singleP99Ms} ms`, ok(s.p99, TARGETS.singleP99Ms), ""]);
  }
  const c = r.singleCli;
  if (c) {
    const label = c.mode === "fleetctl" ? "fleetctl start" : "CLI FALLBACK (node+wire, no fleetctl)";
    rows.push([`1b one unit start->active, ${label} p50`, ms(c.p50), `<= ${TARGETS.singleP50Ms} ms`, ok(c.p50, TARGETS.singleP50Ms), `${ORIGINAL_FLEET.singleMs} ms`]);
    rows.push([`1b one unit start->active, ${label} p99 (=max of ${c.n})`, ms(c.p99), `<= ${TARGETS.singleP99Ms} ms`, ok(c.p99, TARGETS.singleP99Ms), ""]);
    rows.push([`1b   of which fleetctl start ran (spawn->exit) p50`, ms(c.processExit?.p50), "", "", ""]);
    if (c.listMachinesProcess?.n) rows.push([`1b   baseline: a fleetctl list-machines process p50`, ms(c.listMachinesProcess.p50), "", "", ""]);
    if (c.bareNodeProcess?.n) rows.push([`1b   baseline: a bare node -e 0 process p50${c.nodeExtraCaCertsSet ? " (NODE_EXTRA_CA_CERTS set)" : ""}`, ms(c.bareNodeProcess.p50), "", "", ""]);
  }
  const b = r.batch;
  if (b) {
    const cli = r.batchCli && "allActiveMs" in r.batchCli ? r.batchCli : undefined;
    rows.push([`2  ${b.units} units concurrently -> all active`, ms(b.allActiveMs), `<= ${TARGETS.batchMs} ms`, ok(b.allActiveMs, TARGETS.batchMs), `${ORIGINAL_FLEET.batchMs} ms`]);
    if (cli?.allActiveMs) rows.push([`2b ${cli.units} units by one fleetctl start -> all active`, ms(cli.allActiveMs), `<= ${TARGETS.batchMs} ms`, ok(cli.allActiveMs, TARGETS.batchMs), ""]);
    if (r.batchSystemdFloor) rows.push([`2    floor: the same ${r.batchSystemdFloor.units} units by systemctl start in the machines, no fleet`, ms(r.batchSystemdFloor.allStartedMs), "", "", ""]);
    rows.push([`2    all create RPCs returned / first unit active`, `${ms(b.allCreateRpcsReturnedMs)} / ${ms(b.firstActiveMs)}`, "", "", ""]);
    rows.push([`2    distribution`, Object.entries(b.distribution).map(([k, v]) => `${k}:${v}`).join(" "), "", "", ""]);
  }
  const f = r.failover;
  if (f) {
    rows.push([`3  failover: kill ${f.killedMachine} (${f.units} units) -> all active elsewhere`, ms(f.allActiveElsewhereMs), `<= ${TARGETS.failoverMs} ms (ttl+1s)`, ok(f.allActiveElsewhereMs, TARGETS.failoverMs), ""]);
  }
  for (const p of r.rss ?? []) {
    const isAgent = p.process.startsWith("agent");
    rows.push([`4  RSS idle, ${r.batch?.units ?? 0} units: ${p.process}`, p.rssMB === null ? "n/a" : `${p.rssMB} MB`, isAgent ? `<= ${TARGETS.agentRssMB} MB` : "", isAgent ? ok(p.rssMB, TARGETS.agentRssMB) : "", ""]);
  }
  for (const [k, e] of [
    ["batch", r.etcd?.batch],
    ["singles", r.etcd?.singles],
  ] as const) {
    if (!e) continue;
    rows.push([`5  etcd req/unit, ${e.units} ${k === "batch" ? "units at once" : "units one by one"}: net`, e.netPerUnit, `<= ${TARGETS.etcdPerUnit}`, ok(e.netPerUnit, TARGETS.etcdPerUnit), ORIGINAL_FLEET.etcdPerUnit]);
    rows.push([`5    raw (incl. background ${e.idlePerSecond}/s over ${e.windowSeconds} s, ${e.benchPolls} polls)`, e.rawPerUnit, "", "", ""]);
  }
  return table(rows);
}
