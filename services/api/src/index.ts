// What tests outside this workspace use of the api.
export { apiConfigSchema } from "./config.js";
