// The engine leader's fence: its writes compare that the leadership key still names the
// candidate and was created at `fence` (the term's first revision). A deposed leader's write
// fails them, whichever gateway it goes through.
import type { ICompare } from "etcd3";
import { FleetError } from "@fleet/domain";
import { created, valueIs } from "./etcd-ops.js";
import type { Keys } from "./keys.js";

export function leaderFence(keys: Keys, candidateId: string, fence: number): ICompare[] {
  return [created(keys.leader(), fence), valueIs(keys.leader(), candidateId)];
}

export function notLeader(candidateId: string, fence: number): FleetError {
  return new FleetError("failed-precondition", `engine ${candidateId} is not the leader (fence ${fence})`);
}
