// Each simulated machine gets its own HTTP/2 connection to the gateway, as separate machines
// have. Left alone, grpc-js shares one connection among every channel of a process with the
// same target and options (its global subchannel pool): a local pool per channel is what
// the channel option grpc.use_local_subchannel_pool selects. Called once per process, before
// any channel is made (sim-worker.ts, grpc-floor.ts).
import { createRequire } from "node:module";

export function giveEveryChannelItsOwnConnection(): void {
  const require = createRequire(import.meta.url);
  const subchannelPool = require("@grpc/grpc-js/build/src/subchannel-pool.js") as { getSubchannelPool: (global: boolean) => unknown };
  const globalPool = subchannelPool.getSubchannelPool;
  subchannelPool.getSubchannelPool = () => globalPool(false);
}
