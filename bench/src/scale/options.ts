// Command-line options of the scale bench. Pure: parseOptions(argv) -> options, or throws with
// a message that names the bad option.
import { DEFAULT_HINT_SPREAD_RATE } from "@fleet/domain";

export const USAGE = `usage: npm run bench:scale -- --machines N --units M [options]
  --machines N          simulated machines (default 1000)
  --units M             units created, in CreateUnits batches of 1000 (default 10000)
  --ttl S               agent_ttl in seconds, agents and engines (default 5)
  --gateways G          registry-gateways; each machine is given all of them (default 1)
  --soak-seconds S      idle soak that counts spurious machine losses (default 120)
  --idle-seconds S      quiet window before the soak for idle CPU/RSS/etcd figures (default 20)
  --busy                run one CPU burner per core during the soak (cores saturated)
  --ramp-seconds R      start the agents spread over R seconds (default 0: all at once)
  --per-worker K        simulated machines per worker process (default 250)
  --sim-nice N          niceness of the worker processes (default 10: the simulated machines
                        stand for other hosts, they take only the cores the control plane leaves)
  --global-units K      global units (X-Fleet Global=true) created on every machine after the
                        read figures (default 5; 0 skips it)
  --hint-spread-rate R  the gateways' hint_spread_rate: their hint for a global unit asks the
                        agents to spread their passes over machines / R seconds (default 1000;
                        0: all at once)
  --failover-share F    share of the machines stopped at the end (default 0.1; 0 skips it)
  --reconcile S         agent and engine reconcile interval in seconds (default 5)
  --agent-log LEVEL     simulated agents' log level (default info)
  --keep-logs           keep the state dir (logs) even when the run is clean
  --deadline S          hard deadline of the whole run (default 1500)`;

export interface ScaleOptions {
  machines: number;
  units: number;
  ttl: number;
  gateways: number;
  soakSeconds: number;
  idleSeconds: number;
  busy: boolean;
  rampSeconds: number;
  perWorker: number;
  simNice: number;
  failoverShare: number;
  globalUnits: number;
  hintSpreadRate: number;
  reconcile: number;
  agentLog: string;
  keepLogs: boolean;
  deadline: number;
  help?: boolean;
}

const DEFAULTS: ScaleOptions = {
  machines: 1000,
  units: 10000,
  ttl: 5,
  gateways: 1,
  soakSeconds: 120,
  idleSeconds: 20,
  busy: false,
  rampSeconds: 0,
  perWorker: 250,
  simNice: 10,
  failoverShare: 0.1,
  globalUnits: 5,
  hintSpreadRate: DEFAULT_HINT_SPREAD_RATE,
  reconcile: 5,
  agentLog: "info",
  keepLogs: false,
  deadline: 1500,
};

type NumericKey = { [K in keyof ScaleOptions]-?: ScaleOptions[K] extends number ? K : never }[keyof ScaleOptions];

/** flag -> [option, min, max, integer]. */
const NUMERIC: Record<string, [NumericKey, number, number, boolean]> = {
  "--machines": ["machines", 1, 20000, true],
  "--units": ["units", 0, 200000, true],
  "--ttl": ["ttl", 1, 600, true],
  "--gateways": ["gateways", 1, 9, true],
  "--soak-seconds": ["soakSeconds", 0, 3600, false],
  "--idle-seconds": ["idleSeconds", 1, 600, false],
  "--per-worker": ["perWorker", 1, 5000, true],
  "--sim-nice": ["simNice", 0, 19, true],
  "--ramp-seconds": ["rampSeconds", 0, 600, false],
  "--failover-share": ["failoverShare", 0, 0.5, false],
  "--global-units": ["globalUnits", 0, 100, true],
  "--hint-spread-rate": ["hintSpreadRate", 0, 1_000_000, true],
  "--reconcile": ["reconcile", 1, 600, true],
  "--deadline": ["deadline", 60, 86400, false],
};

/** argv (without node and the script) -> options. Throws on an unknown or bad option. */
export function parseOptions(argv: string[]): ScaleOptions {
  const o: ScaleOptions = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline]: [string, string | undefined] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const numeric = NUMERIC[flag];
    if (flag === "--busy") o.busy = true;
    else if (flag === "--keep-logs") o.keepLogs = true;
    else if (flag === "--help" || flag === "-h") o.help = true;
    else if (flag === "--agent-log") o.agentLog = inline ?? argv[++i] ?? "";
    else if (numeric) {
      const [key, min, max, integer] = numeric;
      const text = inline ?? argv[++i];
      const v = Number(text);
      if (text === undefined || text === "" || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
        throw new Error(`${flag} wants ${integer ? "an integer" : "a number"} in ${min}..${max}, got ${JSON.stringify(text)}`);
      }
      o[key] = v;
    } else throw new Error(`unknown option ${JSON.stringify(arg)}\n${USAGE}`);
  }
  if (!["error", "warn", "info", "debug", "silent"].includes(o.agentLog)) throw new Error(`--agent-log wants error, warn, info, debug or silent, got ${JSON.stringify(o.agentLog)}`);
  return o;
}
