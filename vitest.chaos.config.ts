import { defineConfig } from "vitest/config";

// The long tests (issue 6's soak): `npm run test:chaos` runs them on Node and Deno, apart from the
// main suite. One file at a time, so the memory figures of one test are not another's.
export default defineConfig({
  test: {
    include: ["tests/chaos/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
