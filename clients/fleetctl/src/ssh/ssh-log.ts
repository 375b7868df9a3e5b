// What ssh's own messages (its -E log) mean, told in fleet 1.0's words (fleet's fleetctl had
// its own ssh client: ssh/known_hosts.go, ssh/ssh.go, fleetctl/ssh.go), and fleet's question
// about a host it does not know. Pure.
import { createHash } from "node:crypto";

/** Why ssh could not do its work. */
export type SshFailure =
  /** The host's key differs from the one in the known-hosts file: refused. */
  | {
      readonly kind: "host-key-changed";
      readonly keyType: string;
      readonly fingerprint: string;
      readonly knownHostsFile: string;
      /** OpenSSH's "Offending KEY in FILE:LINE" and the host to forget, when it said them. */
      readonly offending?: { readonly file: string; readonly line: number; readonly host: string };
    }
  /** An unknown host that was not trusted (answered no, or no terminal to ask on). */
  | { readonly kind: "host-unknown" }
  | { readonly kind: "connect"; readonly host: string; readonly port: string; readonly reason: string }
  | { readonly kind: "timeout" }
  | { readonly kind: "auth" }
  /** The connection ended during the session (the machine died, sshd was killed...). */
  | { readonly kind: "closed"; readonly reason: string }
  | { readonly kind: "other"; readonly reason: string };

export interface SshLog {
  readonly failure?: SshFailure;
  /** Lines to pass on as they are (messages fleetctl has no words of its own for). */
  readonly passOn: readonly string[];
}

/** The key type as fleet named it from OpenSSH's short name in its messages (fleet's
 * algoString: RSA, DSA, ECDSA, else the key's own type). */
export function fleetKeyType(opensshName: string): string {
  switch (opensshName) {
    case "RSA":
    case "DSA":
    case "ECDSA":
      return opensshName;
    case "ED25519":
      return "ssh-ed25519";
    case "ED25519-SK":
      return "sk-ssh-ed25519@openssh.com";
    case "ECDSA-SK":
      return "sk-ecdsa-sha2-nistp256@openssh.com";
    default:
      return opensshName;
  }
}

/** A host key a host offered ssh (recordOfferedKey): its name as known_hosts writes it
 * (host, or [host]:port), its type and its base64 blob. */
export interface OfferedKey {
  readonly host: string;
  readonly type: string;
  readonly key: string;
}

/** The keys in recordOfferedKey's file, in the order offered (ssh's "NONE" lines skipped). */
export function offeredKeys(text: string): OfferedKey[] {
  const out: OfferedKey[] = [];
  for (const line of text.split("\n")) {
    const [host = "", type = "", key = ""] = line.trim().split(/\s+/);
    if (host !== "" && type !== "" && type !== "NONE" && key !== "" && key !== "NONE") out.push({ host, type, key });
  }
  return out;
}

/** fleet's algoString of a key's wire type. */
export function algoString(type: string): string {
  if (type === "ssh-rsa") return "RSA";
  if (type === "ssh-dss") return "DSA";
  if (/^ecdsa-sha2-nistp(256|384|521)$/.test(type)) return "ECDSA";
  return type;
}

/** fleet's md5String of the key's wire form: "aa:bb:...". */
export function md5Fingerprint(keyBase64: string): string {
  const hex = createHash("md5").update(Buffer.from(keyBase64, "base64")).digest("hex");
  return hex.replace(/(..)(?!$)/g, "$1:");
}

/** fleet's promptToTrustHost. */
export function trustPrompt(k: OfferedKey): string {
  return `The authenticity of host '${k.host}' can't be established.\n${algoString(k.type)} key fingerprint is ${md5Fingerprint(k.key)}.\nAre you sure you want to continue connecting (yes/no)? `;
}

/** fleet's answer check: "yes" or "y", in any case. */
export function isYes(answer: string): boolean {
  const a = answer.trim().split(/\s+/)[0]?.toLowerCase() ?? "";
  return a === "yes" || a === "y";
}

/** The known_hosts line fleet appended for a trusted key (its renderHostLine). */
export function knownHostsEntry(k: OfferedKey): string {
  return `${k.host} ${k.type} ${k.key}\n`;
}

/** What fleet said once it had added the key. */
export function permanentlyAdded(k: OfferedKey): string {
  return `Warning: Permanently added '${k.host}' (${algoString(k.type)}) to the list of known hosts.\n`;
}

function sentence(text: string): string {
  const t = text.trim().replace(/\.$/, "");
  return t.charAt(0).toLowerCase() + t.slice(1);
}

/** Reads ssh's log. A failure is only reported for ssh's own exit code, 255. */
export function readSshLog(log: string, exitCode: number): SshLog {
  const lines = log.split("\n").map((l) => l.replace(/\r$/, ""));
  const meaningful = lines.filter((l) => l.trim() !== "");
  if (exitCode !== 255 || meaningful.length === 0) return { passOn: meaningful };
  const text = meaningful.join("\n");
  const find = (re: RegExp) => re.exec(text) ?? undefined;

  if (/REMOTE HOST IDENTIFICATION HAS CHANGED/.test(text)) {
    const fp = find(/The fingerprint for the (\S+) key sent by the remote host is\n(?:MD5:)?(\S+?)\.?\n/);
    const file = find(/Add correct host key in (.+) to get rid of this message\./);
    const offending = find(/Offending \S+ key in (.+):(\d+)/);
    const host = find(/ssh-keygen -f "[^"]*" -R "([^"]+)"/);
    return {
      passOn: [],
      failure: {
        kind: "host-key-changed",
        keyType: fleetKeyType(fp?.[1] ?? ""),
        fingerprint: fp?.[2] ?? "",
        knownHostsFile: file?.[1] ?? "",
        ...(offending && host ? { offending: { file: offending[1] ?? "", line: Number(offending[2]), host: host[1] ?? "" } } : {}),
      },
    };
  }
  if (/Host key verification failed\./.test(text)) return { passOn: [], failure: { kind: "host-unknown" } };
  const connect = find(/ssh: connect to host (\S+) port (\d+): (.+)/);
  if (connect) {
    const reason = connect[3] ?? "";
    if (/timed out/i.test(reason)) return { passOn: [], failure: { kind: "timeout" } };
    return { passOn: [], failure: { kind: "connect", host: connect[1] ?? "", port: connect[2] ?? "", reason: sentence(reason) } };
  }
  if (/Connection timed out during banner exchange|Operation timed out/.test(text)) return { passOn: [], failure: { kind: "timeout" } };
  if (/Permission denied \(/.test(text)) return { passOn: [], failure: { kind: "auth" } };
  const closed = find(/(Connection to \S+ closed by remote host\.?|client_loop: send disconnect: .+|Broken pipe)/);
  if (closed) return { passOn: [], failure: { kind: "closed", reason: sentence(closed[1] ?? "") } };
  return { passOn: [], failure: { kind: "other", reason: sentence(meaningful.at(-1) ?? "") } };
}

/** Did the failure happen before a session was open (fleet: building the client)? */
export function beforeSession(f: SshFailure): boolean {
  return f.kind !== "closed";
}

/** The error as fleet's Go client worded it (x/crypto/ssh, net, fleet's ssh package). */
export function failureError(f: SshFailure): string {
  switch (f.kind) {
    case "host-key-changed":
      return "ssh: handshake failed: host key mismatch";
    case "host-unknown":
      return "ssh: handshake failed: unauthorized host";
    case "connect":
      return `dial tcp ${f.host}:${f.port}: connect: ${f.reason}`;
    case "timeout":
      return "timed out while initiating SSH connection";
    case "auth":
      return "ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain";
    case "closed":
    case "other":
      return f.reason;
  }
}

/** What fleet printed before its error line: its known-hosts warning, or its refusal. */
export function failureNotice(f: SshFailure): string {
  if (f.kind === "host-unknown") return "Host key verification failed.\n";
  if (f.kind !== "host-key-changed") return "";
  return [
    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
    "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @",
    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
    "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!",
    "Someone could be eavesdropping on you right now (man-in-the-middle attack)!",
    "It is also possible that a host key has just been changed.",
    `The fingerprint for the ${f.keyType} key sent by the remote host is`,
    `${f.fingerprint}.`,
    "Please contact your system administrator.",
    `Add correct host key in ${f.knownHostsFile} to get rid of this message.`,
    "Host key verification failed.",
    "",
  ].join("\n");
}

/** Our line after fleet's text for a changed key: where the old key is and how to forget it. */
export function failureHint(f: SshFailure): string {
  if (f.kind !== "host-key-changed" || !f.offending) return "";
  const { file, line, host } = f.offending;
  return `Offending key in ${file}:${line}; if the machine was reinstalled, forget its old key with: ssh-keygen -f ${file} -R '${host}'\n`;
}
