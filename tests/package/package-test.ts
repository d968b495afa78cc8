// The packaging test: vipr as a user installs it, not as this repository runs it. `npm pack` (the
// prepack build), the tarball installed into a fresh project in a temporary folder (from the
// tarball and the npm cache), then on Node 24 (this process's Node) and Node 22 (the `node@22`
// package, installed in that project): every entry point imported, the declarations type-checked,
// `vipr --help`, `vipr check`, `vipr serve --source file:...` routing one request to a loopback pod
// (the README's Install example; neither command may load the Kubernetes client), and a vitest
// file using vipr/testing as the README does; on Deno, every entry point through `npm:`,
// `deno run -A npm:vipr --help`, and `deno publish --dry-run` for the JSR package.
// A plain script, not part of `npm test`: it packs and installs, which the unit suite must not.
// Usage: npm run test:package   (node tests/package/package-test.ts [--keep] to keep the project)
import { once } from "node:events";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { runProcess, startProcess } from "./process-runner.ts";

const repoRoot = join(import.meta.dirname, "..", "..");
const keep = process.argv.includes("--keep");
const entryPoints = ["vipr", "vipr/node", "vipr/deno", "vipr/testing", "vipr/kubernetes", "vipr/files"] as const;

/** The version of a devDependency the repository has installed, so the project gets it from the npm cache. */
async function installedVersion(name: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(repoRoot, "node_modules", name, "package.json"), "utf8")) as { version: string };
  return manifest.version;
}

const started = performance.now();
function step(text: string): void {
  console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${text}`);
}

// The project's own node_modules/.bin (its Node 22) stays off PATH unless a step puts it there.
const baseEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
for (const name of Object.keys(baseEnv)) if (/^(https?|all|no)_proxy$/i.test(name)) delete baseEnv[name];

// Pay only for what you use: the file source, `check` and `--help` must not load the Kubernetes
// client (about 2.5 s and 85 MB on Node) nor the fake API server. A module hook (module.registerHooks,
// Node 22.15+) notes every package a process loads and prints the list as it exits.
const tracePackages = `import { registerHooks } from "node:module";
const packages = new Set();
registerHooks({
  load(url, context, next) {
    const match = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(url);
    if (match !== null) packages.add(match[1]);
    if (url.includes("/dist/adapters/kubernetes/")) packages.add("vipr/kubernetes");
    return next(url, context);
  },
});
process.on("exit", () => process.stderr.write("packages loaded: " + [...packages].sort().join(" ") + "\\n"));
`;

const work = await mkdtemp(join(tmpdir(), "vipr-package-"));
const project = join(work, "project");
try {
  step("npm pack");
  const packed = await runProcess("npm", ["pack", "--json", "--pack-destination", work], { cwd: repoRoot, env: baseEnv });
  const [{ filename, size, entryCount, files }] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as [
    { filename: string; size: number; entryCount: number; files: { path: string }[] },
  ];
  step(`packed ${filename}: ${(size / 1024).toFixed(0)} kB, ${entryCount} files`);
  // Only what users run: the build, the manifest, the README and the licence (no sources, tests or benchmarks).
  const topLevel = new Set(["package.json", "README.md", "LICENSE"]);
  const paths = files.map((file) => file.path);
  const unexpected = paths.filter((path) => !path.startsWith("dist/") && !topLevel.has(path));
  if (unexpected.length > 0) throw new Error(`the tarball holds files outside dist/: ${unexpected.join(", ")}`);
  if (!paths.includes("LICENSE")) throw new Error("the tarball has no LICENSE (package.json says Apache-2.0)");

  step("npm install into a fresh project: the tarball, node@22, vitest, msw, typescript, @types/node");
  await mkdir(join(project, "tests"), { recursive: true });
  await writeFile(
    join(project, "package.json"),
    // allowScripts: node@22 installs its binary from an install script, which npm 11 runs only when allowed.
    `${JSON.stringify({ name: "vipr-package-test", private: true, type: "module", allowScripts: { node: true } }, null, 2)}\n`,
  );
  const devPackages = await Promise.all(["vitest", "msw", "typescript", "@types/node"].map(async (name) => `${name}@${await installedVersion(name)}`));
  await runProcess("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", join(work, filename), "node@22", ...devPackages], { cwd: project, env: baseEnv });
  const installed = JSON.parse(await readFile(join(project, "node_modules", "vipr", "package.json"), "utf8")) as { scripts?: Record<string, string> };
  for (const hook of ["preinstall", "install", "postinstall", "prepare"]) {
    if (installed.scripts?.[hook] !== undefined) throw new Error(`the packed package.json has a ${hook} script; nothing may run at install`);
  }

  const nodes = [
    { name: "Node 24", major: 24, execPath: process.execPath },
    { name: "Node 22", major: 22, execPath: join(project, "node_modules", ".bin", "node") },
  ];
  const viprBin = join(project, "node_modules", ".bin", "vipr");
  const pod = await startLoopbackPod();
  try {
    await writeManifests(join(project, "manifests"), pod.port);
    await writeFile(join(project, "trace-packages.mjs"), tracePackages);
    await cp(join(import.meta.dirname, "consumer", "mocked-endpoints.vitest.ts"), join(project, "tests", "mocked-endpoints.test.ts"));

    step("tsc: the consumer test against the package's declarations");
    await writeFile(
      join(project, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { module: "nodenext", target: "es2023", lib: ["es2024", "dom", "dom.iterable"], types: ["node"], strict: true, noEmit: true, skipLibCheck: true }, include: ["tests"] }),
    );
    await runProcess(process.execPath, [join(project, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: project, env: baseEnv });

    for (const node of nodes) {
      // The bin's `#!/usr/bin/env node` finds this Node first.
      const env = { ...baseEnv, PATH: `${dirname(node.execPath)}${delimiter}${baseEnv["PATH"] ?? ""}` };

      step(`${node.name}: import every entry point`);
      const imported = await runProcess(node.execPath, ["--input-type=module", "-e", importScript("")], { cwd: project, env });
      checkImports(node.name, imported.stdout, `v${node.major}.`);

      // npx puts the project's node_modules/.bin first on PATH, where the node@22 package's
      // `node` is: so npx runs the bin on Node 22, and Node 24 runs the same bin link directly.
      step(`${node.name}: ${node.major === 22 ? "npx vipr --help" : "vipr --help (node_modules/.bin/vipr)"}`);
      const help = node.major === 22 ? await runProcess("npx", ["--no-install", "vipr", "--help"], { cwd: project, env }) : await runProcess(viprBin, ["--help"], { cwd: project, env });
      if (!help.stdout.includes("Usage: vipr <command>")) throw new Error(`${node.name}: vipr --help printed:\n${help.stdout}${help.stderr}`);

      step(`${node.name}: vipr check manifests/`);
      const check = await runProcess(node.execPath, ["--import", "./trace-packages.mjs", viprBin, "check", "manifests/"], { cwd: project, env });
      checkNotLoaded("vipr check", check.stderr);

      step(`${node.name}: vipr serve --source file:manifests/, one request routed to the loopback pod`);
      await serveAndRoute(node.execPath, viprBin, env, pod);

      step(`${node.name}: vitest, vipr/testing as in the README`);
      await runProcess(node.execPath, [join(project, "node_modules", "vitest", "vitest.mjs"), "run"], { cwd: project, env });
    }
  } finally {
    await pod.close();
  }

  step("Deno: import every entry point through npm:");
  const deno = join(repoRoot, "node_modules", ".bin", "deno");
  await writeFile(join(project, "entries.ts"), importScript("npm:"));
  const denoImported = await runProcess(deno, ["run", "-A", "--node-modules-dir=manual", "entries.ts"], { cwd: project, env: baseEnv });
  checkImports("Deno", denoImported.stdout, "deno");
  step("Deno: deno run -A npm:vipr --help");
  const denoHelp = await runProcess(deno, ["run", "-A", "--node-modules-dir=manual", "npm:vipr", "--help"], { cwd: project, env: baseEnv });
  if (!denoHelp.stdout.includes("Usage: vipr <command>")) throw new Error(`Deno: npm:vipr --help printed:\n${denoHelp.stdout}${denoHelp.stderr}`);

  // The JSR package, from the same sources (deno.json): type check, slow types, the file list.
  // --allow-dirty: a dry run publishes nothing, and a working copy with edits is still worth checking.
  step("Deno: deno publish --dry-run (JSR)");
  await runProcess(deno, ["publish", "--dry-run", "--allow-dirty"], { cwd: repoRoot, env: baseEnv });

  step("passed");
} finally {
  if (keep) console.log(`kept ${work}`);
  else await rm(work, { recursive: true, force: true });
}

/** A module that imports every entry point and prints, per entry point, how many exports it has. */
function importScript(prefix: string): string {
  return [
    `const counts = {};`,
    ...entryPoints.map((entry) => `counts[${JSON.stringify(entry)}] = Object.keys(await import(${JSON.stringify(prefix + entry)})).length;`),
    `const runtime = "Deno" in globalThis ? "deno " + globalThis.Deno.version.deno : process.version;`,
    `console.log(JSON.stringify({ runtime, counts }));`,
  ].join("\n");
}

function checkImports(name: string, stdout: string, runtimePrefix: string): void {
  const { runtime, counts } = JSON.parse(stdout.trim().split("\n").at(-1)!) as { runtime: string; counts: Record<string, number> };
  if (!runtime.startsWith(runtimePrefix)) throw new Error(`${name}: ran on ${runtime}, expected ${runtimePrefix}`);
  for (const entry of entryPoints) {
    if (!(counts[entry]! > 0)) throw new Error(`${name}: ${entry} has no exports (${JSON.stringify(counts)})`);
  }
  console.log(`  ${runtime}: ${entryPoints.map((entry) => `${entry} (${counts[entry]})`).join(", ")}`);
}

interface LoopbackPod {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** One pod of the service, as the examples run them: an HTTP server on its own loopback address. */
async function startLoopbackPod(): Promise<LoopbackPod> {
  const address = "127.0.0.2";
  const server = http.createServer((request, response) => {
    response.setHeader("content-type", "text/plain");
    response.end(`pod ${address} got ${request.method} ${request.url}\n`);
  });
  server.listen(0, address);
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    address,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())).then(() => server.closeAllConnections()),
  };
}

/**
 * The README's Install example: the service `hello` (port 80) and a Deployment whose one local pod
 * listens on 127.0.0.2 (vipr.io/local-addresses), on the loopback pod's port instead of 8000.
 */
async function writeManifests(folder: string, podPort: number): Promise<void> {
  await mkdir(folder, { recursive: true });
  const yaml = `apiVersion: v1
kind: Service
metadata: { name: hello }
spec: { selector: { app: hello }, ports: [{ port: 80, targetPort: ${podPort} }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: hello, annotations: { vipr.io/local-addresses: "127.0.0.2" } }
spec:
  replicas: 1
  selector: { matchLabels: { app: hello } }
  template:
    metadata: { labels: { app: hello } }
    spec: { containers: [{ name: web, image: web, ports: [{ containerPort: ${podPort} }] }] }
`;
  await writeFile(join(folder, "hello.yaml"), yaml);
}

/** Starts `vipr serve` on this Node, waits for its first table, routes one request, stops it with SIGTERM. */
async function serveAndRoute(nodeExecPath: string, viprBin: string, env: NodeJS.ProcessEnv, pod: LoopbackPod): Promise<void> {
  const vipr = startProcess(nodeExecPath, ["--import", "./trace-packages.mjs", viprBin, "serve", "--source", "file:manifests/", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"], { cwd: project, env });
  let failed = true;
  try {
    const [, port] = await vipr.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
    // The table line is printed after the table is set: from then on requests are routed.
    await vipr.waitFor(/table 1 from manifests\/: 1 services, 1 endpoints/);
    const response = await getWithHost(`http://127.0.0.1:${port}/hi`, "hello");
    const body = response.body;
    if (response.status !== 200 || body !== `pod ${pod.address} got GET /hi\n`) throw new Error(`GET hello/hi through vipr: ${response.status} ${body}`);
    console.log(`  GET http://hello/hi -> ${response.status} ${body.trim()}`);
    failed = false;
  } finally {
    vipr.signal("SIGTERM");
    const { code } = await vipr.exited;
    // A failure above is the one to report; the exit code is checked only after a success.
    if (!failed && code !== 0) throw new Error(`vipr serve exited with ${code} on SIGTERM:\n${vipr.output()}`);
  }
  checkNotLoaded("vipr serve --source file:", vipr.stderr());
}


function checkNotLoaded(what: string, stderr: string): void {
  const line = /^packages loaded: (.*)$/m.exec(stderr);
  if (line === null) throw new Error(`${what}: the module trace printed nothing:\n${stderr}`);
  const loaded = line[1]!.split(" ");
  const heavy = loaded.filter((name) => name === "@kubernetes/client-node" || name === "vipr/kubernetes");
  if (heavy.length > 0) throw new Error(`${what} loaded ${heavy.join(" and ")}, which only the Kubernetes source and vipr/testing need`);
  console.log(`  ${what} loaded: ${loaded.join(" ")}`);
}

/** GET with a Host header of our choosing (fetch forbids setting Host), as `curl -H 'Host: ...'`. */
async function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  const request = http.get(url, { headers: { host } });
  const [response] = (await once(request, "response")) as [http.IncomingMessage];
  let body = "";
  for await (const chunk of response.setEncoding("utf8")) body += chunk as string;
  return { status: response.statusCode ?? 0, body };
}
