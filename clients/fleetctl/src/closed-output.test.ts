// fleetctl's output read by a program that exits early: `fleetctl journal -f x | head -3`.
// A real pipe to a real head; fleetctl must end with 141 (fleet's SIGPIPE) and print nothing.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, open, rmSync } from "node:fs";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { existing, HELLO, m1, setup } from "./cli/fleetctl-harness.js";
import { CLOSED_OUTPUT_EXIT_CODE, exitWhenOutputCloses } from "./closed-output.js";

describe("a closed stdout", () => {
  it("journal -f | head -3: head gets three lines, fleetctl ends with 141 and says nothing", async () => {
    // stdout as fleetctl has it in a shell pipeline: a pipe, head at the other end. (A child's
    // own stdin would not do: Node destroys it when the child exits, before any write fails.)
    const dir = mkdtempSync(join(tmpdir(), "fleetctl-pipe-"));
    const fifo = join(dir, "stdout");
    execFileSync("mkfifo", [fifo]);
    const head = spawn("head", ["-n", "3", fifo], { stdio: ["ignore", "pipe", "inherit"] });
    let headOut = "";
    head.stdout.on("data", (chunk: Buffer) => (headOut += chunk.toString()));
    const headDone = new Promise((resolve) => head.on("close", resolve));
    const stdout = new Socket({ fd: await promisify(open)(fifo, "w"), readable: false, writable: true });
    const stderr: string[] = [];
    const { api, run, interrupt } = setup({
      units: [existing("a.service", HELLO, { machineId: m1.id, currentState: "launched", desired: "launched" })],
      journals: { "a.service": ["line 0\n"] },
      output: { stdout: (t) => void stdout.write(t), stderr: (t) => void stderr.push(t) },
    });
    // As process.exit would, exiting ends the run (here: as Ctrl-C does).
    const exitCode = new Promise<number>((resolve) =>
      exitWhenOutputCloses([stdout], (code) => {
        resolve(code);
        interrupt();
      }),
    );
    const pending = run("journal", "-f", "a.service");
    let n = 1;
    const journald = setInterval(() => api.push("a.service", `line ${n++}\n`), 2);
    try {
      expect(await exitCode).toBe(CLOSED_OUTPUT_EXIT_CODE);
      await pending;
      await headDone;
    } finally {
      clearInterval(journald);
      stdout.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(headOut).toBe("line 0\nline 1\nline 2\n");
    expect(stderr.join("")).toBe("");
  });

  it("exits once however many writes fail, and leaves other stream errors alone", () => {
    const out = new PassThrough();
    const err = new PassThrough();
    const codes: number[] = [];
    exitWhenOutputCloses([out, err], (code) => codes.push(code));
    const epipe = Object.assign(new Error("write EPIPE"), { code: "EPIPE" });
    out.emit("error", epipe);
    err.emit("error", epipe);
    out.emit("error", epipe);
    expect(codes).toEqual([141]);
    const other = new PassThrough();
    exitWhenOutputCloses([other], (code) => codes.push(code));
    expect(() => other.emit("error", Object.assign(new Error("write EIO"), { code: "EIO" }))).toThrow("write EIO");
    expect(codes).toEqual([141]);
  });
});
