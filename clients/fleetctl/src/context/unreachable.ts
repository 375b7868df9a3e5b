// What fleetctl says when it cannot reach the api: one human line naming the address and why,
// instead of Node's or grpc-js's raw text ("No connection established. Last error: Error:
// connect ECONNREFUSED 127.0.0.1:1. Resolution note: "). Pure.

const WHY: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused (is the api running there?)",
  ENOENT: "no such socket",
  EACCES: "permission denied",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ECONNRESET: "connection reset",
  ENOTFOUND: "unknown host",
  EAI_AGAIN: "host name lookup failed",
};

/** The human line for a connection failure in `message`, or undefined when it is not one. */
export function unreachableMessage(message: string): string | undefined {
  const connect = /\bconnect (E[A-Z_]+) ([^\s]+?)\.?(?:\s|$)/.exec(message);
  if (connect) {
    const [, code = "", address = ""] = connect;
    return `cannot reach the api at ${address}: ${WHY[code] ?? code}`;
  }
  const lookup = /\bgetaddrinfo (E[A-Z_]+) ([^\s]+?)\.?(?:\s|$)/.exec(message);
  if (lookup) {
    const [, code = "", host = ""] = lookup;
    return `cannot reach the api at ${host}: ${WHY[code] ?? code}`;
  }
  return undefined;
}
