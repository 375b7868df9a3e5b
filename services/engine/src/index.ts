// What tests outside this workspace use of the engine.
export { engineConfigSchema } from "./config.js";
