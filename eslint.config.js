// Lint: the layering of the workspaces and the mistakes type checks miss (floating promises).
//
// The layering (docs/architecture.md, "Layering"), each line a rule below:
//   packages/domain     pure: imports nothing but its own modules and node:crypto
//   packages/wire       the transport: the only home of @grpc/grpc-js and nats; uses the domain
//   packages/launcher   the sandbox cluster (fleet-dev, bench, e2e); packages/testkit: test fixtures
//   services/*          use @fleet/domain and @fleet/wire, never each other; etcd3 only in the
//                       registry-gateway, dbus-next only in the agent
//   clients/*           use @fleet/domain and @fleet/wire only
//   tools/*             may also use the launcher and testkit; never a service's or a client's code
//   everywhere          a workspace by its name, never its src/ or dist/ nor a relative path into
//                       another workspace; no import cycles
//
// In flat config a later block's `no-restricted-imports` replaces an earlier one's (the options
// are not merged), so every folder gets exactly ONE block, its list computed from `layers` below.
// tests/lint/layering.test.ts plants a violation of each rule and checks that lint reports it.
import importX from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import tseslint from "typescript-eslint";

const SERVICES = ["@fleet/registry-gateway", "@fleet/engine", "@fleet/agent", "@fleet/api"];
const CLIENTS = ["fleetctl"];
const TOOLS = ["@fleet/dev"];
const SANDBOX = ["@fleet/launcher", "@fleet/testkit"];
const DOMAIN = "@fleet/domain";
const WIRE = "@fleet/wire";

/** Every name a layer may be kept from, with why. */
const guarded = {
  ...Object.fromEntries([...SERVICES, ...CLIENTS, ...TOOLS].map((n) => [n, "services, clients and tools never import each other: share code through packages/"])),
  ...Object.fromEntries(SANDBOX.map((n) => [n, "the sandbox launcher and test fixtures are for tests and tools, never for code that ships"])),
  "@grpc/grpc-js": "gRPC lives in @fleet/wire: take the types, status codes and helpers you need from @fleet/wire",
  nats: "NATS lives in @fleet/wire (nats-hints.ts)",
  etcd3: "only the registry-gateway talks to etcd",
  "dbus-next": "only the agent talks to D-Bus",
};

const TESTS = ["**/*.test.ts"];
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** Bans for every file: workspaces by name only, never by path. */
const everywhere = [
  { regex: "^(@fleet/[^/]+|fleetctl)/(src|dist)(/|$)", message: "import a workspace by its name (@fleet/x), never its src/ or dist/" },
  { regex: "^\\.\\.?/(.*/)?(src|dist)(/|$)", message: "a relative import stays inside its workspace: import @fleet/x, never ../../x/src/…" },
];

/** The layers: files, and which guarded names they may use (`pure`: nothing at all). */
const layers = [
  { files: ["packages/domain/src/**/*.ts"], ignores: TESTS, pure: "^(?!node:crypto$|\\.\\.?/)", why: "packages/domain is pure: it imports only its own modules and node:crypto (keep I/O at the edges)" },
  { files: ["packages/domain/src/**/*.test.ts"], pure: "^(?!node:|vitest$|fast-check$|@fleet/domain(/|$)|\\.\\.?/)", why: "packages/domain's tests use vitest, fast-check, node: and the domain only" },
  { files: ["packages/wire/src/**/*.ts"], uses: [DOMAIN, WIRE, "@grpc/grpc-js", "nats"] },
  { files: ["packages/launcher/src/**/*.ts"], uses: [DOMAIN, WIRE, "@fleet/launcher"] },
  { files: ["packages/testkit/src/**/*.ts"], uses: [DOMAIN, WIRE, ...SANDBOX] },
  { files: ["services/registry-gateway/src/**/*.ts"], uses: [DOMAIN, WIRE, "etcd3"] },
  { files: ["services/agent/src/**/*.ts"], uses: [DOMAIN, WIRE, "dbus-next"] },
  { files: ["services/engine/src/**/*.ts", "services/api/src/**/*.ts"], uses: [DOMAIN, WIRE] },
  { files: ["clients/*/src/**/*.ts"], uses: [DOMAIN, WIRE], why: "clients import only @fleet/wire and @fleet/domain" },
  { files: ["tools/*/src/**/*.ts"], uses: [DOMAIN, WIRE, ...SANDBOX] },
  // Black-box tests import any workspace by its name (and etcd, D-Bus and NATS to check them).
  { files: ["tests/**/*.ts"], uses: [...Object.keys(guarded).filter((n) => n !== "@grpc/grpc-js")] },
  // Tests that call fleet the way a third party's tools do: grpc-js and proto-loader, no @fleet/wire.
  { files: ["tests/integration/as-third-party/**/*.ts"], uses: Object.keys(guarded) },
];

/** The one `no-restricted-imports` of a layer: everywhere's bans plus its own. */
function restrictions(layer) {
  const own = layer.pure
    ? [{ regex: layer.pure, message: layer.why }]
    : Object.entries(guarded)
        .filter(([name]) => !layer.uses.includes(name))
        .map(([name, why]) => ({ regex: `^${escape(name)}(/|$)`, message: layer.why && name.startsWith("@fleet/") ? layer.why : why }));
  return ["error", { patterns: [...everywhere, ...own] }];
}

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "packages/wire/src/gen/**", "scripts/**", "**/bin/**", "*.config.*"] },
  {
    files: ["**/*.ts"],
    extends: [tseslint.configs.base],
    plugins: { "import-x": importX },
    languageOptions: { parserOptions: { project: "./tsconfig.lint.json", tsconfigRootDir: import.meta.dirname } },
    settings: {
      "import-x/extensions": [".ts", ".js", ".mjs"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
      // Workspaces resolve to their sources (the "source" export condition), as vitest does.
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "./tsconfig.lint.json", conditionNames: ["source", "types", "import", "default"] })],
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
      "@typescript-eslint/no-explicit-any": "error",
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
      "import-x/no-relative-packages": "error",
    },
  },
  ...layers.map((layer) => ({
    files: layer.files,
    ...(layer.ignores ? { ignores: layer.ignores } : {}),
    rules: { "no-restricted-imports": restrictions(layer) },
  })),
);
