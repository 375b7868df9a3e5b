// Transport security for every gRPC hop: one identity per process. With a certificate and key
// a process serves TLS (and requires client certificates when it also has a CA); with a CA it
// verifies the servers it calls (and presents its own certificate, if it has one, for mutual
// TLS). Without files everything is plaintext, as on a loopback development cluster.
import { readFileSync } from "node:fs";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { credentials, experimental, ServerCredentials, type ChannelCredentials } from "@grpc/grpc-js";
import type { ConfigSchema } from "@fleet/domain";

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

export const tlsConfigSchema = {
  tls_cert_file: { kind: "string", default: "", help: "PEM certificate this process serves gRPC with (and presents as a client)" },
  tls_key_file: { kind: "string", default: "", help: "PEM private key of tls_cert_file" },
  tls_ca_file: { kind: "string", default: "", help: "PEM CA that servers and clients must be signed by (mutual TLS)" },
} as const satisfies ConfigSchema;

interface Loaded {
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly ca?: Buffer;
}

let loaded: Loaded = {};

function read(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read ${option} ${path}: ${(err as Error).message}`);
  }
}

let ipServerNameQuiet = false;

/**
 * grpc-js sends a server's address as its TLS server name even when it is an IP address, which
 * Node answers with a DEP0123 deprecation warning on stderr at every connection (fleetctl's output
 * included). The name is only a hint, the certificate is still checked against the address:
 * that one warning is dropped, every other passes.
 */
export function quietIpServerNameWarning(): void {
  if (ipServerNameQuiet) return;
  ipServerNameQuiet = true;
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((...args: unknown[]) => {
    const [, typeOrOptions, code] = args;
    const warningCode = typeof typeOrOptions === "object" && typeOrOptions !== null ? (typeOrOptions as { code?: unknown }).code : code;
    if (warningCode === "DEP0123") return;
    emit(...args);
  }) as typeof process.emitWarning;
}

/** Loads the process's TLS files; errors name the option. */
export function configureTls(files: TlsFiles): void {
  if ((files.certFile === "") !== (files.keyFile === "")) throw new Error("tls_cert_file and tls_key_file go together");
  if (files.certFile !== "" || files.caFile !== "") quietIpServerNameWarning();
  loaded = {
    ...(files.certFile ? { cert: read(files.certFile, "tls_cert_file"), key: read(files.keyFile, "tls_key_file") } : {}),
    ...(files.caFile ? { ca: read(files.caFile, "tls_ca_file") } : {}),
  };
}

/** From a resolved config holding tlsConfigSchema's options. */
export function configureTlsFromConfig(config: { tls_cert_file: string; tls_key_file: string; tls_ca_file: string }): void {
  configureTls({ certFile: config.tls_cert_file, keyFile: config.tls_key_file, caFile: config.tls_ca_file });
}

/**
 * The server's credentials: plaintext without a certificate; TLS with one; with a CA too,
 * client certificates are checked against it and required, or only asked for and checked when
 * `optionalClientCertificate` (a caller without one authenticates otherwise).
 */
export function serverCredentials(optionalClientCertificate = false): ServerCredentials {
  if (!loaded.cert || !loaded.key) return ServerCredentials.createInsecure();
  if (!optionalClientCertificate || !loaded.ca) {
    return ServerCredentials.createSsl(loaded.ca ?? null, [{ cert_chain: loaded.cert, private_key: loaded.key }], loaded.ca !== undefined);
  }
  const { cert, key, ca } = loaded;
  // grpc-js wants the certificates after it registered its listeners, not from within.
  const provider: experimental.CertificateProvider = {
    addCaCertificateListener: (listener) => void setImmediate(() => listener({ caCertificate: ca })),
    removeCaCertificateListener: () => undefined,
    addIdentityCertificateListener: (listener) => void setImmediate(() => listener({ certificate: cert, privateKey: key })),
    removeIdentityCertificateListener: () => undefined,
  };
  return experimental.createCertificateProviderServerCredentials(provider, provider, false);
}

/**
 * The identity check of a server that is one of several endpoints: grpc-js checks every
 * connection of a channel against one name (its first endpoint's), so a server passes when its
 * certificate is valid for any of the endpoints' names.
 */
export function anyNameCheck(names: readonly string[]): (host: string, cert: PeerCertificate) => Error | undefined {
  return (host, cert) => {
    let first: Error | undefined;
    for (const name of names.length > 0 ? names : [host]) {
      const err = checkServerIdentity(name, cert);
      if (!err) return undefined;
      first ??= err;
    }
    return first;
  };
}

/** Credentials to call servers with; `serverNames` are the hosts of an endpoint list (see anyNameCheck). */
export function channelCredentials(serverNames: readonly string[] = []): ChannelCredentials {
  if (!loaded.ca && !loaded.cert) return credentials.createInsecure();
  const names = [...new Set(serverNames)];
  const verify = names.length > 1 ? { checkServerIdentity: anyNameCheck(names) } : undefined;
  return credentials.createSsl(loaded.ca ?? null, loaded.key ?? null, loaded.cert ?? null, verify);
}

/**
 * Credentials to call servers that all present a certificate for `serverName`, whatever address
 * each is dialled at (agents sharing one certificate, as on Kubernetes).
 */
export function channelCredentialsForName(serverName: string): ChannelCredentials {
  if (!loaded.ca && !loaded.cert) return credentials.createInsecure();
  return credentials.createSsl(loaded.ca ?? null, loaded.key ?? null, loaded.cert ?? null, { checkServerIdentity: (_host, cert) => checkServerIdentity(serverName, cert) });
}

/**
 * The process's certificate, key and CA for an HTTPS server (HTTP API v1), when it serves TLS:
 * client certificates are asked for and checked against the CA, but not required (callers
 * with a token need none); undefined without a certificate.
 */
export function httpsServerOptions(): { cert: Buffer; key: Buffer; ca?: Buffer; requestCert: boolean; rejectUnauthorized: false } | undefined {
  if (!loaded.cert || !loaded.key) return undefined;
  return { cert: loaded.cert, key: loaded.key, ...(loaded.ca ? { ca: loaded.ca } : {}), requestCert: loaded.ca !== undefined, rejectUnauthorized: false };
}

/** The common name of a certificate's subject (node gives a list when it has several: the first). */
export function certificateCommonName(subject: unknown): string | undefined {
  const cn = typeof subject === "object" && subject !== null ? (subject as Record<string, unknown>).CN : undefined;
  const name = Array.isArray(cn) ? cn[0] : cn;
  return typeof name === "string" && name !== "" ? name : undefined;
}
