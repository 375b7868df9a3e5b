// CPU burners for --busy: one busy-looping process per core at normal priority (nice 0), so
// that the control plane and the simulated machines compete for saturated cores, as other work
// on a real machine would make them. Stopped by the PIDs recorded here, and only those.
import { spawn } from "node:child_process";
import { cpus } from "node:os";
import { procStartTime, terminate } from "@fleet/launcher";
import type { NamedProc, StopResult } from "./proc-stats.js";

export interface Burners {
  procs: NamedProc[];
  stop(): Promise<StopResult>;
}

export function startBurners(n = cpus().length): Burners {
  const procs: (NamedProc & { startTime: string })[] = [];
  for (let i = 0; i < n; i++) {
    const child = spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
    const pid = child.pid ?? -1;
    procs.push({ name: `burner-${i + 1}`, pid, startTime: procStartTime(pid) ?? "" });
  }
  return {
    procs,
    async stop() {
      const ok = await Promise.all(procs.map((p) => terminate(p, 2_000)));
      return { stopped: procs.filter((_, i) => ok[i]).map((p) => `${p.name} (pid ${p.pid})`), errors: procs.filter((_, i) => !ok[i]).map((p) => `${p.name} (pid ${p.pid}) did not exit`) };
    },
  };
}
