// fleetctl's version, printed by `fleetctl version` and `fleetctl --version`.
export const FLEETCTL_VERSION = "0.1.0";
