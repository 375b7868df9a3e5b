// What tests outside this workspace use of the agent.
export { DbusUnitManager, MAX_UNIT_MATCHES } from "./systemd.js";
