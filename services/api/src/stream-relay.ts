// Passing a stream from upstream (the gateway, an agent) on to a FleetService client.
import { failStream, fromServiceError, type ClientReadableStream, type Logger, type ServerWritableStream } from "@fleet/wire";

/** How often in a row a resumable stream is opened again without a message in between. */
const MAX_RESUMES = 5;

/**
 * Passes an upstream stream on to a client: each message mapped, paused while the client's
 * buffer is full, ended with the upstream's end or error, cancelled with the client. With
 * `resume`, an upstream that fails with UNAVAILABLE (its gateway went away) is opened again
 * (on the next gateway) after a short pause, up to MAX_RESUMES times in a row: a stream whose
 * first message is the whole current state (WatchUnits) goes on as if nothing happened.
 */
export function relay<Up, Req, Res>(
  open: () => ClientReadableStream<Up>,
  call: ServerWritableStream<Req, Res>,
  map: (message: Up) => Res,
  resume?: { readonly log: Logger; readonly what: string },
): void {
  let upstream: ClientReadableStream<Up>;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const attach = (): void => {
    const current = open();
    upstream = current;
    current.on("data", (message: Up) => {
      failures = 0;
      if (!call.write(map(message))) {
        current.pause();
        call.once("drain", () => current.resume());
      }
    });
    // grpc-js ends a stream that failed too ('error', then 'end'): only a clean end ends the call.
    let failed = false;
    current.on("end", () => {
      if (!failed && !closed) call.end();
    });
    current.on("error", (err: unknown) => {
      failed = true;
      if (closed || call.cancelled) return;
      const error = fromServiceError(err);
      if (resume && error.kind === "unavailable" && failures < MAX_RESUMES) {
        const delayMs = 50 * 2 ** failures++;
        resume.log.info({ err: error.message, delayMs }, `${resume.what}: upstream lost, opening it again`);
        timer = setTimeout(attach, delayMs);
        return;
      }
      failStream(call, err);
    });
  };
  call.on("cancelled", () => {
    closed = true;
    clearTimeout(timer);
    upstream.cancel();
  });
  attach();
}
