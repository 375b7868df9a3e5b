// The layering rules of eslint.config.js fire: each rule is shown a planted violation through
// ESLint's own API, in a file of the folder it guards, and must report it. The config is the
// repository's; only type-aware parsing is switched off here (it costs a TypeScript program and
// none of these rules needs types), so planted files need not exist on disk.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ESLint } from "eslint";
import { beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
let eslint: ESLint;

beforeAll(async () => {
  eslint = new ESLint({
    cwd: root,
    overrideConfig: {
      languageOptions: { parserOptions: { project: false } },
      rules: { "@typescript-eslint/no-floating-promises": "off", "@typescript-eslint/no-misused-promises": "off" },
    },
  });
  await lint("services/engine/src/planted.ts", ""); // loads the config and its plugins once
}, 120_000);

/** What lint says about `text` as the file at `path` (relative to the repository): rule: message. */
async function lint(path: string, text: string): Promise<string[]> {
  const [result] = await eslint.lintText(text, { filePath: join(root, path), warnIgnored: true });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? "parse"}: ${m.message}`);
}

describe("layering", { timeout: 60_000 }, () => {
  it("a client imports only @fleet/wire and @fleet/domain: a service is refused", async () => {
    expect(await lint("clients/fleetctl/src/planted.ts", 'import "@fleet/engine";\n')).toEqual([
      expect.stringMatching(/^no-restricted-imports: .*clients import only @fleet\/wire and @fleet\/domain/),
    ]);
    expect(await lint("clients/fleetctl/src/planted.ts", 'import "@fleet/launcher";\n')).toEqual([expect.stringMatching(/^no-restricted-imports: /)]);
  });

  it("services never import each other, by name or by a relative path", async () => {
    expect(await lint("services/api/src/planted.ts", 'import "@fleet/agent";\n')).toEqual([
      expect.stringMatching(/^no-restricted-imports: .*services, clients and tools never import each other/),
    ]);
    const relative = await lint("services/api/src/http/planted.ts", 'import "../../../agent/src/main.js";\n');
    expect(relative).toContainEqual(expect.stringMatching(/^no-restricted-imports: .*relative import stays inside its workspace/));
    expect(relative).toContainEqual(expect.stringMatching(/^import-x\/no-relative-packages: /));
  });

  it("tools run services, never import them", async () => {
    expect(await lint("tools/fleet-dev/src/planted.ts", 'import "@fleet/engine";\n')).toEqual([
      expect.stringMatching(/^no-restricted-imports: .*never import each other/),
    ]);
  });

  it("a workspace is imported by its name, never its src/ or dist/", async () => {
    for (const path of ["services/engine/src/planted.ts", "tests/e2e/planted.ts", "packages/launcher/src/planted.ts"]) {
      expect(await lint(path, 'import "@fleet/domain/src/index.js";\n')).toEqual([
        expect.stringMatching(/^no-restricted-imports: .*never its src\/ or dist\//),
      ]);
    }
  });

  it("@grpc/grpc-js only in packages/wire", async () => {
    const text = 'import { status } from "@grpc/grpc-js";\nexport const ok = status.OK;\n';
    for (const path of ["services/engine/src/planted.ts", "services/registry-gateway/src/planted.ts", "clients/fleetctl/src/planted.ts", "tests/integration/planted.ts"]) {
      expect(await lint(path, text)).toEqual([expect.stringMatching(/^no-restricted-imports: .*gRPC lives in @fleet\/wire/)]);
    }
    expect(await lint("packages/wire/src/planted.ts", text)).toEqual([]);
  });

  it("etcd only in the registry-gateway, D-Bus only in the agent", async () => {
    expect(await lint("services/agent/src/planted.ts", 'import "etcd3";\n')).toEqual([expect.stringMatching(/only the registry-gateway talks to etcd/)]);
    expect(await lint("services/registry-gateway/src/planted.ts", 'import "dbus-next";\n')).toEqual([expect.stringMatching(/only the agent talks to D-Bus/)]);
    expect(await lint("services/registry-gateway/src/planted.ts", 'import "etcd3";\n')).toEqual([]);
  });

  it("the domain is pure", async () => {
    for (const source of ["@fleet/wire", "pino", "node:fs", "@fleet/engine"]) {
      expect(await lint("packages/domain/src/planted.ts", `import "${source}";\n`)).toEqual([
        expect.stringMatching(/^no-restricted-imports: .*packages\/domain is pure/),
      ]);
    }
    expect(await lint("packages/domain/src/planted.ts", 'import { createHash } from "node:crypto";\nexport const h = createHash;\n')).toEqual([]);
  });

  it("what a layer may use lints clean", async () => {
    const text = 'import { FleetError } from "@fleet/domain";\nimport { createLogger } from "@fleet/wire";\nexport const x = [FleetError, createLogger];\n';
    for (const path of ["services/engine/src/planted.ts", "clients/fleetctl/src/planted.ts", "tools/fleet-dev/src/planted.ts"]) {
      expect(await lint(path, text)).toEqual([]);
    }
  });

  it("an import cycle is refused", async () => {
    // A module that packages/wire/src/index.ts re-exports, made to import the index back.
    const index = readFileSync(join(root, "packages/wire/src/index.ts"), "utf8");
    const reexported = /export \* from "\.\/([\w-]+)\.js";/.exec(index.replace(/.*\/gen\/.*\n/g, ""))?.[1];
    expect(reexported).toBeDefined();
    const text = 'import * as wire from "./index.js";\nexport const all = wire;\n';
    expect(await lint(`packages/wire/src/${reexported}.ts`, text)).toContainEqual(expect.stringMatching(/^import-x\/no-cycle: /));
  });
});
