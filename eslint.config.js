// Lint: the layering of the workspaces and the mistakes type checks miss (floating promises).
import tseslint from "typescript-eslint";

const io = ["@grpc/grpc-js", "etcd3", "dbus-next", "nats", "pino", "@fleet/wire", "@fleet/testkit"];
const services = ["@fleet/registry-gateway", "@fleet/engine", "@fleet/agent", "@fleet/api", "fleetctl", "@fleet/dev"];

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "packages/wire/src/gen/**", "bench/**", "scripts/**", "**/bin/**", "*.config.*"] },
  {
    files: ["**/*.ts"],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { project: "./tsconfig.lint.json", tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
      "@typescript-eslint/no-explicit-any": "error",
    },
  },
  {
    files: ["packages/*/src/**/*.ts", "services/*/src/**/*.ts", "clients/*/src/**/*.ts", "tools/*/src/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: services, message: "services and clients never import each other: share code through packages/" }] }],
    },
  },
  {
    // The domain is pure: no transport, no storage, no D-Bus, no logging, no process I/O.
    files: ["packages/domain/src/**/*.ts"],
    ignores: ["packages/domain/src/**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: io.map((name) => ({ name, message: "packages/domain is pure: keep I/O at the edges" })),
          patterns: [{ group: ["node:*", "!node:crypto"], message: "packages/domain is pure: only node:crypto (for the unit hash)" }],
        },
      ],
    },
  },
  {
    // fleetctl is a client: it reaches the cluster only through the api.
    files: ["clients/fleetctl/src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { paths: ["etcd3", "dbus-next", "nats"].map((name) => ({ name, message: "fleetctl talks to the api only" })) },
      ],
    },
  },
);
