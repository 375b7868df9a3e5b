// deploy/k8s's manifests against Kubernetes' own OpenAPI schemas (and cert-manager's CRD
// schemas), as the npm packages kubernetes-models and @kubernetes-models/cert-manager carry them,
// and against what fleet needs of them: its namespace, probes on the documented paths,
// resources, non-root control plane, the agent resolving Services from the host network.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { Certificate } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate";
import { Issuer } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer";
import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Service } from "kubernetes-models/v1/Service";

const dir = join(import.meta.dirname, "..", "..", "deploy", "k8s");
type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown> };
const docs: Array<{ file: string; doc: Doc }> = readdirSync(dir)
  .filter((f) => f.endsWith(".yaml"))
  .flatMap((file) => parseAllDocuments(readFileSync(join(dir, file), "utf8")).map((d) => ({ file, doc: d.toJS() as Doc })));

const models: Record<string, new (data: never) => { validate(): void }> = {
  "apps/v1/Deployment": Deployment,
  "apps/v1/DaemonSet": DaemonSet,
  "v1/Service": Service,
  "v1/ConfigMap": ConfigMap,
  "v1/Namespace": Namespace,
  "cert-manager.io/v1/Certificate": Certificate,
  "cert-manager.io/v1/Issuer": Issuer,
};

interface Container {
  name: string;
  readinessProbe?: { httpGet?: { path: string; port: string } };
  livenessProbe?: { httpGet?: { path: string; port: string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  ports?: Array<{ name?: string; containerPort: number }>;
  securityContext?: Record<string, unknown>;
}
const podSpec = (d: Doc) => (d.spec?.template as { spec: { containers: Container[]; dnsPolicy?: string; hostNetwork?: boolean; securityContext?: Record<string, unknown> } }).spec;
const workloads = docs.filter(({ doc }) => doc.kind === "Deployment" || doc.kind === "DaemonSet");

describe("deploy/k8s", () => {
  it.each(docs.map(({ file, doc }) => [`${file}: ${doc.kind} ${doc.metadata.name}`, doc] as const))("%s is valid against its schema", (_name, doc) => {
    const Model = models[`${doc.apiVersion}/${doc.kind}`];
    expect(Model, `no schema for ${doc.apiVersion} ${doc.kind}`).toBeDefined();
    if (Model) expect(() => new Model(doc as never).validate()).not.toThrow();
  });

  it("puts everything in the fleet namespace, which it defines", () => {
    expect(docs.some(({ doc }) => doc.kind === "Namespace" && doc.metadata.name === "fleet")).toBe(true);
    for (const { doc } of docs.filter(({ doc }) => doc.kind !== "Namespace")) expect(doc.metadata.namespace, `${doc.kind} ${doc.metadata.name}`).toBe("fleet");
  });

  it.each(workloads.map(({ doc }) => [doc.metadata.name, doc] as const))("%s: probes on /readyz and /healthz of its metrics port, and resources", (_name, doc) => {
    for (const c of podSpec(doc).containers) {
      expect(c.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: "metrics" });
      expect(c.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "metrics" });
      expect(c.ports?.some((p) => p.name === "metrics")).toBe(true);
      expect(c.resources?.requests?.cpu).toBeDefined();
      expect(c.resources?.limits?.memory).toBeDefined();
    }
  });

  it("runs the control plane as non-root with a read-only root, and the agent on the host network resolving Services", () => {
    for (const { doc } of workloads.filter(({ doc }) => doc.kind === "Deployment")) {
      expect(podSpec(doc).securityContext?.runAsNonRoot, doc.metadata.name).toBe(true);
      for (const c of podSpec(doc).containers) expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    }
    const agent = workloads.find(({ doc }) => doc.kind === "DaemonSet")?.doc;
    expect(agent && podSpec(agent)).toMatchObject({ hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" });
  });
});
