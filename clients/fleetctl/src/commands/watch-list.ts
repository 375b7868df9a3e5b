// list-units --watch: the list drawn again on every change the api pushes (WatchUnits with no
// names: every unit, new ones included), until Ctrl-C. On a terminal each drawing replaces the
// last; otherwise they follow each other (with --output json, one compact document per line).
// Without WatchUnits (HTTP API v1) the list is fetched again every POLL_MS. A watch the api ends
// (it restarted, a gateway failed over) is opened again.
import { errorMessage, warn, type CommandContext } from "../context/context.js";
import type { UnitWatch } from "../api/fleet-api.js";

/** Changes arriving within this long are drawn once. */
export const COALESCE_MS = 100;
/** How often the list is fetched when the endpoint cannot push changes. */
export const POLL_MS = 2000;
/** How long after a watch ended it is opened again. */
export const REOPEN_MS = 1000;

const CLEAR_SCREEN = "\x1b[H\x1b[2J";

/** Draws (via `draw`: 0 when it could) at once, then after every change, until interrupted. */
export async function watchList(ctx: CommandContext, draw: () => Promise<number>): Promise<number> {
  let stopped = false;
  let watch: UnitWatch | undefined;
  let wake: (() => void) | undefined;
  const stopListening = ctx.processes.onInterrupt(() => {
    stopped = true;
    watch?.cancel();
    wake?.();
  });
  const redraw = async () => {
    if (ctx.output.terminal) ctx.output.stdout(CLEAR_SCREEN);
    return draw();
  };
  try {
    if ((await redraw()) !== 0) return 1;
    let changed = false;
    while (!stopped) {
      const watchUnits = ctx.api.watchUnits?.bind(ctx.api);
      if (!watchUnits) {
        await ctx.clock.sleep(POLL_MS);
        if (!stopped) await redraw();
        continue;
      }
      // One watch at a time: each message marks the list changed and wakes the loop below.
      let first = true;
      const current = watchUnits([], () => {
        if (first) {
          first = false; // the units as they are: already drawn
          return;
        }
        changed = true;
        wake?.();
      });
      watch = current;
      let ended = false;
      current.done.then(
        () => ((ended = true), wake?.()),
        (err: unknown) => {
          ended = true;
          if (!stopped) warn(ctx, `watch interrupted (${errorMessage(err)}); opening it again`);
          wake?.();
        },
      );
      while (!stopped && !ended) {
        if (!changed) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        if (stopped || !changed) continue;
        await ctx.clock.sleep(COALESCE_MS);
        changed = false;
        if (!stopped) await redraw();
      }
      if (!stopped) {
        await ctx.clock.sleep(REOPEN_MS);
        changed = true; // what changed meanwhile
      }
    }
    return 0;
  } finally {
    stopListening();
    watch?.cancel();
  }
}
