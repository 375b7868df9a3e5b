// How every bench records a phase that failed: the error (with its stack) in the result's
// errors, a FAILED line in the log, and exit code 1 once the bench has cleaned up.

export function recordFailure(result: { errors: string[] }, err: unknown, log: (line: string) => void): void {
  const text = err instanceof Error ? (err.stack ?? String(err)) : String(err);
  result.errors.push(text);
  log(`FAILED: ${text}`);
  process.exitCode = 1;
}
