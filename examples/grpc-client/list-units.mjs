// A client of fleet's public gRPC API (fleet.v1.FleetService) written as any third party would:
// @grpc/grpc-js and @grpc/proto-loader, the .proto files of proto/, nothing of fleet's own code.
//   FLEET_API=127.0.0.1:49500 [FLEETCTL_TOKEN=...] node examples/grpc-client/list-units.mjs
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";

const endpoint = process.env.FLEET_API ?? "127.0.0.1:49500";
// fleet/v1/fleet.proto imports fleet/v1/types.proto: the include directory is proto/ itself.
const protoDir = process.env.FLEET_PROTO_DIR ?? new URL("../../proto", import.meta.url).pathname;
const definition = protoLoader.loadSync("fleet/v1/fleet.proto", {
  includeDirs: [protoDir],
  keepCase: false, // camelCase fields (machineId), as fleet's JSON and docs name them
  enums: String, // enum values by name ("TARGET_STATE_LAUNCHED"), not numbers
  longs: Number, // int64 revisions as numbers
  defaults: true, // absent fields as their defaults ("", 0, [])
});
const { FleetService } = grpc.loadPackageDefinition(definition).fleet.v1;
const client = new FleetService(endpoint, grpc.credentials.createInsecure());

// With auth on, every call carries a token (or the channel a client certificate).
const metadata = new grpc.Metadata();
if (process.env.FLEETCTL_TOKEN) metadata.set("authorization", `Bearer ${process.env.FLEETCTL_TOKEN}`);

client.listUnits({ offset: 0, limit: 0 }, metadata, { deadline: Date.now() + 5000 }, (err, res) => {
  client.close();
  if (err) {
    console.error(`ListUnits failed: ${err.details || err.message} (${grpc.status[err.code]})`);
    process.exit(1);
  }
  for (const view of res.units) {
    console.log([view.unit.name, view.unit.desiredState, view.currentState, view.machineId || "-"].join("\t"));
  }
  console.log(`${res.total} unit(s)`);
});
