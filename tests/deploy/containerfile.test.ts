// deploy/Containerfile, checked without a container engine (none is available where the tests run):
// its stages and instructions, and agreement with the manifests (user, entrypoint, ports, default args).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { deployDir, flavourManifests, repoRoot, viprWorkload } from "./deploy-manifests.ts";

interface Instruction {
  readonly keyword: string;
  readonly value: string;
}

/** Instructions in order, comments dropped and `\` continuations joined. */
function parseContainerfile(text: string): Instruction[] {
  return text
    .replace(/\\\r?\n/g, " ")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const space = line.search(/\s/);
      return { keyword: line.slice(0, space).toUpperCase(), value: line.slice(space + 1).trim() };
    });
}

/** Splits the instructions at each FROM: [{from, name, body}]. */
function stages(instructions: readonly Instruction[]) {
  const out: { from: string; name: string | undefined; body: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") {
      const [from, as, name] = instruction.value.split(/\s+/);
      out.push({ from: from!, name: as?.toUpperCase() === "AS" ? name : undefined, body: [] });
    } else out.at(-1)?.body.push(instruction);
  }
  return out;
}

const instructions = parseContainerfile(readFileSync(join(deployDir, "Containerfile"), "utf8"));
const args = new Map(instructions.filter((i) => i.keyword === "ARG").map((i) => i.value.split("=") as [string, string]));
const resolve = (image: string) => image.replace(/^\$\{(\w+)\}$/, (_, name: string) => args.get(name) ?? image);
const [build, runtime] = stages(instructions);
const runs = (stage: typeof build) => stage!.body.filter((i) => i.keyword === "RUN").map((i) => i.value);
const last = (stage: typeof build, keyword: string) => stage!.body.filter((i) => i.keyword === keyword).at(-1)?.value;

describe("deploy/Containerfile", () => {
  test("two stages on a supported Node 24 base", () => {
    expect(stages(instructions)).toHaveLength(2);
    for (const stage of [build!, runtime!]) expect(resolve(stage.from)).toMatch(/^(node:24(-slim)?|gcr\.io\/distroless\/nodejs24[\w-]*)(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/);
  });

  test("the first stage installs the devDependencies (TypeScript, assemblyscript) and packs the npm package", () => {
    expect(runs(build)[0]).toMatch(/^npm ci\b/);
    expect(runs(build)[0]).not.toContain("--omit=dev");
    // The prepack build (WASM core, dist/), then npm pack: the image runs what npm users get.
    expect(runs(build).at(-1)).toMatch(/^node scripts\/build-package\.ts --pack && npm pack\b/);
    const copies = build!.body.filter((i) => i.keyword === "COPY").map((i) => i.value);
    for (const dir of ["scripts/", "examples/", "router/", "adapters/", "wasm/"]) expect(copies).toContain(`${dir} ${dir}`);
  });

  test("the runtime stage unpacks the package from the first stage and installs production dependencies only", () => {
    const copies = runtime!.body.filter((i) => i.keyword === "COPY").map((i) => i.value);
    expect(copies).toContain(`--from=${build!.name} /pack/vipr.tgz /tmp/vipr.tgz`);
    expect(runs(runtime).some((run) => /tar -xzf \/tmp\/vipr\.tgz\b/.test(run) && /\bnpm ci\b.*--omit=dev/.test(run))).toBe(true);
    // No sources in the image: only what the package ships.
    for (const dir of ["router/", "adapters/", "wasm/"]) expect(copies).not.toContain(`${dir} ${dir}`);
  });

  test("runs the vipr CLI as the numeric non-root user the manifests name", () => {
    const user = last(runtime, "USER")!;
    expect(user).toMatch(/^[1-9]\d*:\d+$/); // numeric, so the kubelet can verify runAsNonRoot
    for (const flavour of ["gateway", "sidecar"] as const) {
      const { pod } = viprWorkload(flavourManifests(flavour));
      expect(`${pod.securityContext?.runAsUser}:${pod.securityContext?.runAsGroup}`).toBe(user);
    }
    expect(JSON.parse(last(runtime, "ENTRYPOINT")!)).toEqual(["node", "dist/adapters/cli/vipr.js"]);
    // The package's bin, which the package build emits from adapters/cli/vipr.ts.
    const manifest = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { bin: Record<string, string> };
    expect(manifest.bin["vipr"]).toBe("dist/adapters/cli/vipr.js");
    expect(existsSync(join(repoRoot, "adapters/cli/vipr.ts"))).toBe(true);
  });

  test("exposes the gateway's ports, and defaults to the gateway's arguments", () => {
    const { vipr } = viprWorkload(flavourManifests("gateway"));
    expect(last(runtime, "EXPOSE")!.split(/\s+/).map(Number)).toEqual(vipr.ports!.map((p) => p.containerPort));
    expect(JSON.parse(last(runtime, "CMD")!)).toEqual(vipr.args);
  });
});
