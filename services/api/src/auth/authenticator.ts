// Who a caller is: its credentials (credentials.ts) to a principal (@fleet/domain access.ts),
// or UNAUTHENTICATED. Tokens are looked up in the registry on every request (by their id, the
// secret's hash compared), so that a revocation through any api replica holds on the next one.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { ANONYMOUS_ADMIN, FleetError, isRole, tokenIdOfSecret, type Principal, type Role } from "@fleet/domain";
import { unary, type RegistryServiceClient } from "@fleet/wire";
import type { Credentials } from "./credentials.js";
import { INTERNAL_PRINCIPAL_HEADER, INTERNAL_SECRET_HEADER } from "./credentials.js";

export interface AuthOptions {
  /** Whether callers must authenticate; off: everyone is an admin (loopback only, see config.ts). */
  readonly enabled: boolean;
  /** An admin secret from auth_bootstrap_token_file, if any. */
  readonly bootstrapSecret?: string;
  /** Client certificate common names and their roles (auth_certificate_roles). */
  readonly certificateRoles: ReadonlyMap<string, Role>;
  /** The role of callers on the unix socket (api_unix_socket_role); none: they authenticate like others. */
  readonly socketRole?: Role;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

const UNAUTHENTICATED =
  "authentication required: present a token (Authorization: Bearer <token>; fleetctl --token or FLEETCTL_TOKEN) or a client certificate";

/** "role=..,role=.." parsing of auth_certificate_roles: `name=role` pairs, comma separated. */
export function parseCertificateRoles(value: string): Map<string, Role> {
  const roles = new Map<string, Role>();
  for (const pair of value.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const i = pair.lastIndexOf("=");
    const name = i > 0 ? pair.slice(0, i).trim() : "";
    const role = i > 0 ? pair.slice(i + 1).trim() : "";
    if (name === "" || !isRole(role)) throw new Error(`invalid value for auth_certificate_roles: ${JSON.stringify(pair)} is not <common name>=<viewer|operator|admin>`);
    roles.set(name, role);
  }
  return roles;
}

export class Authenticator {
  /** Vouches for principals on the api's calls to itself (HTTP API v1 over FleetService). */
  private readonly internalSecret = randomBytes(32).toString("hex");
  private readonly internalHash = sha256Hex(this.internalSecret);
  private readonly bootstrapHash: string | undefined;

  constructor(
    private readonly gateway: RegistryServiceClient,
    readonly options: AuthOptions,
  ) {
    this.bootstrapHash = options.bootstrapSecret ? sha256Hex(options.bootstrapSecret) : undefined;
  }

  /** The metadata the api's own calls carry for `principal`. */
  internalHeaders(principal: Principal): Record<string, string> {
    return { [INTERNAL_SECRET_HEADER]: this.internalSecret, [INTERNAL_PRINCIPAL_HEADER]: JSON.stringify(principal) };
  }

  async principal(creds: Credentials): Promise<Principal> {
    if (creds.internal) {
      if (!sameHash(sha256Hex(creds.internal.secret), this.internalHash)) throw new FleetError("unauthenticated", "invalid internal credentials");
      return JSON.parse(creds.internal.principal) as Principal;
    }
    if (!this.options.enabled) return ANONYMOUS_ADMIN;
    if (creds.bearer) return this.tokenPrincipal(creds.bearer);
    if (creds.certificate) {
      const role = this.options.certificateRoles.get(creds.certificate);
      if (!role) throw new FleetError("permission-denied", `client certificate ${JSON.stringify(creds.certificate)} has no role (auth_certificate_roles); present a token instead (Authorization: Bearer <token>; fleetctl --token or FLEETCTL_TOKEN)`);
      return { id: `cert:${creds.certificate}`, role, units: [] };
    }
    if (creds.socket && this.options.socketRole) return { id: "socket", role: this.options.socketRole, units: [] };
    throw new FleetError("unauthenticated", UNAUTHENTICATED);
  }

  private async tokenPrincipal(secret: string): Promise<Principal> {
    const hash = sha256Hex(secret);
    if (this.bootstrapHash && sameHash(hash, this.bootstrapHash)) return { id: "bootstrap", role: "admin", units: [] };
    const id = tokenIdOfSecret(secret);
    if (!id) throw new FleetError("unauthenticated", "invalid token: not a fleet token (fleet_<id>_<secret>)");
    const { token } = await unary(this.gateway.getToken.bind(this.gateway), { id });
    const info = token?.info;
    if (!token || !info || !sameHash(hash, token.secretHash)) throw new FleetError("unauthenticated", `invalid token ${id}: revoked, lapsed or never made`);
    if (info.expiresAtMs > 0 && info.expiresAtMs <= Date.now()) throw new FleetError("unauthenticated", `token ${id} lapsed`);
    if (!isRole(info.role)) throw new FleetError("unauthenticated", `token ${id} has no valid role`);
    return { id: `token:${id}`, role: info.role, units: info.units };
  }
}
