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

  test("the first stage installs the devDependencies (assemblyscript) and builds the WASM core", () => {
    expect(runs(build)[0]).toMatch(/^npm ci\b/);
    expect(runs(build)[0]).not.toContain("--omit=dev");
    expect(runs(build).at(-1)).toMatch(/(node scripts\/build-wasm\.ts|npm run build:wasm)$/);
  });

  test("the runtime stage has production dependencies only, and the WASM build from the first stage", () => {
    expect(runs(runtime).some((run) => /^npm ci\b.*--omit=dev/.test(run))).toBe(true);
    const copies = runtime!.body.filter((i) => i.keyword === "COPY").map((i) => i.value);
    expect(copies).toContain(`--from=${build!.name} /src/wasm/build/ wasm/build/`);
    for (const dir of ["router/", "adapters/", "wasm/"]) expect(copies).toContain(`${dir} ${dir}`);
  });

  test("runs the vipr CLI as the numeric non-root user the manifests name", () => {
    const user = last(runtime, "USER")!;
    expect(user).toMatch(/^[1-9]\d*:\d+$/); // numeric, so the kubelet can verify runAsNonRoot
    for (const flavour of ["gateway", "sidecar"] as const) {
      const { pod } = viprWorkload(flavourManifests(flavour));
      expect(`${pod.securityContext?.runAsUser}:${pod.securityContext?.runAsGroup}`).toBe(user);
    }
    expect(JSON.parse(last(runtime, "ENTRYPOINT")!)).toEqual(["node", "adapters/cli/vipr.ts"]);
    expect(existsSync(join(repoRoot, "adapters/cli/vipr.ts"))).toBe(true);
  });

  test("exposes the gateway's ports, and defaults to the gateway's arguments", () => {
    const { vipr } = viprWorkload(flavourManifests("gateway"));
    expect(last(runtime, "EXPOSE")!.split(/\s+/).map(Number)).toEqual(vipr.ports!.map((p) => p.containerPort));
    expect(JSON.parse(last(runtime, "CMD")!)).toEqual(vipr.args);
  });
});
