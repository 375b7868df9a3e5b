// A list of endpoints of one service ("host:port,host:port"), as gateway_endpoint takes it, and
// the grpc-js target that fails over between them. Pure: parsing and naming only.

/** One endpoint: a host name, an IPv4 literal or a bracketed IPv6 literal, and a port. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** The URI scheme of a target listing several endpoints (endpoint-list-resolver.ts resolves it). */
export const ENDPOINT_LIST_SCHEME = "fleet-endpoints";

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV6 = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?$/;

/** The endpoint in `text`, or why it is not one. */
export function parseHostPort(text: string): HostPort | string {
  const colon = text.lastIndexOf(":");
  if (colon <= 0) return "is not host:port";
  const hostPart = text.slice(0, colon);
  const portPart = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portPart) || Number(portPart) < 1 || Number(portPart) > 65535) return "has no port between 1 and 65535";
  if (hostPart.startsWith("[")) {
    if (!hostPart.endsWith("]") || !IPV6.test(hostPart.slice(1, -1)) || !hostPart.includes(":")) return "is not a bracketed IPv6 address";
    return { host: hostPart.slice(1, -1), port: Number(portPart) };
  }
  if (hostPart.includes(":")) return "is not host:port (write an IPv6 address in brackets: [::1]:49400)";
  if (!HOST_NAME.test(hostPart)) return "has no valid host name";
  return { host: hostPart, port: Number(portPart) };
}

/** "host:port" again, with IPv6 hosts in brackets. */
export function hostPortString(hp: HostPort): string {
  return hp.host.includes(":") ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/**
 * The endpoints of a comma-separated list, in order. A single `unix:///path` is accepted alone
 * (a local socket has no peers to fail over to). Errors name the option.
 */
export function parseEndpointList(option: string, raw: string): readonly string[] {
  const bad = (why: string) => new Error(`invalid value for ${option}: "${raw}" ${why}`);
  const entries = raw.split(",").map((e) => e.trim());
  if (entries.length === 1 && /^unix:\/\/\/./.test(entries[0] ?? "")) return entries;
  const seen = new Set<string>();
  const out: string[] = [];
  for (const entry of entries) {
    if (entry === "") throw bad(raw.trim() === "" ? "is empty: give at least one host:port" : "has an empty entry (host:port,host:port)");
    if (entry.startsWith("unix:")) throw bad(`lists the unix socket "${entry}" with others: a unix socket goes alone`);
    const hp = parseHostPort(entry);
    if (typeof hp === "string") throw bad(`has an entry "${entry}" that ${hp}`);
    const normal = hostPortString(hp);
    if (seen.has(normal)) throw bad(`lists "${entry}" twice`);
    seen.add(normal);
    out.push(normal);
  }
  return out;
}

/**
 * The grpc-js target of the endpoints: one endpoint as it is (grpc's own DNS resolver), several
 * as `fleet-endpoints:a:1,b:2`, which endpoint-list-resolver.ts resolves to all their addresses.
 */
export function endpointListTarget(endpoints: readonly string[]): string {
  if (endpoints.length === 0) throw new Error("no endpoints");
  if (endpoints.length === 1) return endpoints[0] as string;
  return `${ENDPOINT_LIST_SCHEME}:${endpoints.join(",")}`;
}

/** The endpoints of a `fleet-endpoints:` target's path (the part after the scheme). */
export function endpointsOfTargetPath(path: string): HostPort[] {
  return path.split(",").flatMap((entry) => {
    const hp = parseHostPort(entry.trim());
    return typeof hp === "string" ? [] : [hp];
  });
}

/**
 * The endpoints in the order a client keyed `key` uses them: the list rotated by a hash of the
 * key (FNV-1a), so that many clients (agents keyed by machine id) spread evenly over the
 * endpoints, each always starting at the same one and failing over in list order from there.
 */
export function spreadEndpoints(endpoints: readonly string[], key: string): readonly string[] {
  if (endpoints.length < 2) return endpoints;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193) >>> 0;
  const start = hash % endpoints.length;
  return [...endpoints.slice(start), ...endpoints.slice(0, start)];
}
