// When whoever reads fleetctl's stdout or stderr goes away (`fleetctl journal -f x | head -3`),
// fleetctl ends at once and in silence, for every command. fleet's fleetctl did: a Go program
// writing to a closed stdout or stderr dies of SIGPIPE, which a shell reports as exit status
// 141 (128 + 13). Node ignores SIGPIPE and reports the failed write as an 'error' event on the
// stream instead, which, unhandled, ends the process with a stack trace and status 1.

/** The exit status of a program killed by SIGPIPE, as a shell reports it. */
export const CLOSED_OUTPUT_EXIT_CODE = 141;

/** Calls exit(141) once, on the first write to any of the streams after its reader closed it.
 * Other stream errors are not this function's: they are thrown as before. */
export function exitWhenOutputCloses(streams: readonly NodeJS.EventEmitter[], exit: (code: number) => void): void {
  let closed = false;
  const onError = (err: unknown): void => {
    if (closed) return;
    if (!(err instanceof Error && (err as NodeJS.ErrnoException).code === "EPIPE")) throw err;
    closed = true;
    exit(CLOSED_OUTPUT_EXIT_CODE);
  };
  for (const stream of streams) stream.on("error", onError);
}
