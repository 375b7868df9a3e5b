// A throwaway CA and one certificate it signed for 127.0.0.1 (server and client use), made
// with openssl for TLS tests.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TestCerts {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export function makeCerts(dir: string): TestCerts {
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=fleet-test-ca", "-keyout", file("ca.key"), "-out", file("ca.pem"));
  writeFileSync(file("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n");
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=fleet", "-keyout", file("node.key"), "-out", file("node.csr"));
  openssl("x509", "-req", "-in", file("node.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial", "-days", "1", "-extfile", file("ext.cnf"), "-out", file("node.pem"));
  return { ca: file("ca.pem"), cert: file("node.pem"), key: file("node.key") };
}

/** Another certificate signed by the CA of `certs`, for client use, with the common name `cn`. */
export function makeClientCert(dir: string, certs: TestCerts, cn: string): { cert: string; key: string } {
  const file = (name: string) => join(dir, `${cn}.${name}`);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  writeFileSync(file("ext.cnf"), "extendedKeyUsage=clientAuth\n");
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${cn}`, "-keyout", file("key"), "-out", file("csr"));
  openssl("x509", "-req", "-in", file("csr"), "-CA", certs.ca, "-CAkey", certs.ca.replace(/ca\.pem$/, "ca.key"), "-CAcreateserial", "-days", "1", "-extfile", file("ext.cnf"), "-out", file("pem"));
  return { cert: file("pem"), key: file("key") };
}
