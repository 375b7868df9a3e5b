// Figure 1b's fallback when fleetctl does not work: a fresh node process that creates one
// unit through @fleet/wire and polls GetUnit until it is launched.
//   node bench/dist/run/fallback-client.js <unit name> <api endpoint>
import { connect, unary, FleetServiceClient, TargetState } from "@fleet/wire";
import { unitOptions } from "./api.js";

const [name, endpoint] = process.argv.slice(2);
if (!name || !endpoint) throw new Error("usage: fallback-client.js <unit name> <api endpoint>");
const c = connect(FleetServiceClient, endpoint);
await unary(c.createUnit.bind(c), { unit: { name, options: unitOptions(name), hash: "", desiredState: TargetState.TARGET_STATE_LAUNCHED } });
for (;;) {
  const r = await unary(c.getUnit.bind(c), { name });
  if (r.unit && r.unit.currentState === TargetState.TARGET_STATE_LAUNCHED) break;
  await new Promise((res) => setTimeout(res, 50));
}
c.close();
