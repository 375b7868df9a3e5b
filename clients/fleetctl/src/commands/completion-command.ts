// fleetctl completion bash|zsh|fish: prints the shell's completion script (completion-scripts.ts).
import { warn } from "../context/context.js";
import { completionScript, SHELLS, type CompletionCatalog, type Shell } from "../output/completion-scripts.js";
import type { Command } from "./command.js";

/** The command, given how to read fleetctl's command table (it lists this command too). */
export function completionCommand(catalog: () => CompletionCatalog): Command {
  return {
    name: "completion",
    summary: "Output shell completion code for bash, zsh or fish",
    usage: "bash|zsh|fish",
    description: `Output shell completion code for the given shell. Commands, flags, and unit names
(of the cluster, and unit files here) complete.

Load it in the current bash shell:
	source <(fleetctl completion bash)

zsh:
	source <(fleetctl completion zsh)

fish:
	fleetctl completion fish | source`,
    flags: [],
    needsApi: false,
    async run(ctx, _flags, args) {
      const [shell, ...rest] = args;
      if (shell === undefined || rest.length > 0 || !(SHELLS as readonly string[]).includes(shell)) {
        warn(ctx, `fleetctl completion takes one shell: ${SHELLS.join(", ")}`);
        return 1;
      }
      ctx.output.stdout(completionScript(shell as Shell, catalog()));
      return 0;
    },
  };
}
