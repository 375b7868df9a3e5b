import { describe, expect, it } from "vitest";
import {
  emptyFilterTables,
  healRestoreInput,
  MAX_CHAIN_NAME,
  partitionChainName,
  partitionHealCommands,
  partitionRestoreInput,
  partitionRules,
} from "./partition-rules.js";

describe("partitionChainName", () => {
  it("is FLEET-<cluster>-<machine> when that fits iptables' 28 characters", () => {
    expect(partitionChainName("default", "m1")).toBe("FLEET-default-m1");
    expect(partitionChainName("faults1234", "web-1")).toBe("FLEET-faults1234-web-1");
  });
  it("stays unique and within 28 characters for long names", () => {
    const long = "a-very-long-cluster-name-1234567";
    const names = [
      partitionChainName(long, "m1"),
      partitionChainName(long, "m2"),
      partitionChainName(long, "m1"),
      partitionChainName("a-very-long-cluster-name-1234568", "m1"),
      partitionChainName("c", "x".repeat(32)),
      partitionChainName("d", "x".repeat(32)),
    ];
    for (const n of names) {
      expect(n.length).toBeLessThanOrEqual(MAX_CHAIN_NAME);
      expect(n.startsWith("FLEET-")).toBe(true);
    }
    expect(names[0]).toBe(names[2]); // same inputs, same name
    expect(new Set([names[0], names[1], names[3], names[4], names[5]]).size).toBe(5);
  });
});

describe("partition rules", () => {
  const t = { chain: "FLEET-c-m1", cgroupPath: "fleet-c-m1", ip: "127.0.1.1" };
  it("IPv4: cgroup and destination IP, SYN rejected with a reset, the rest dropped, hooked first in OUTPUT, one transaction", () => {
    expect(partitionRestoreInput(t, "iptables")).toBe(
      [
        "*filter",
        ":FLEET-c-m1 - [0:0]",
        "-A FLEET-c-m1 -m cgroup --path fleet-c-m1 -p tcp --syn -j REJECT --reject-with tcp-reset",
        "-A FLEET-c-m1 -m cgroup --path fleet-c-m1 -j DROP",
        "-A FLEET-c-m1 -d 127.0.1.1 -p tcp --syn -j REJECT --reject-with tcp-reset",
        "-A FLEET-c-m1 -d 127.0.1.1 -j DROP",
        "-I OUTPUT 1 -j FLEET-c-m1",
        "COMMIT",
        "",
      ].join("\n"),
    );
  });
  it("IPv6: the cgroup rules and the jump (the machine's IP is IPv4); never INPUT", () => {
    expect(partitionRules(t, "ip6tables").map((r) => r.join(" "))).toEqual([
      "-A FLEET-c-m1 -m cgroup --path fleet-c-m1 -p tcp --syn -j REJECT --reject-with tcp-reset",
      "-A FLEET-c-m1 -m cgroup --path fleet-c-m1 -j DROP",
      "-I OUTPUT 1 -j FLEET-c-m1",
    ]);
    for (const bin of ["iptables", "ip6tables"] as const) expect(partitionRestoreInput(t, bin)).not.toContain("INPUT");
  });
  it("heal unhooks (repeatedly), flushes and deletes the chain in both families", () => {
    expect(partitionHealCommands("FLEET-c-m1").map((c) => `${c.bin} ${c.args.join(" ")}${c.repeat ? " (repeat)" : ""}`)).toEqual([
      "iptables -w -D OUTPUT -j FLEET-c-m1 (repeat)",
      "iptables -w -F FLEET-c-m1",
      "iptables -w -X FLEET-c-m1",
      "ip6tables -w -D OUTPUT -j FLEET-c-m1 (repeat)",
      "ip6tables -w -F FLEET-c-m1",
      "ip6tables -w -X FLEET-c-m1",
    ]);
  });
});

describe("healRestoreInput", () => {
  it("unhooks, flushes and deletes in one transaction", () => {
    expect(healRestoreInput("FLEET-c-m1")).toBe("*filter\n-D OUTPUT -j FLEET-c-m1\n-F FLEET-c-m1\n-X FLEET-c-m1\nCOMMIT\n");
  });
});

describe("emptyFilterTables", () => {
  const meta = { metainfo: { version: "1.0.6", json_schema_version: 1 } };
  const table = (family: string, name = "filter") => ({ table: { family, name, handle: 1 } });
  const base = (family: string, name: string, policy = "accept") => ({ chain: { family, table: "filter", name, handle: 1, type: "filter", hook: name.toLowerCase(), prio: 0, policy } });
  const rule = (family: string, table = "filter") => ({ rule: { family, table, chain: "OUTPUT", handle: 4, expr: [] } });
  const cases: { name: string; items: unknown[]; empty: string[] }[] = [
    { name: "base chains only, accepting, both families", items: [meta, table("ip"), base("ip", "INPUT"), base("ip", "OUTPUT"), table("ip6"), base("ip6", "OUTPUT")], empty: ["ip", "ip6"] },
    { name: "tables without chains", items: [meta, table("ip6"), table("ip")], empty: ["ip", "ip6"] },
    { name: "a rule left in ip only", items: [meta, table("ip"), base("ip", "OUTPUT"), rule("ip"), table("ip6"), base("ip6", "OUTPUT")], empty: ["ip6"] },
    { name: "a user chain left", items: [meta, table("ip"), base("ip", "OUTPUT"), { chain: { family: "ip", table: "filter", name: "FLEET-x-m1", handle: 5 } }], empty: [] },
    { name: "a dropping policy", items: [meta, table("ip"), base("ip", "OUTPUT", "drop")], empty: [] },
    { name: "other tables are not ours to judge", items: [meta, table("ip", "nat"), table("inet", "filter"), rule("ip", "nat")], empty: [] },
    { name: "a rule in another table does not matter", items: [meta, table("ip"), base("ip", "OUTPUT"), table("ip", "nat"), rule("ip", "nat")], empty: ["ip"] },
    { name: "nothing at all", items: [meta], empty: [] },
  ];
  for (const c of cases) it(c.name, () => expect(emptyFilterTables(JSON.stringify({ nftables: c.items }))).toEqual(c.empty));
  it("not JSON", () => expect(emptyFilterTables("Error: Operation not permitted")).toEqual([]));
});
