// The shape of an API token's secret: `fleet_<id>_<random>`, the id (12 hex digits) in the
// clear so that the registry finds the token by id and compares only the secret's hash; the
// random part 32 bytes, base64url. Pure (the caller brings the random bytes).

const SECRET = /^fleet_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const ID = /^[0-9a-f]{12}$/;

export function isTokenId(value: string): boolean {
  return ID.test(value);
}

/** The id of a well-formed secret, or undefined. */
export function tokenIdOfSecret(secret: string): string | undefined {
  return SECRET.exec(secret)?.[1];
}

/** A secret from an id and 32 random bytes. */
export function formatTokenSecret(id: string, random: Uint8Array): string {
  if (!ID.test(id) || random.length !== 32) throw new Error("a token id is 12 hex digits and its random part 32 bytes");
  return `fleet_${id}_${Buffer.from(random).toString("base64url")}`;
}
