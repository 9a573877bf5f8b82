// Shared vitest settings: workspace packages resolve to their TypeScript sources, so a test
// always runs against the code beside it, never against a stale dist/ of a sibling package.
import { fileURLToPath } from "node:url";
import { defineConfig, type UserConfig } from "vitest/config";

const packagesDir = fileURLToPath(new URL("./packages/", import.meta.url));

export function sharedConfig(overrides: UserConfig["test"] = {}): UserConfig {
  return defineConfig({
    resolve: {
      alias: [
        { find: /^@open-ot\/([a-z-]+)\/server$/, replacement: `${packagesDir}$1/src/server.ts` },
        { find: /^@open-ot\/([a-z-]+)$/, replacement: `${packagesDir}$1/src/index.ts` },
      ],
    },
    test: {
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      testTimeout: 30_000,
      hookTimeout: 30_000,
      ...overrides,
    },
  });
}
