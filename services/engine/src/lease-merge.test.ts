import { describe, expect, it } from "vitest";
import { mergeMachineLeases, type GatewayLease } from "./lease-merge.js";

const heard = (machineId: string, remainingMs: number): GatewayLease => ({ machineId, remainingMs, grantedMs: 5_000, heard: true });
const etcd = (machineId: string, remainingMs: number): GatewayLease => ({ machineId, remainingMs, grantedMs: 10_000, heard: false });

describe("mergeMachineLeases", () => {
  const cases: Array<[string, GatewayLease[][], Array<[string, number]>]> = [
    ["one gateway: its answers as they are", [[heard("a", 4_000), etcd("b", 9_000)]], [["a", 4_000], ["b", 9_000]]],
    ["the gateway that hears a machine has the word over etcd's healthy-looking lease", [[etcd("a", 9_000)], [heard("a", 500)]], [["a", 500]]],
    ["heard by two (the agent moved): the later heartbeat", [[heard("a", 300)], [heard("a", 4_800)]], [["a", 4_800]]],
    ["heard by none (its gateway is down): etcd's", [[etcd("a", 7_000)], [etcd("a", 6_000)]], [["a", 7_000]]],
    ["a machine only one gateway knows of", [[heard("a", 4_000)], [heard("b", 3_000)]], [["a", 4_000], ["b", 3_000]]],
    ["no answers", [], []],
  ];
  for (const [name, answers, expected] of cases) {
    it(name, () => {
      expect(mergeMachineLeases(answers).map((l) => [l.machineId, l.remainingMs])).toEqual(expected);
    });
  }
});
