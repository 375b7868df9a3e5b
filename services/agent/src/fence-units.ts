// The systemd units of the at-most-once fence (see at-most-once-fence.ts) and the lines an
// AtMostOnce unit's file gets on the machine. Pure text; the agent writes them.
import { isAtMostOnceUnit, unitFileForSystemd, type Unit } from "@fleet/domain";

export const FENCE_TARGET = "fleet-at-most-once.target";
export const FENCE_TIMER = "fleet-fence.timer";
export const FENCE_SERVICE = "fleet-fence.service";

/** Appended to an AtMostOnce unit's file as written on the machine (a second [Unit] section
 * adds to the first). The stored unit and its hash do not change. */
export const AT_MOST_ONCE_LINES = [
  "",
  "# Added by fleet for [X-Fleet] AtMostOnce=true: runs only while fleet's fence is armed.",
  "[Unit]",
  `PartOf=${FENCE_TARGET}`,
  `Requisite=${FENCE_TARGET}`,
  `After=${FENCE_TARGET}`,
  "",
].join("\n");

/** The unit file exactly as the agent writes it (and compares it) on the machine: fleet's
 * serialized unit, continuations ("\\\n") kept for systemd to join (see unitFileForSystemd). */
export function unitFileOnMachine(unit: Unit): string {
  const file = unitFileForSystemd(unit.options);
  return isAtMostOnceUnit(unit.options) ? file + AT_MOST_ONCE_LINES : file;
}

/** Whether a unit file on the machine was written for an AtMostOnce unit. */
export function isFencedUnitFile(contents: string): boolean {
  return contents.endsWith(AT_MOST_ONCE_LINES);
}

/** The fence's three units, by name, for a timer delay of D ms. */
export function fenceUnitFiles(timerDelayMs: number): Map<string, string> {
  const d = Math.max(1, Math.floor(timerDelayMs));
  return new Map([
    [
      FENCE_TARGET,
      ["[Unit]", "Description=fleet: AtMostOnce units run only while this target is active", "DefaultDependencies=no", "StartLimitIntervalSec=0", ""].join("\n"),
    ],
    [
      FENCE_TIMER,
      [
        "[Unit]",
        "Description=fleet: stops the AtMostOnce units unless the agent renews its lease in time",
        "DefaultDependencies=no",
        // Restarted at every renewal (every agent_ttl/3): systemd's default start limit (5 in
        // 10 s) would refuse the sixth re-arm with start-limit-hit.
        "StartLimitIntervalSec=0",
        "",
        "[Timer]",
        `OnActiveSec=${d}ms`,
        "AccuracySec=50ms",
        // Inactive once elapsed: a restart arms it again, a start after it fired does too.
        "RemainAfterElapse=no",
        `Unit=${FENCE_SERVICE}`,
        "",
      ].join("\n"),
    ],
    [
      FENCE_SERVICE,
      [
        "[Unit]",
        "Description=fleet: the at-most-once fence fired",
        "DefaultDependencies=no",
        "StartLimitIntervalSec=0",
        `Conflicts=${FENCE_TARGET}`,
        "",
        "[Service]",
        "Type=oneshot",
        // Conflicts= does not reach the PartOf= units of a target that is already inactive;
        // an explicit stop does.
        `ExecStart=systemctl --no-block stop ${FENCE_TARGET}`,
        "",
      ].join("\n"),
    ],
  ]);
}
