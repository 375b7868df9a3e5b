// NATS for reconcile hints: connect with endless reconnects, publish and subscribe. A NATS
// outage only delays convergence: every loop also runs on its timer.
import { connect, type NatsConnection } from "nats";
import { decodeHint, encodeHint, type Hint } from "@fleet/domain";
import type { Logger } from "./logger.js";

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
        if (hint) onHint(hint);
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
      if (nc && !nc.isClosed()) nc.publish(subject, encodeHint(hint));
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
