// The request a piece of work is done for, carried through async calls (AsyncLocalStorage): a
// gRPC handler runs in its request's scope, every log line written within carries the request
// id (logger.ts), and every call made within sends it on as x-request-id (client.ts). Work that
// a request set off later, elsewhere (an engine round, an agent pass woken by a hint naming the
// request), runs in that request's scope again with withRequestId.
import { AsyncLocalStorage } from "node:async_hooks";
import { isRequestId } from "@fleet/domain";

export { isRequestId };

const scope = new AsyncLocalStorage<string>();

/** The id of the request the current work is for, if any. */
export function currentRequestId(): string | undefined {
  return scope.getStore();
}

/** Runs `fn` for request `requestId` (or outside any request when undefined). */
export function withRequestId<T>(requestId: string | undefined, fn: () => T): T {
  return requestId === undefined ? scope.exit(fn) : scope.run(requestId, fn);
}

/**
 * Request ids that woke a loop (engine rounds, agent passes) until its next pass takes them: the
 * pass runs in the first one's scope and logs them all. At most `max` are kept (the oldest go).
 */
export class PendingRequests {
  private ids: string[] = [];

  constructor(private readonly max = 32) {}

  add(requestId: string | undefined): void {
    if (!isRequestId(requestId) || this.ids.includes(requestId)) return;
    this.ids.push(requestId);
    if (this.ids.length > this.max) this.ids.shift();
  }

  /** The ids gathered since the last take, oldest first; empties the set. */
  take(): string[] {
    const ids = this.ids;
    this.ids = [];
    return ids;
  }
}
