// What this server says it is: fleetd 1.0 sent `Server: fleetd/<version>` on every response of
// its HTTP API; this one sends its own name and version the same way.
import { readFileSync } from "node:fs";

/** The api's version: its package's (services/api/package.json, two levels above src/http and dist/http). */
export const API_VERSION: string = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** The Server header of every HTTP API v1 response. */
export const SERVER_HEADER = `fleet-api/${API_VERSION}`;
