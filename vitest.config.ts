import { configDefaults, defineConfig } from "vitest/config";

// One config for both runtimes: `vitest run` (Node) and `deno run -A node_modules/vitest/vitest.mjs run`.
export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // The soak (issue 6) runs apart: `npm run test:chaos`, vitest.chaos.config.ts.
    exclude: [...configDefaults.exclude, "tests/chaos/**"],
    testTimeout: 30_000,
  },
});
