// The streams RegistryService serves from the gateway's feeds (WatchCluster, WatchUnits): their
// messages on the wire, and the serving itself (subscribe once ready, cut off slow readers).
import {
  failStream,
  FleetError,
  machineToWire,
  placementToWire,
  unitStateToWire,
  unitToWire,
  type ServerWritableStream,
  type WatchClusterResponse,
  type WatchUnitsResponse,
} from "@fleet/wire";
import type { ClusterDelta } from "./cluster-feed.js";
import type { UnitsUpdate } from "./units-feed.js";

/** A WatchCluster client that lets this much pile up unread is cut off (it re-syncs). */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/** Units one WatchUnits call may name. */
export const MAX_WATCHED_UNITS = 10_000;

export function updateToWire(u: UnitsUpdate): WatchUnitsResponse {
  return {
    revision: u.revision,
    units: u.units.map((r) => ({ unit: unitToWire(r.unit), placement: placementToWire(r.placement), states: r.states.map(unitStateToWire) })),
    missing: u.missing,
  };
}

/**
 * Serves a stream from a feed: subscribe once the registry reflects minRevision, write every
 * message, cut off a client that lets MAX_BUFFERED_BYTES pile up unread, and unsubscribe when
 * the call ends.
 */
export function serveFeed<Req, Res>(
  call: ServerWritableStream<Req, Res>,
  ready: Promise<void>,
  subscribe: (write: (message: Res) => void, end: (err: FleetError) => void) => () => void,
  what: string,
): void {
  let unsubscribe: (() => void) | undefined;
  let closed = false;
  const close = (): void => {
    closed = true;
    unsubscribe?.();
  };
  const fail = (err: FleetError): void => {
    close();
    failStream(call, err);
  };
  call.on("cancelled", close);
  call.on("close", close);
  call.on("error", close);
  ready.then(
    () => {
      if (closed) return;
      unsubscribe = subscribe(
        (message) => {
          if (closed) return;
          if (call.writableLength > MAX_BUFFERED_BYTES) return fail(new FleetError("unavailable", `${what} client reads too slowly; open a new watch`));
          call.write(message);
        },
        (err) => {
          if (!closed) fail(err);
        },
      );
    },
    (err: unknown) => fail(err instanceof FleetError ? err : new FleetError("internal", String(err))),
  );
}

export function deltaToWire(d: ClusterDelta): WatchClusterResponse {
  return {
    revision: d.revision,
    snapshot: d.snapshot,
    units: d.units.map(unitToWire),
    removedUnits: d.removedUnits,
    placements: d.placements.map(placementToWire),
    removedPlacements: d.removedPlacements,
    machines: d.machines.map(machineToWire),
    removedMachines: d.removedMachines,
    states: (d.states ?? []).map(unitStateToWire),
    removedStates: d.removedStates ?? [],
    requestIds: d.requestIds ?? [],
  };
}
