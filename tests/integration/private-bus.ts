// A private dbus-daemon for agent integration tests: a session bus on a socket in its own temp
// dir, open to everyone, on which a test plays systemd. `limits` adds <limit> elements.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface PrivateBus {
  readonly address: string;
  stop(): void;
}

export async function startPrivateBus(limits: Record<string, number> = {}): Promise<PrivateBus> {
  const dir = mkdtempSync(join(tmpdir(), "fleet-dbus-"));
  const config = join(dir, "bus.conf");
  const limitLines = Object.entries(limits).map(([name, value]) => `\n<limit name="${name}">${value}</limit>`).join("");
  writeFileSync(
    config,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path=${join(dir, "bus")}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>${limitLines}</busconfig>`,
  );
  // stderr ignored: the daemon logs every refused call, and an undrained pipe would block it.
  const daemon = spawn("dbus-daemon", ["--config-file", config, "--nofork", "--print-address"], { stdio: ["ignore", "pipe", "ignore"] });
  const address = await new Promise<string>((resolve, reject) => {
    daemon.stdout?.once("data", (b: Buffer) => resolve(b.toString().trim()));
    daemon.once("error", reject);
  });
  return {
    address,
    stop() {
      daemon.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
