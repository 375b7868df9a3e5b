// What tests outside this workspace use of the agent.
export { DbusUnitManager, MAX_UNIT_MATCHES } from "./systemd.js";
// The scale bench's simulated machines are made of the agent's own parts, with the fake systemd.
export { Agent } from "./agent.js";
export { GatewayRegistry } from "./gateway-registry.js";
export { HeartbeatLoop } from "./heartbeat-loop.js";
export { FakeUnitManager } from "./fake-systemd.js";
export { UnitFiles } from "./unit-files.js";
export { agentService } from "./agent-service.js";
export { agentConfigSchema } from "./config.js";
