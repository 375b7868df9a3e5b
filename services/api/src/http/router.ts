// Which resource a path names, as fleet's ServeMux routes them: the same resources under
// /fleet/v1 and the older /v1-alpha prefix; an item is one path segment after its
// collection; "/" and the bare prefix are 405, anything else 404. Pure.

export type Route =
  | { readonly kind: "units" }
  | { readonly kind: "unit"; readonly name: string }
  | { readonly kind: "states" }
  | { readonly kind: "state"; readonly name: string }
  | { readonly kind: "machines" }
  | { readonly kind: "discovery" }
  | { readonly kind: "method-not-allowed" }
  | { readonly kind: "not-found" };

export const PREFIXES = ["/fleet/v1", "/v1-alpha"] as const;

function collectionOrItem(rest: string, name: string): { item: string | undefined } | undefined {
  if (rest === `/${name}`) return { item: undefined };
  const head = `/${name}/`;
  if (!rest.startsWith(head)) return undefined;
  const item = rest.slice(head.length);
  if (item === "" || item.includes("/")) return undefined;
  return { item };
}

export function route(path: string): Route {
  if (path === "/") return { kind: "method-not-allowed" };
  const prefix = PREFIXES.find((p) => path === p || path.startsWith(`${p}/`));
  if (prefix === undefined) return { kind: "not-found" };
  const rest = path.slice(prefix.length);
  if (rest === "") return { kind: "method-not-allowed" };
  if (rest === "/machines") return { kind: "machines" };
  if (rest === "/discovery" || rest === "/discovery.json") return { kind: "discovery" };
  const units = collectionOrItem(rest, "units");
  if (units) return units.item === undefined ? { kind: "units" } : { kind: "unit", name: units.item };
  const states = collectionOrItem(rest, "state");
  if (states) return states.item === undefined ? { kind: "states" } : { kind: "state", name: states.item };
  return { kind: "not-found" };
}
