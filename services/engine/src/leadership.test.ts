import { describe, expect, it } from "vitest";
import { FakeClock, turn } from "@fleet/domain/fixtures";
import { createLogger } from "@fleet/wire";
import { Leadership, type LeadershipApi, type Term } from "./leadership.js";

const log = createLogger("leadership-test", "silent");
const TTL_S = 9;

/** The gateway's leadership key as one engine sees it: held by `holder`, or by nobody. */
class FakeLeadershipApi implements LeadershipApi {
  holder = "";
  fence = 0;
  calls: string[] = [];
  failAcquire = false;
  failRenew = false;

  async acquire(candidateId: string): Promise<{ elected: boolean; leaderId: string; term?: Term }> {
    this.calls.push("acquire");
    if (this.failAcquire) throw new Error("gateway unavailable");
    if (this.holder && this.holder !== candidateId) return { elected: false, leaderId: this.holder };
    this.holder = candidateId;
    this.fence++;
    return { elected: true, leaderId: candidateId, term: { leaseId: `lease-${this.fence}`, fence: this.fence } };
  }
  async renew(candidateId: string, term: Term): Promise<boolean> {
    this.calls.push("renew");
    if (this.failRenew) throw new Error("gateway unavailable");
    return this.holder === candidateId && term.fence === this.fence;
  }
  async resign(candidateId: string): Promise<void> {
    this.calls.push("resign");
    if (this.holder === candidateId) this.holder = "";
  }
}

async function started(api: FakeLeadershipApi) {
  const clock = new FakeClock();
  let elections = 0;
  const leadership = new Leadership(api, "e1", TTL_S, log, () => elections++, clock);
  leadership.start();
  await turn();
  return { clock, leadership, elections: () => elections };
}

describe("Leadership", () => {
  it("is elected at start and renews its term every third of the TTL", async () => {
    const api = new FakeLeadershipApi();
    const { clock, leadership, elections } = await started(api);
    expect(leadership.current()).toEqual({ leaseId: "lease-1", fence: 1 });
    expect(elections()).toBe(1);
    await clock.advanceAsync(2999);
    expect(api.calls).toEqual(["acquire"]);
    await clock.advanceAsync(1);
    expect(api.calls).toEqual(["acquire", "renew"]);
    await clock.advanceAsync(3000);
    expect(api.calls).toEqual(["acquire", "renew", "renew"]);
    expect(leadership.current()?.fence).toBe(1);
    await leadership.stop();
  });

  it("stands by while another engine leads, campaigning every half TTL, and leads once the key is free", async () => {
    const api = new FakeLeadershipApi();
    api.holder = "e2";
    const { clock, leadership, elections } = await started(api);
    expect(leadership.current()).toBeUndefined();
    await clock.advanceAsync(4500);
    expect(api.calls).toEqual(["acquire", "acquire"]);
    api.holder = "";
    await clock.advanceAsync(4500);
    expect(leadership.current()).toBeDefined();
    expect(elections()).toBe(1);
    await leadership.stop();
  });

  it("loses the term when a renewal is refused, and campaigns again after half the TTL", async () => {
    const api = new FakeLeadershipApi();
    const { clock, leadership } = await started(api);
    api.holder = "e2"; // the lease lapsed and another engine took the key
    await clock.advanceAsync(3000);
    expect(leadership.current()).toBeUndefined();
    api.holder = "";
    await clock.advanceAsync(4500);
    expect(leadership.current()).toEqual({ leaseId: "lease-2", fence: 2 });
    await leadership.stop();
  });

  it("keeps the term when a renewal fails for want of a gateway: etcd has not said it is lost", async () => {
    const api = new FakeLeadershipApi();
    const { clock, leadership } = await started(api);
    api.failRenew = true;
    await clock.advanceAsync(6000);
    expect(api.calls).toEqual(["acquire", "renew", "renew"]);
    expect(leadership.current()?.fence).toBe(1);
    await leadership.stop();
  });

  it("drops the term at once when a fenced write is refused (fence lost)", async () => {
    const api = new FakeLeadershipApi();
    const { clock, leadership } = await started(api);
    api.holder = "e2";
    leadership.lost("engine e1 is not the leader (fence 1)");
    expect(leadership.current()).toBeUndefined();
    api.holder = "";
    await clock.advanceAsync(4500);
    expect(leadership.current()?.fence).toBe(2);
    await leadership.stop();
  });

  it("retries a failed election after half the TTL, and campaigns at once when poked", async () => {
    const api = new FakeLeadershipApi();
    api.failAcquire = true;
    const { clock, leadership } = await started(api);
    expect(leadership.current()).toBeUndefined();
    api.failAcquire = false;
    api.holder = "e2";
    await clock.advanceAsync(4500);
    expect(api.calls).toEqual(["acquire", "acquire"]);
    api.holder = ""; // the leader key vanished: a hint pokes the standby
    leadership.poke();
    await turn();
    expect(leadership.current()).toBeDefined();
    expect(clock.pending).toBe(1);
    await leadership.stop();
  });

  it("resigns its term on stop and sets no more timers", async () => {
    const api = new FakeLeadershipApi();
    const { clock, leadership } = await started(api);
    await leadership.stop();
    expect(api.calls).toEqual(["acquire", "resign"]);
    expect(api.holder).toBe("");
    expect(leadership.current()).toBeUndefined();
    await clock.advanceAsync(60_000);
    expect(api.calls).toEqual(["acquire", "resign"]);
  });
});
