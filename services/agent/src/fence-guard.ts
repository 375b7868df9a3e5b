// The at-most-once fence on this machine (see at-most-once-fence.ts for the protocol): installs
// its units into systemd's runtime unit path and re-arms it after each renewal of the lease
// that came back within R, while the machine has AtMostOnce units.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "@fleet/wire";
import { fenceDeadline, fenceTiming, isArmed, lapsed, mayRearm, mayStart, rearmed, UNARMED, type FenceState, type FenceTiming, type Renewal } from "./at-most-once-fence.js";
import { FENCE_TARGET, FENCE_TIMER, fenceUnitFiles } from "./fence-units.js";
import type { UnitManager } from "./systemd.js";

/** A re-arm's D-Bus jobs are quick; past this the re-arm counts as failed. */
const REARM_TIMEOUT_MS = 2000;

export class FenceGuard {
  readonly timing: FenceTiming;
  private state: FenceState = UNARMED;
  private installed = false;
  /** Whether this machine has AtMostOnce units; only then is the fence re-armed. */
  wanted = false;

  constructor(
    private readonly systemd: UnitManager,
    private readonly runtimeDir: string,
    ttlSeconds: number,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {
    this.timing = fenceTiming(ttlSeconds * 1000);
  }

  armed(): boolean {
    return isArmed(this.timing, this.state, this.now());
  }

  /** Whether an AtMostOnce unit may be started now, going by a schedule read from `readAt` on. */
  mayStart(readAt: number): boolean {
    return this.installed && mayStart(this.timing, this.state, readAt, this.now());
  }

  /** Writes the fence's units (once per agent; again only if they differ, then reloads). */
  async install(): Promise<void> {
    if (this.installed) return;
    await mkdir(this.runtimeDir, { recursive: true });
    let rewritten = false;
    for (const [name, text] of fenceUnitFiles(this.timing.timerDelayMs)) {
      const path = join(this.runtimeDir, name);
      const before = await readFile(path, "utf8").catch(() => undefined);
      if (before === text) continue;
      const tmp = join(this.runtimeDir, `.${name}.tmp`);
      await writeFile(tmp, text, { mode: 0o644 });
      await rename(tmp, path);
      if (before !== undefined) rewritten = true;
    }
    // New files load on demand; a changed one (another agent_ttl) needs a reload.
    if (rewritten) await this.systemd.reload();
    this.installed = true;
    this.log.info({ dir: this.runtimeDir, timerDelayMs: this.timing.timerDelayMs }, "at-most-once fence installed");
  }

  /**
   * The machine leaves the cluster: stops the fence's timer and target (no AtMostOnce unit is
   * left, and none starts until an agent arms it again). Never throws: what cannot be stopped
   * fires later for nothing.
   */
  async disarm(): Promise<void> {
    this.wanted = false;
    this.state = lapsed(this.state);
    for (const unit of [FENCE_TIMER, FENCE_TARGET]) {
      await this.systemd.stopUnit(unit, REARM_TIMEOUT_MS).catch((err: unknown) => this.log.warn({ unit, err: (err as Error).message }, "at-most-once fence not stopped"));
    }
  }

  /**
   * After a renewal: re-arms the fence when the machine has AtMostOnce units and the renewal
   * came back within R. Resolves true when it was re-armed after a gap (systemd may have
   * stopped the AtMostOnce units meanwhile). Never throws: a failed re-arm counts as a lapse.
   */
  async onRenewal(r: Renewal): Promise<boolean> {
    if (!this.wanted || !this.installed) return false;
    if (!mayRearm(this.timing, r)) {
      this.log.warn({ roundTripMs: Math.round(r.receivedAt - r.sentAt), maxMs: this.timing.maxRoundTripMs }, "lease renewal too slow to re-arm the at-most-once fence");
      return false;
    }
    try {
      const timer = await this.systemd.restartUnit(FENCE_TIMER, REARM_TIMEOUT_MS, { urgent: true });
      if (timer !== "done") throw new Error(`restart of ${FENCE_TIMER}: ${timer}`);
      const target = await this.systemd.startUnit(FENCE_TARGET, REARM_TIMEOUT_MS, { urgent: true });
      if (target !== "done") throw new Error(`start of ${FENCE_TARGET}: ${target}`);
    } catch (err) {
      this.state = lapsed(this.state);
      this.log.error({ err: (err as Error).message }, "at-most-once fence not re-armed: no AtMostOnce unit starts until it is");
      return false;
    }
    const next = rearmed(this.timing, this.state, r, this.now());
    this.state = next.state;
    if (next.lateByMs > 0) this.log.warn({ lateByMs: Math.round(next.lateByMs) }, "at-most-once fence re-armed late: less time to stop before the lease can lapse");
    if (next.afterGap) this.log.info({ deadlineInMs: Math.round((fenceDeadline(this.timing, next.state) ?? 0) - this.now()) }, "at-most-once fence armed");
    return next.afterGap;
  }
}
