// For tests of the agent: a real Agent over a fake registry and a fake systemd, with real unit
// files in a temporary directory and fake clocks the test moves by hand (no test waits in real
// time). Two clocks: the agent's (the fence, the lease, systemd's timers, start jobs) and the
// state publisher's, so that letting the batched reports go out (settle) does not move the
// fence's time.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeClock, turn } from "@fleet/domain/fixtures";
import { createLogger } from "@fleet/wire";
import { Agent } from "./agent.js";
import { FakeAgentRegistry } from "./fake-registry.js";
import { FakeUnitManager } from "./fake-systemd.js";
import { UnitFiles } from "./unit-files.js";

export const TEST_MACHINE = { id: "0123456789abcdef0123456789abcdef", publicIp: "10.0.0.1", metadata: {} };

export interface AgentHarness {
  readonly agent: Agent;
  readonly registry: FakeAgentRegistry;
  readonly systemd: FakeUnitManager;
  readonly files: UnitFiles;
  readonly dir: string;
  /** The agent's clock (the fence's, systemd's timers, start jobs). */
  readonly clock: FakeClock;
  /** Passes the agent asked for (requestPass). */
  readonly requested: string[];
  /** The agent's monotonic time, in ms (it only moves on). */
  now: number;
  /** Moves the agent's clock on and lets systemd's timers fire. */
  advance(ms: number): void;
  /** Lets the batched state reports go out (the publisher's clock moves on; the agent's does not). */
  settle(): Promise<void>;
  /** Lets the agent's promise chains and file I/O run until `condition` holds. */
  until(condition: () => boolean): Promise<void>;
  /** Another agent on the same machine (its restart): the same registry, systemd, files and clocks.
   * `agent` stays the first one. */
  restart(): Agent;
  close(): void;
}

export function agentHarness(o: { ttlSeconds?: number; dir?: string; instance?: string } = {}): AgentHarness {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "fleet-agent-test-"));
  const files = new UnitFiles(join(dir, "units"), join(dir, "runtime"));
  const clock = new FakeClock(1_000_000);
  const reportClock = new FakeClock();
  const requested: string[] = [];
  const registry = new FakeAgentRegistry();
  const systemd = new FakeUnitManager({ runtimeDir: files.runtimeDir, now: () => clock.now(), clock });
  const log = createLogger("agent-test", "silent");
  const makeAgent = () =>
    new Agent(TEST_MACHINE, o.ttlSeconds ?? 5, registry, systemd, files, log, {
      clock,
      reportClock,
      requestPass: (why) => requested.push(why),
      instance: o.instance ?? "instance-a",
    });
  const agents = [makeAgent()];
  return {
    agent: agents[0]!,
    registry,
    systemd,
    files,
    dir,
    clock,
    requested,
    get now() {
      return clock.now();
    },
    set now(ms: number) {
      clock.set(ms);
    },
    advance(ms) {
      clock.advance(ms);
      systemd.tick();
    },
    async settle() {
      await reportClock.advanceAsync(250);
      for (const a of agents) await a.reported();
      await turn();
    },
    async until(condition) {
      for (let i = 0; !condition(); i++) {
        if (i > 10_000) throw new Error("the condition did not come true");
        await turn();
      }
    },
    restart() {
      agents.push(makeAgent());
      return agents[agents.length - 1]!;
    },
    close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
