// fleetctl completion: the scripts name every command and flag of fleetctl's table, and the bash
// one completes as a user would see it (run in bash, with a fleetctl stub for unit names).
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { setup } from "./fleetctl-harness.js";

const dir = mkdtempSync(join(tmpdir(), "fleetctl-completion-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What bash offers for the words typed (the last one being completed). */
function bashComplete(script: string, words: string[]): string[] {
  const stub = join(dir, "fleetctl");
  // A fleetctl on PATH that knows two units, as list-unit-files --no-legend --fields=unit prints them.
  writeFileSync(stub, '#!/bin/sh\nprintf "web.service\\nworker@1.service\\n"\n');
  chmodSync(stub, 0o755);
  writeFileSync(join(dir, "completion.bash"), script);
  const program = `source ${join(dir, "completion.bash")}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _fleetctl; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync("bash", ["-c", program], { cwd: dir, env: { PATH: `${dir}:/usr/bin:/bin` }, encoding: "utf8" })
    .split("\n")
    .filter((l) => l !== "")
    .sort();
}

describe("fleetctl completion", () => {
  it("bash: commands, a command's flags and the global ones, and unit names from the cluster", async () => {
    const { run } = setup();
    const r = await run("completion", "bash");
    expect(r.code).toBe(0);
    expect(bashComplete(r.stdout, ["fleetctl", "list-u"])).toEqual(["list-unit-files", "list-units"]);
    expect(bashComplete(r.stdout, ["fleetctl", "list-units", "--w"])).toEqual(["--watch"]);
    expect(bashComplete(r.stdout, ["fleetctl", "--endpoint", "x", "status", "--o"])).toEqual(["--output"]);
    expect(bashComplete(r.stdout, ["fleetctl", "--end"])).toEqual(["--endpoint"]);
    expect(bashComplete(r.stdout, ["fleetctl", "status", "w"])).toEqual(["web.service", "worker@1.service"]);
    expect(bashComplete(r.stdout, ["fleetctl", "co"])).toEqual(["completion"]);
  });

  it("zsh and fish: every command with its summary, and each command's flags", async () => {
    const { run } = setup();
    const zsh = (await run("completion", "zsh")).stdout;
    expect(zsh.startsWith("#compdef fleetctl\n")).toBe(true);
    expect(zsh).toContain("'list-units:List the current state of units in the cluster'");
    expect(zsh).toContain("'(-o --output)'{-o,--output}'=:output:[");
    const fish = (await run("completion", "fish")).stdout;
    expect(fish).toContain("complete -c fleetctl -n '__fish_use_subcommand' -a token -d 'Create, list and revoke API tokens (admin)'");
    expect(fish).toContain("complete -c fleetctl -n '__fish_seen_subcommand_from list-units' -l watch -s w -d");
    expect(fish).toContain("complete -c fleetctl -n '__fish_seen_subcommand_from status' -F -a '(__fleetctl_units)'");
  });

  it("refuses another shell, or none", async () => {
    const { run } = setup();
    expect(await run("completion", "tcsh")).toEqual({ code: 1, stdout: "", stderr: "fleetctl completion takes one shell: bash, zsh, fish\n" });
    expect((await run("completion")).code).toBe(1);
  });
});
