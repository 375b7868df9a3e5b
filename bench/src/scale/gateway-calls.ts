// What the gateways answered during a phase: fleet_grpc_server_handled_total summed over every
// gateway and status code, by method, from their /metrics. Counting calls per machine shows
// which of the agents' calls a phase's gateway CPU went to.

/** method -> calls answered, from one /metrics text. Pure. */
export function handledByMethod(metricsText: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of metricsText.matchAll(/^fleet_grpc_server_handled_total\{([^}]*)\} (\d+(?:\.\d+)?(?:e\+?\d+)?)$/gm)) {
    const method = /method="([^"]*)"/.exec(m[1] ?? "")?.[1];
    if (method) out.set(method, (out.get(method) ?? 0) + Number(m[2]));
  }
  return out;
}

export type GatewayCalls = Map<string, number>;

/** Every gateway's calls, summed (by method). */
export async function scrapeGatewayCalls(components: readonly { kind: string; metricsUrl?: string }[]): Promise<GatewayCalls> {
  const sum = new Map<string, number>();
  for (const c of components) {
    if (c.kind !== "registry-gateway" || !c.metricsUrl) continue;
    const text = await fetch(c.metricsUrl, { signal: AbortSignal.timeout(5_000) })
      .then((r) => r.text())
      .catch(() => "");
    for (const [method, n] of handledByMethod(text)) sum.set(method, (sum.get(method) ?? 0) + n);
  }
  return sum;
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
