import { defineConfig } from "vitest/config";

// One config for both runtimes: `vitest run` (Node) and `deno run -A node_modules/vitest/vitest.mjs run`.
export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 30_000,
  },
});
