// What every gRPC server of fleet answers besides its own services: grpc.health.v1.Health
// (NOT_SERVING until the process says it is ready), per-method metrics from a server
// interceptor, and, where asked for, server reflection over the project's proto files (so
// grpcurl and grpcui need no -proto flags).
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ResponderBuilder, ServerInterceptingCall, status as grpcStatus, type Server, type ServerInterceptor } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation, protoPath as healthProtoPath } from "grpc-health-check";
import { grpcServerHandled, grpcServerSeconds, splitMethodPath } from "./metrics.js";

/** The status code's name as Prometheus labels carry it ("OK", "UNAVAILABLE", …). Pure. */
export function statusCodeName(code: number): string {
  return (grpcStatus as unknown as Record<number, string>)[code] ?? String(code);
}

/** Counts and times every call by service, method and status code. */
export const metricsInterceptor: ServerInterceptor = (descriptor, call) => {
  const { service, method } = splitMethodPath(descriptor.path);
  const end = grpcServerSeconds.startTimer({ service, method });
  return new ServerInterceptingCall(
    call,
    new ResponderBuilder()
      .withSendStatus((status, next) => {
        end();
        grpcServerHandled.inc({ service, method, code: statusCodeName(status.code) });
        next(status);
      })
      .build(),
  );
};

/** A server's health: every service it serves (and "", the server as a whole) in one state. */
export class ServingHealth {
  private readonly impl: HealthImplementation;
  private serving = false;

  constructor(
    server: Server,
    private readonly services: readonly string[],
  ) {
    this.impl = new HealthImplementation(Object.fromEntries(["", ...services].map((s) => [s, "NOT_SERVING" as const])));
    this.impl.addToServer(server);
  }

  /** SERVING (ready) or NOT_SERVING, for the server and each service; a change reaches Watch callers. */
  set(serving: boolean): void {
    if (serving === this.serving) return;
    this.serving = serving;
    for (const s of ["", ...this.services]) this.impl.setStatus(s, serving ? "SERVING" : "NOT_SERVING");
  }
}

/** Keeps `health` SERVING while `ready` says so (checked every `intervalMs`); returns the stop. */
export function healthFollows(health: ServingHealth, ready: () => string | undefined, intervalMs = 250): () => void {
  const check = () => health.set(ready() === undefined);
  check();
  const timer = setInterval(check, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** The repository's proto/ directory (three levels above this module, in src/ and in dist/ alike). */
export function protoDir(): string {
  return fileURLToPath(new URL("../../../proto", import.meta.url));
}

function protoFiles(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix)).flatMap((name) => {
    const rel = prefix ? `${prefix}/${name}` : name;
    if (statSync(join(dir, rel)).isDirectory()) return protoFiles(dir, rel);
    return name.endsWith(".proto") ? [rel] : [];
  });
}

/**
 * Adds server reflection for grpc.health.v1 and the proto/ files under `under` ("fleet/v1": the
 * public API only, as the api serves it; "fleet": the internal services too, as the gateway).
 */
export function addReflection(server: Server, under: string): void {
  const dir = protoDir();
  const definition = loadSync([...protoFiles(dir, under), healthProtoPath], { includeDirs: [dir], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  new ReflectionService(definition).addToServer(server);
}
