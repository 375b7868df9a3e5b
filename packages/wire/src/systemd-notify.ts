// Type=notify under systemd: a service says it is up (READY=1) once it serves, so units ordered
// after it (After=) start only then. Node has no sd_notify; systemd-notify sends it for this
// process (--pid), which the unit allows with NotifyAccess=all. Outside systemd: nothing.
import { execFile } from "node:child_process";
import type { Logger } from "./logger.js";

export function notifySystemdReady(log: Logger): void {
  if (!process.env.NOTIFY_SOCKET) return;
  execFile("systemd-notify", ["--ready", `--pid=${process.pid}`], (err) => {
    if (err) log.warn({ err: err.message }, "could not tell systemd the service is ready (systemd-notify)");
  });
}
