// After `start` has seen its units launched, fleet 1.0's fleetctl checks that systemd really
// runs them (its tryWaitForSystemdActiveState): 250 ms later and every 250 ms until 2 s have
// passed, each unit's state as its machine reports it must be ActiveState=active with
// LoadState=loaded. A unit whose process exits at once (ExecStart=/bin/false) is `failed` by
// then, and the start fails with fleet's message. A unit that is still `activating` after 2 s
// (or a oneshot that has finished, `inactive`) fails the same way, as it did with fleet.
import type { UnitState } from "@fleet/domain";
import { debug, errorMessage, type CommandContext } from "../context/context.js";

/** What the check needs of a command's context. */
export type ActiveCheckContext = Pick<CommandContext, "api" | "clock" | "output" | "debug">;

/** fleet's ticker: the first look comes this long after launched, and the next ones as often. */
export const ACTIVE_CHECK_EVERY_MS = 250;
/** fleet's defaultSleepTime: how long a unit has to become active. */
export const ACTIVE_CHECK_WITHIN_MS = 2_000;
/** While the states cannot be read (the api failing over), the check goes on up to this long:
 * a unit is only said not to be active on what its machine reported. */
export const ACTIVE_CHECK_UNREADABLE_MS = 10_000;

/** Whether the unit's machine reports it loaded and active in systemd. */
export function isSystemdActive(states: readonly UnitState[], name: string): boolean {
  return states.some((s) => s.name === name && s.loadState === "loaded" && s.activeState === "active");
}

/** fleet's error for a unit that was not active in time (Go prints 2 s as "2s"). */
export function notActiveError(name: string): string {
  return `Failed to find an active unit ${name} within 2s, err: Failed to fetch states within 2s`;
}

/**
 * Waits until systemd runs each unit, at most 2 s. Returns fleet's error for the first unit (in
 * the order given) that did not get there, or undefined when all did. A read that fails is
 * tried again; past 2 s the check ends at the next read that succeeds (or after 10 s).
 */
export async function waitForSystemdActive(ctx: ActiveCheckContext, names: readonly string[]): Promise<string | undefined> {
  const pending = new Set(names);
  if (pending.size === 0) return undefined;
  const start = ctx.clock.now();
  for (;;) {
    await ctx.clock.sleep(ACTIVE_CHECK_EVERY_MS);
    let read = false;
    try {
      const states = await ctx.api.listUnitStates([...pending]);
      read = true;
      for (const name of [...pending]) if (isSystemdActive(states, name)) pending.delete(name);
    } catch (err) {
      debug(ctx, `Retrying assertion of states. err: ${errorMessage(err)}`);
    }
    if (pending.size === 0) return undefined;
    const elapsed = ctx.clock.now() - start;
    if ((read && elapsed >= ACTIVE_CHECK_WITHIN_MS) || elapsed >= ACTIVE_CHECK_UNREADABLE_MS) break;
  }
  return notActiveError(names.find((name) => pending.has(name)) ?? "");
}
