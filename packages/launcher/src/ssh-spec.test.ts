import { describe, expect, it } from "vitest";
import { addSshUser, forgetHostCommand, knownHostsLine, knownHostsName, sshdConfigText } from "./ssh-spec.js";

const host = {
  passwd: "root:x:0:0:root:/root:/bin/bash\nsystemd-network:x:998:998::/:/usr/sbin/nologin\nalice:x:500:500::/home/alice:/bin/bash\n",
  group: "root:x:0:\nsystemd-journal:x:999:\nadm:x:4:syslog\nalice:x:500:\n",
  shadow: "root:*:19000:0:99999:7:::\nalice:!:19000:0:99999:7:::\n",
};

describe("addSshUser", () => {
  it("adds the user at the first uid and gid >= 500 free as both, in systemd-journal and the fleet socket's group, with a password nothing matches", () => {
    const r = addSshUser(host, "core");
    expect(r.uid).toBe(501);
    expect(r.gid).toBe(501);
    expect(r.files.passwd.endsWith("alice:x:500:500::/home/alice:/bin/bash\ncore:x:501:501:fleet-dev ssh user:/home/core:/bin/bash\n")).toBe(true);
    expect(r.files.group).toBe("root:x:0:\nsystemd-journal:x:999:core\nadm:x:4:syslog\nalice:x:500:\nfleet:x:450:core\ncore:x:501:\n");
    expect(r.files.shadow.endsWith("core:*:19000:0:99999:7:::\n")).toBe(true);
  });
  it("skips ids taken as a gid only; joins systemd-journal after its members; copes with a missing last newline", () => {
    const r = addSshUser({ passwd: "root:x:0:0::/root:/bin/bash", group: "g:x:500:\nsystemd-journal:x:999:bob", shadow: "" }, "core");
    expect(r.uid).toBe(501);
    expect(r.files.passwd).toBe("root:x:0:0::/root:/bin/bash\ncore:x:501:501:fleet-dev ssh user:/home/core:/bin/bash\n");
    expect(r.files.group).toBe("g:x:500:\nsystemd-journal:x:999:bob,core\nfleet:x:450:core\ncore:x:501:\n");
    expect(r.files.shadow).toBe("core:*:19000:0:99999:7:::\n");
  });
  it("leaves a user that exists alone, and refuses a lone group of that name", () => {
    const r = addSshUser(host, "alice");
    expect(r).toEqual({ files: { ...host, group: `${host.group}fleet:x:450:\n` }, uid: 500, gid: 500 });
    expect(() => addSshUser({ ...host, group: `${host.group}core:x:600:\n` }, "core")).toThrow(/group core exists/);
  });
});

describe("known_hosts", () => {
  it("names the host bare on port 22 and [host]:port otherwise, as OpenSSH and fleet write it", () => {
    expect(knownHostsName("127.0.1.2", 22)).toBe("127.0.1.2");
    expect(knownHostsName("127.0.1.2", 2222)).toBe("[127.0.1.2]:2222");
    expect(knownHostsLine("127.0.1.2", 22, "ssh-ed25519 AAAAC3Nz root@m2\n")).toBe("127.0.1.2 ssh-ed25519 AAAAC3Nz\n");
    expect(() => knownHostsLine("127.0.1.2", 22, "garbage")).toThrow(/not an ssh public key/);
    expect(forgetHostCommand("/s/known_hosts", "127.0.1.2", 2222)).toBe("ssh-keygen -f /s/known_hosts -R '[127.0.1.2]:2222'");
  });
});

describe("sshdConfigText", () => {
  it("listens on the machine's own address only, key logins for one user, forwarding for --tunnel", () => {
    const text = sshdConfigText({ address: "127.0.1.3", port: 22, user: "core" });
    const lines = text.split("\n");
    expect(lines).toContain("ListenAddress 127.0.1.3:22");
    expect(lines).toContain("AllowUsers core");
    expect(lines).toContain("PasswordAuthentication no");
    expect(lines).toContain("AllowTcpForwarding yes");
    expect(lines).toContain("AllowStreamLocalForwarding yes");
    expect(lines.filter((l) => l.startsWith("ListenAddress"))).toHaveLength(1);
  });
});
