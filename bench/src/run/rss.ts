// Figure 4: resident memory of every control-plane process and of each machine's agent.
import { readdirSync, readFileSync, type Dirent } from "node:fs";
import { join } from "node:path";
import type { ClusterHandle, MachineRecord } from "@fleet/launcher";
import { round } from "./config.js";

function rssKB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Host PIDs of the machine's fleet-agent.service: from the cgroup tree, else /proc/*\/cgroup. */
function agentPids(machine: MachineRecord): { pids: number[]; via: string } {
  const pids = new Set<number>();
  const walk = (dir: string, depth: number): void => {
    if (depth > 8) return;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = join(dir, e.name);
      if (e.name === "fleet-agent.service") {
        try {
          for (const l of readFileSync(join(p, "cgroup.procs"), "utf8").split("\n")) if (l.trim()) pids.add(Number(l));
        } catch {
          /* gone */
        }
      } else walk(p, depth + 1);
    }
  };
  for (const h of ["/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup"]) {
    walk(join(h, machine.cgroupName), 0);
    if (pids.size) return { pids: [...pids], via: `${h}/${machine.cgroupName}/**/fleet-agent.service/cgroup.procs` };
  }
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cg = readFileSync(`/proc/${d}/cgroup`, "utf8");
      if (cg.split("\n").some((l) => l.includes(`/${machine.cgroupName}/`) && l.includes("fleet-agent.service"))) pids.add(Number(d));
    } catch {
      /* gone */
    }
  }
  return { pids: [...pids], via: "/proc/*/cgroup" };
}

export interface RssRow {
  process: string;
  pids: number[];
  rssMB: number | null;
  via?: string;
}

export function measureRss(cluster: ClusterHandle): RssRow[] {
  const rows: RssRow[] = [];
  for (const c of cluster.state.components) {
    const kb = rssKB(c.pid);
    rows.push({ process: c.name, pids: [c.pid], rssMB: kb === undefined ? null : round(kb / 1024) });
  }
  for (const m of cluster.state.machines) {
    const { pids, via } = agentPids(m);
    const kbs = pids.map(rssKB).filter((x): x is number => x !== undefined);
    rows.push({ process: `agent ${m.name}`, pids, rssMB: kbs.length ? round(kbs.reduce((a, b) => a + b, 0) / 1024) : null, via });
  }
  return rows;
}
