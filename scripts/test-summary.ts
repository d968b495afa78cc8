// Prints one closing line for the whole suite, from the JSON reports that `npm run test:node`
// and `npm run test:deno` write: "Tests: N passed, N failed" (per runtime above it).
// Usage: node scripts/test-summary.ts .vitest/node.json .vitest/deno.json
import { readFile } from "node:fs/promises";

interface VitestJsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTotalTests: number;
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const path of process.argv.slice(2)) {
  const report = JSON.parse(await readFile(path, "utf8")) as VitestJsonReport;
  console.log(`${path}: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests} skipped`);
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests;
}
if (passed + failed === 0) {
  console.error("no test ran");
  process.exitCode = 1;
}
console.log(`Tests: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
