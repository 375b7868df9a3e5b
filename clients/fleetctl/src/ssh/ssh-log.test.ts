// ssh's own messages (OpenSSH 9.2, as logged with -E on the sandbox) read and told in fleet
// 1.0's words (its ssh/known_hosts.go, ssh/ssh.go and fleetctl/ssh.go).
import { describe, expect, it } from "vitest";
import { algoString, beforeSession, failureError, failureHint, failureNotice, fleetKeyType, isYes, knownHostsEntry, md5Fingerprint, offeredKeys, permanentlyAdded, readSshLog, trustPrompt } from "./ssh-log.js";

const CHANGED = `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
Someone could be eavesdropping on you right now (man-in-the-middle attack)!
It is also possible that a host key has just been changed.
The fingerprint for the ED25519 key sent by the remote host is
MD5:23:1e:35:f7:7b:f2:99:9e:af:5c:9b:17:af:18:95:af.
Please contact your system administrator.
Add correct host key in /home/u/.fleetctl/known_hosts to get rid of this message.
Offending ED25519 key in /home/u/.fleetctl/known_hosts:3
  remove with:
  ssh-keygen -f "/home/u/.fleetctl/known_hosts" -R "127.0.1.2"
Host key for 127.0.1.2 has changed and you have requested strict checking.
Host key verification failed.
`;

/** fleet 1.0's warningRemoteHostChanged for an ed25519 key (algoString keeps its type). */
const FLEET_CHANGED = `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
Someone could be eavesdropping on you right now (man-in-the-middle attack)!
It is also possible that a host key has just been changed.
The fingerprint for the ssh-ed25519 key sent by the remote host is
23:1e:35:f7:7b:f2:99:9e:af:5c:9b:17:af:18:95:af.
Please contact your system administrator.
Add correct host key in /home/u/.fleetctl/known_hosts to get rid of this message.
Host key verification failed.
`;

describe("readSshLog", () => {
  it("a changed host key: fleet's warning with its fingerprint format, and where the old key is", () => {
    const { failure, passOn } = readSshLog(CHANGED, 255);
    expect(passOn).toEqual([]);
    expect(failure).toEqual({
      kind: "host-key-changed",
      keyType: "ssh-ed25519",
      fingerprint: "23:1e:35:f7:7b:f2:99:9e:af:5c:9b:17:af:18:95:af",
      knownHostsFile: "/home/u/.fleetctl/known_hosts",
      offending: { file: "/home/u/.fleetctl/known_hosts", line: 3, host: "127.0.1.2" },
    });
    if (!failure) throw new Error("no failure");
    expect(failureNotice(failure)).toBe(FLEET_CHANGED);
    expect(failureError(failure)).toBe("ssh: handshake failed: host key mismatch");
    expect(failureHint(failure)).toBe(
      "Offending key in /home/u/.fleetctl/known_hosts:3; if the machine was reinstalled, forget its old key with: ssh-keygen -f /home/u/.fleetctl/known_hosts -R '127.0.1.2'\n",
    );
    expect(beforeSession(failure)).toBe(true);
  });

  const cases: [string, string, string, string][] = [
    [
      "an unknown host not trusted",
      "No ED25519 host key is known for 127.0.1.2 and you have requested strict checking.\nHost key verification failed.\n",
      "Host key verification failed.\n",
      "ssh: handshake failed: unauthorized host",
    ],
    ["nothing listens", "ssh: connect to host 127.0.1.2 port 22: Connection refused\r\n", "", "dial tcp 127.0.1.2:22: connect: connection refused"],
    ["no answer in --ssh-timeout", "ssh: connect to host 127.0.1.9 port 22: Connection timed out\n", "", "timed out while initiating SSH connection"],
    [
      "the key is refused (fleet used the agent's keys only)",
      "core@127.0.1.2: Permission denied (publickey).\n",
      "",
      "ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain",
    ],
    ["the connection broke in the session", "client_loop: send disconnect: Broken pipe\n", "", "client_loop: send disconnect: Broken pipe"],
    ["anything else: ssh's last word", "kex_exchange_identification: Connection closed by remote host\nConnection closed by 127.0.1.2 port 22\n", "", "connection closed by 127.0.1.2 port 22"],
  ];
  for (const [what, log, notice, error] of cases) {
    it(what, () => {
      const { failure } = readSshLog(log, 255);
      if (!failure) throw new Error("no failure read");
      expect(failureNotice(failure)).toBe(notice);
      expect(failureError(failure)).toBe(error);
      expect(failureHint(failure)).toBe("");
    });
  }

  it("a remote command's own exit code is no failure of ssh; what ssh said is passed on", () => {
    expect(readSshLog("", 255)).toEqual({ passOn: [] });
    expect(readSshLog("", 3)).toEqual({ passOn: [] });
    expect(readSshLog("channel 2: open failed: connect failed: Connection refused\n", 0)).toEqual({ passOn: ["channel 2: open failed: connect failed: Connection refused"] });
  });

  it("only a broken session is after the client was built", () => {
    expect(beforeSession({ kind: "closed", reason: "x" })).toBe(false);
    expect(beforeSession({ kind: "connect", host: "h", port: "22", reason: "r" })).toBe(true);
  });
});

describe("fleet's words for keys", () => {
  it("names key types as fleet's algoString did", () => {
    expect(["RSA", "DSA", "ECDSA", "ED25519", "ECDSA-SK", "ED25519-SK", "XMSS"].map(fleetKeyType)).toEqual([
      "RSA",
      "DSA",
      "ECDSA",
      "ssh-ed25519",
      "sk-ecdsa-sha2-nistp256@openssh.com",
      "sk-ssh-ed25519@openssh.com",
      "XMSS",
    ]);
  });
  it("names key types in prompts as fleet's algoString did", () => {
    expect(["ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp521", "ssh-ed25519"].map(algoString)).toEqual(["RSA", "DSA", "ECDSA", "ECDSA", "ssh-ed25519"]);
  });
});

describe("a host fleetctl does not know", () => {
  // A real ed25519 host key (its wire form in base64) and its MD5 fingerprint as ssh-keygen -l -E md5 prints it.
  const KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIEJmmi6xAK5HhB5yYqiH39ka7VuO8R3iz6xuKPYan2lF";
  const MD5 = "c0:82:45:b1:4c:62:30:3d:1a:cb:ee:12:04:ab:31:73";
  const offered = { host: "127.0.2.1", type: "ssh-ed25519", key: KEY };
  it("reads the keys ssh was offered, skipping its NONE lines", () => {
    expect(offeredKeys(`127.0.2.1 NONE NONE\n127.0.2.1 ssh-ed25519 ${KEY}\n[127.0.2.2]:2222 NONE NONE\n`)).toEqual([offered]);
  });
  it("asks fleet's question with fleet's MD5 fingerprint, takes yes or y, writes fleet's line and says so", () => {
    expect(md5Fingerprint(KEY)).toBe(MD5);
    expect(trustPrompt(offered)).toBe(`The authenticity of host '127.0.2.1' can't be established.\nssh-ed25519 key fingerprint is ${MD5}.\nAre you sure you want to continue connecting (yes/no)? `);
    expect(["yes", "Y", "YES please", " y", "no", "", "yess"].map(isYes)).toEqual([true, true, true, true, false, false, false]);
    expect(knownHostsEntry(offered)).toBe(`127.0.2.1 ssh-ed25519 ${KEY}\n`);
    expect(permanentlyAdded({ ...offered, host: "[127.0.2.1]:2222", type: "ecdsa-sha2-nistp256" })).toBe("Warning: Permanently added '[127.0.2.1]:2222' (ECDSA) to the list of known hosts.\n");
  });
});
