// Applies caller-policy.ts to RegistryService: each call's certificate common name is read from
// its connection (mutual TLS), and a call its caller may not make fails PERMISSION_DENIED
// before its handler runs. An agent's heartbeat stream is checked message by message.
import { certificateCommonName, failStream, FleetError, toServiceError, type AuthContext, type Logger, type RegistryServiceServer } from "@fleet/wire";
import { AGENT_METHODS, callerOf, refusal, type Caller, type CallerIdentities } from "./caller-policy.js";

export interface CallerGuardOptions extends CallerIdentities {
  readonly mutualTls: boolean;
}

interface AnyCall {
  readonly request?: unknown;
  getAuthContext(): AuthContext | null;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** RegistryService with every method behind the caller policy (unchanged without mutual TLS). */
export function guardRegistryService(impl: RegistryServiceServer, options: CallerGuardOptions, log: Logger): RegistryServiceServer {
  if (!options.mutualTls) return impl;
  const callerOfCall = (call: AnyCall): Caller => callerOf(certificateCommonName(call.getAuthContext()?.sslPeerCertificate?.subject), true, options);
  const denied = (method: string, caller: Caller, why: string) => {
    log.warn({ method, caller }, `refused: ${why}`);
    return new FleetError("permission-denied", why);
  };
  const guarded: Record<string, unknown> = {};
  for (const [method, handler] of Object.entries(impl) as Array<[string, (call: AnyCall, callback?: (err: unknown, res: unknown) => void) => void]>) {
    const machineOf = AGENT_METHODS[method];
    guarded[method] = (call: AnyCall, callback?: (err: unknown, res: unknown) => void) => {
      const caller = callerOfCall(call);
      const request = call.request as Record<string, unknown> | undefined;
      const why = refusal(caller, method, request && machineOf ? machineOf(request) : undefined);
      if (why) {
        const err = denied(method, caller, why);
        if (callback) callback(toServiceError(err), null);
        else failStream(call as Parameters<typeof failStream>[0], err);
        return;
      }
      if (method === "machineHeartbeats" && caller.kind === "agent") {
        // Each message names its machine: only the caller's own.
        const on = call.on.bind(call);
        (call as { on: AnyCall["on"] }).on = (event, listener) =>
          on(event, event !== "data" ? listener : (req: unknown) => {
            const id = String((req as { machineId?: unknown }).machineId ?? "");
            if (id === caller.machineId) listener(req);
            else {
              const why2 = refusal(caller, method, id) ?? "";
              log.warn({ method, caller }, `refused: ${why2}`);
              failStream(call as Parameters<typeof failStream>[0], new FleetError("permission-denied", why2));
            }
          });
      }
      handler(call, callback);
    };
  }
  return guarded as unknown as RegistryServiceServer;
}
