// What the gateways' /metrics say: the calls they answered, by method (fleet_grpc_server_handled_total
// summed over gateways and status codes, and the state reports and schedule reads agents sent on
// their heartbeat streams, as "ReportUnitStates (stream)" and "GetMachineSchedule (stream)"; per machine, it shows which of the agents' calls a
// phase's gateway CPU went to), and how many machines each hears (fleet_gateway_machines_heard:
// how the agents spread over the gateways).

type Component = { readonly kind: string; readonly name: string; readonly metricsUrl?: string };

/** Each gateway's /metrics text ("" when it does not answer). */
async function gatewayMetrics(components: readonly Component[]): Promise<Array<{ name: string; text: string }>> {
  const gateways = components.filter((c) => c.kind === "registry-gateway" && c.metricsUrl);
  return Promise.all(
    gateways.map(async (c) => ({
      name: c.name,
      text: await fetch(c.metricsUrl ?? "", { signal: AbortSignal.timeout(5_000) })
        .then((r) => r.text())
        .catch(() => ""),
    })),
  );
}

/** The names the requests agents send on their heartbeat streams are counted under, by kind. */
export const STREAM_REQUESTS: Readonly<Record<string, string>> = { report: "ReportUnitStates (stream)", schedule: "GetMachineSchedule (stream)" };

/** method -> calls answered (and stream reports), from one /metrics text. Pure. */
export function handledByMethod(metricsText: string): Map<string, number> {
  const out = new Map<string, number>();
  const add = (method: string, n: number) => out.set(method, (out.get(method) ?? 0) + n);
  for (const m of metricsText.matchAll(/^fleet_grpc_server_handled_total\{([^}]*)\} (\d+(?:\.\d+)?(?:e\+?\d+)?)$/gm)) {
    const method = /method="([^"]*)"/.exec(m[1] ?? "")?.[1];
    if (method) add(method, Number(m[2]));
  }
  for (const m of metricsText.matchAll(/^fleet_gateway_stream_requests_total\{([^}]*)\} (\d+(?:\.\d+)?(?:e\+?\d+)?)$/gm)) {
    const kind = /kind="([^"]*)"/.exec(m[1] ?? "")?.[1] ?? "";
    add(STREAM_REQUESTS[kind] ?? `${kind} (stream)`, Number(m[2]));
  }
  return out;
}

export type GatewayCalls = Map<string, number>;

/** One scrape of every gateway: their calls, summed (by method), and each one's longest event-loop delay since the previous scrape (prom-client resets it on every scrape), in ms. */
export async function scrapeGateways(components: readonly Component[]): Promise<{ calls: GatewayCalls; loopLagMaxMs: Record<string, number> }> {
  const calls = new Map<string, number>();
  const loopLag: Record<string, number> = {};
  for (const { name, text } of await gatewayMetrics(components)) {
    for (const [method, n] of handledByMethod(text)) calls.set(method, (calls.get(method) ?? 0) + n);
    const ms = loopLagMaxMs(text);
    if (ms !== undefined) loopLag[name] = ms;
  }
  return { calls, loopLagMaxMs: loopLag };
}

/** Every gateway's calls, summed (by method). */
export async function scrapeGatewayCalls(components: readonly Component[]): Promise<GatewayCalls> {
  return (await scrapeGateways(components)).calls;
}

/** Calls between two scrapes, per machine, by method (those made at least once). Pure. */
export function callsPerMachine(before: GatewayCalls, after: GatewayCalls, machines: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [method, n] of [...after].sort((a, b) => b[1] - a[1])) {
    const d = n - (before.get(method) ?? 0);
    if (d > 0) out[method] = Math.round((d / machines) * 100) / 100;
  }
  return out;
}

/** Each gateway's fleet_gateway_machines_heard, by gateway name. */
export async function machinesHeard(components: readonly Component[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const { name, text } of await gatewayMetrics(components)) {
    const m = /^fleet_gateway_machines_heard (\d+)$/m.exec(text);
    if (m) out[name] = Number(m[1]);
  }
  return out;
}

/** The longest event-loop delay a /metrics text reports (prom-client's, since the previous scrape), in ms. Pure. */
export function loopLagMaxMs(metricsText: string): number | undefined {
  const m = /^fleet_nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? (\S+)$/m.exec(metricsText);
  return m ? Math.round(Number(m[1]) * 1000 * 10) / 10 : undefined;
}
