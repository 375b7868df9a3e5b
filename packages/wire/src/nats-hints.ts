// NATS for reconcile hints: connect with endless reconnects, publish and subscribe. A NATS
// outage only delays convergence: every loop also runs on its timer.
import { connect, type NatsConnection } from "nats";
import { ALL_MACHINES_SUBJECT, decodeHint, encodeHint, ENGINE_SUBJECT, type Hint } from "@fleet/domain";
import type { Logger } from "./logger.js";
import { hintsReceived, hintsSent } from "./metrics.js";

/** A hint subject's kind for metrics: engine, machine (one machine's) or machines (all of them). Pure. */
export function hintKind(subject: string): string {
  if (subject === ENGINE_SUBJECT) return "engine";
  if (subject === ALL_MACHINES_SUBJECT) return "machines";
  return subject.startsWith("fleet.hints.machine.") ? "machine" : "other";
}

export interface HintBus {
  publish(subject: string, hint: Hint): void;
  subscribe(subject: string, onHint: (hint: Hint) => void): void;
  close(): Promise<void>;
}

export async function connectHintBus(servers: readonly string[], name: string, log: Logger): Promise<HintBus> {
  let nc: NatsConnection | undefined;
  const pending: Array<[string, (h: Hint) => void]> = [];
  const attach = (conn: NatsConnection, subject: string, onHint: (h: Hint) => void) => {
    conn.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return log.warn({ err: err.message, subject }, "hint subscription error");
        const hint = decodeHint(msg.data);
        if (!hint) return;
        hintsReceived.inc({ kind: hintKind(subject) });
        onHint(hint);
      },
    });
  };
  const open = async (): Promise<void> => {
    try {
      nc = await connect({ servers: [...servers], name, maxReconnectAttempts: -1, reconnectTimeWait: 500, waitOnFirstConnect: true });
      log.info({ servers }, "connected to NATS");
      for (const [s, f] of pending) attach(nc, s, f);
    } catch (err) {
      log.warn({ err: (err as Error).message }, "NATS unavailable; relying on reconcile timers");
      setTimeout(() => void open(), 2000).unref();
    }
  };
  // Don't block start-up on NATS: hints are an optimisation.
  void open();
  return {
    publish(subject, hint) {
      if (!nc || nc.isClosed()) return;
      nc.publish(subject, encodeHint(hint));
      hintsSent.inc({ kind: hintKind(subject) });
    },
    subscribe(subject, onHint) {
      pending.push([subject, onHint]);
      if (nc) attach(nc, subject, onHint);
    },
    async close() {
      if (nc) await nc.drain().catch(() => undefined);
    },
  };
}
