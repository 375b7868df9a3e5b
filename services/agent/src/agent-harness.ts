// For tests of the agent: a real Agent over a fake registry and a fake systemd, with real unit
// files in a temporary directory and a monotonic clock the test moves by hand.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  /** Passes the agent asked for (requestPass). */
  readonly requested: string[];
  /** The shared monotonic clock, in ms. */
  now: number;
  /** Moves the clock on and lets systemd's timers fire. */
  advance(ms: number): void;
  close(): void;
}

export function agentHarness(o: { ttlSeconds?: number; dir?: string; instance?: string } = {}): AgentHarness {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "fleet-agent-test-"));
  const files = new UnitFiles(join(dir, "units"), join(dir, "runtime"));
  const clock = { now: 1_000_000 };
  const requested: string[] = [];
  const registry = new FakeAgentRegistry();
  const systemd = new FakeUnitManager({ runtimeDir: files.runtimeDir, now: () => clock.now });
  const agent = new Agent(TEST_MACHINE, o.ttlSeconds ?? 5, registry, systemd, files, createLogger("agent-test", "silent"), {
    now: () => clock.now,
    requestPass: (why) => requested.push(why),
    instance: o.instance ?? "instance-a",
  });
  return {
    agent,
    registry,
    systemd,
    files,
    dir,
    requested,
    get now() {
      return clock.now;
    },
    set now(ms: number) {
      clock.now = ms;
    },
    advance(ms) {
      clock.now += ms;
      systemd.tick();
    },
    close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Lets batched reports go out. */
export const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 40));
