// One simulated machine: the agent's own code, assembled as services/agent/src/main.ts does
// (GatewayRegistry with its heartbeat deadline, Agent, ReconcileLoop, HeartbeatLoop, the NATS
// hint subscriptions), with two things in place of the host: the fake systemd of the agent's
// tests (services/agent/src/fake-systemd.ts: units start and stop at once, nothing runs) and
// unit files in a directory of its own on tmpfs. What main.ts also does and this does not:
// serve AgentService (journals and status for the api) and connect to D-Bus.
import { join } from "node:path";
import type { Logger } from "pino";
import { ALL_MACHINES_SUBJECT, hintDelayMs, machineSubject, ReconcileLoop, type Hint } from "@fleet/domain";
import { connectHintBus } from "@fleet/wire";
import { Agent, FakeUnitManager, GatewayRegistry, HeartbeatLoop, UnitFiles } from "@fleet/agent";

export interface SimMachineOptions {
  id: string;
  gateway: string;
  natsServers: string[];
  ttlSeconds: number;
  reconcileSeconds: number;
  dir: string;
  log: Logger;
}

export type SimMachine = Awaited<ReturnType<typeof createSimMachine>>;

export async function createSimMachine(o: SimMachineOptions) {
  const log = o.log.child({ machineId: o.id });
  const machine = { id: o.id, publicIp: "127.0.0.1", metadata: {} };
  const ttlMs = o.ttlSeconds * 1000;
  const registry = new GatewayRegistry(o.gateway, o.id).timeFor(ttlMs); // as main.ts
  const files = new UnitFiles(join(o.dir, "units"), join(o.dir, "runtime"));
  const systemd = new FakeUnitManager({ runtimeDir: files.runtimeDir });
  const loop: ReconcileLoop = new ReconcileLoop({
    intervalMs: o.reconcileSeconds * 1000,
    pass: (trigger) => agent.reconcile(trigger),
    onError: (err) => log.warn({ err: err instanceof Error ? err.message : String(err) }, "reconcile failed"),
  });
  const agent: Agent = new Agent(machine, o.ttlSeconds, registry, systemd, files, log, { requestPass: (why) => loop.trigger(why) });
  const hints = await connectHintBus(o.natsServers, `agent-${o.id}`, log);
  const onHint = (hint: Hint) => {
    registry.observe(hint.revision);
    loop.triggerAfter(hint.what, hintDelayMs(hint, Math.random)); // as main.ts
  };
  hints.subscribe(machineSubject(o.id), onHint);
  hints.subscribe(ALL_MACHINES_SUBJECT, onHint);
  const heartbeat = new HeartbeatLoop({
    ttlMs,
    beat: () => agent.heartbeat(),
    onError: (err, failures, retryInMs) =>
      log.warn({ err: err instanceof Error ? err.message : String(err), failures, retryInMs: Math.round(retryInMs) }, "heartbeat failed; retrying"),
  });
  let state: "created" | "running" | "killed" | "stopped" = "created";
  return {
    id: o.id,
    get state() {
      return state;
    },
    get registrations() {
      return agent.registrations;
    },
    /** Units the fake systemd runs now. */
    activeUnits(): number {
      let n = 0;
      for (const s of systemd.units.values()) if (s.activeState === "active") n++;
      return n;
    },
    start(): void {
      state = "running";
      heartbeat.start();
      loop.start();
      log.info({ gateway: o.gateway }, "simulated agent started");
    },
    /** Power loss: timers stop and connections drop at once; nothing is deregistered. */
    kill(): void {
      state = "killed";
      void heartbeat.stop();
      void loop.stop();
      registry.close();
      void hints.close();
    },
    /** A clean stop, as main.ts does on SIGTERM. */
    async stop(): Promise<void> {
      if (state === "killed") return;
      state = "stopped";
      await heartbeat.stop();
      await loop.stop();
      await hints.close();
      registry.close();
      systemd.close();
    },
  };
}
