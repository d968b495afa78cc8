// Builds what the npm package ships, into dist/: the WASM core (scripts/build-wasm.ts), then
// JavaScript, declarations and source maps from the TypeScript sources (tsconfig.build.json), then
// the demo's manifest. Runs as `prepack`, so `npm pack` and `npm publish` always ship a fresh
// build and nothing is built when the package is installed.
//
// The repository's `prepare` script (the WASM build on `npm ci`, for development) is taken out of
// the packed package.json and put back after (`postpack`, --restore): installed from a tarball,
// npm lists any `prepare` as an install script the user must approve, although it never runs
// there, and the package has nothing to build at install.
// Usage: node scripts/build-package.ts            (npm run build:package: dist/ only)
//        node scripts/build-package.ts --pack     (prepack: dist/, and package.json without `prepare`)
//        node scripts/build-package.ts --restore  (postpack: package.json as it was)
import { execFileSync } from "node:child_process";
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

const root = join(import.meta.dirname, "..");
const manifest = join(root, "package.json");
// Outside dist/, so it is never packed.
const savedManifest = join(root, "node_modules", ".cache", "vipr-pack", "package.json");

if (process.argv.includes("--restore")) {
  await writeFile(manifest, await readFile(savedManifest));
  await rm(savedManifest);
  process.exit(0);
}
const dist = join(root, "dist");
// The project's own tools, from node_modules/.bin, not whatever else is on PATH.
const bin = (name: string) => join(root, "node_modules", ".bin", name);

// Stale output of a removed source would otherwise be packed.
await rm(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, "scripts", "build-wasm.ts")], { cwd: root, stdio: "inherit" });
execFileSync(bin("tsc"), ["-p", join(root, "tsconfig.build.json")], { cwd: root, stdio: "inherit" });

// `vipr demo` reads ../../examples/simpleservice.yaml next to its module (adapters/cli/).
const demoManifest = join(dist, "examples", "simpleservice.yaml");
await mkdir(dirname(demoManifest), { recursive: true });
await cp(join(root, "examples", "simpleservice.yaml"), demoManifest);
if (!process.argv.includes("--pack")) {
  console.log("package build: dist/ ready");
  process.exit(0);
}
const original = await readFile(manifest, "utf8");
const packed = JSON.parse(original) as { scripts: Record<string, string> };
delete packed.scripts["prepare"];
await mkdir(dirname(savedManifest), { recursive: true });
await writeFile(savedManifest, original);
await writeFile(manifest, `${JSON.stringify(packed, null, 2)}\n`);
console.log("package build: dist/ ready; package.json without `prepare` until postpack");
