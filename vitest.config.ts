import { defineConfig } from "vitest/config";

// Three projects: pure unit tests beside the code, integration tests against real etcd and
// NATS, and end-to-end tests on a sandbox cluster of systemd-nspawn machines.
const resolve = { conditions: ["source"] };

export default defineConfig({
  test: {
    // Heavy test files start clusters of their own: one file at a time keeps them within 2 cores.
    fileParallelism: false,
    projects: [
      {
        resolve,
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts", "services/*/src/**/*.test.ts", "clients/*/src/**/*.test.ts", "tools/*/src/**/*.test.ts", "bench/src/**/*.test.ts", "tests/lint/**/*.test.ts"],
        },
      },
      {
        resolve,
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        resolve,
        test: {
          name: "e2e",
          include: ["tests/e2e/**/*.test.ts"],
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
