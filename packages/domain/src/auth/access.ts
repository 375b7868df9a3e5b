// Who may do what through the api. Pure: a principal (who the caller is, as the api
// authenticated it) and what a request does in, a refusal's message out.
//
//   viewer    read: list units, machines and states, cat, status, journal
//   operator  also change units: submit, load, start, stop, unload, destroy, restart
//   admin     also machine metadata, tokens and the audit log
//
// A principal may be limited to unit names matching globs (as Nomad namespaces or Kubernetes
// resourceNames limit theirs): it neither reads nor changes other units, and lists show it
// only its own.
import { FleetError } from "../errors.js";
import { unitGlobError, unitGlobMatcher } from "./unit-glob.js";

export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** What a request needs. */
export type Permission = "read" | "change-units" | "admin";

export interface Principal {
  /** As the audit log names it: `token:<id>`, `cert:<identity>`, `bootstrap`, `socket`, `anonymous`. */
  readonly id: string;
  readonly role: Role;
  /** Unit name globs it is limited to; empty: every unit. */
  readonly units: readonly string[];
}

/** Every caller when auth is off (the api then serves only loopback and its unix socket). */
export const ANONYMOUS_ADMIN: Principal = { id: "anonymous", role: "admin", units: [] };

const GRANTS: Record<Role, readonly Permission[]> = {
  viewer: ["read"],
  operator: ["read", "change-units"],
  admin: ["read", "change-units", "admin"],
};

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** The role a value names, or an INVALID_ARGUMENT naming the roles. */
export function parseRole(value: string): Role {
  if (!isRole(value)) throw new FleetError("invalid-argument", `invalid role ${JSON.stringify(value)}: expected viewer, operator or admin`);
  return value;
}

/** Checks a token's unit globs (at most 32, each a valid glob of a unit name). */
export function assertUnitGlobs(globs: readonly string[]): void {
  if (globs.length > 32) throw new FleetError("invalid-argument", `at most 32 unit globs, not ${globs.length}`);
  for (const g of globs) {
    const err = unitGlobError(g);
    if (err) throw new FleetError("invalid-argument", err);
  }
}

const matchers = new Map<string, (name: string) => boolean>();

/** Whether the principal's scope covers the unit. */
export function inScope(principal: Principal, unitName: string): boolean {
  if (principal.units.length === 0) return true;
  return principal.units.some((glob) => {
    let m = matchers.get(glob);
    if (!m) {
      if (matchers.size > 1000) matchers.clear();
      matchers.set(glob, (m = unitGlobMatcher(glob)));
    }
    return m(unitName);
  });
}

/**
 * Refuses (PERMISSION_DENIED) a request needing `permission` on `units` that the principal may
 * not make: its role lacks the permission, or a unit is outside its globs. `what` names the
 * request for the message ("start units", "list tokens").
 */
export function assertAllowed(principal: Principal, permission: Permission, what: string, units: readonly string[] = []): void {
  const names = (list: readonly string[]) => (list.length === 0 ? "" : ` ${list.slice(0, 3).join(", ")}${list.length > 3 ? ` and ${list.length - 3} more` : ""}`);
  if (!GRANTS[principal.role].includes(permission)) {
    const needs = permission === "read" ? "viewer" : permission === "change-units" ? "operator" : "admin";
    throw new FleetError("permission-denied", `${principal.id} (role ${principal.role}) may not ${what}${names(units)}: that needs the ${needs} role`);
  }
  const outside = units.filter((u) => !inScope(principal, u));
  if (outside.length > 0) {
    throw new FleetError("permission-denied", `${principal.id} may not ${what}${names(outside)}: outside its units (${principal.units.join(", ")})`);
  }
}
