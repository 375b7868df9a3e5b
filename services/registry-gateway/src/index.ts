// What tests outside this workspace use of the registry-gateway.
export { gatewayConfigSchema } from "./config.js";
