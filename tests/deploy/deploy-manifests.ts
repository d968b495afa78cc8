// The manifests under deploy/, read the way `kubectl apply -f deploy/<flavour>/` reads them: every
// YAML document of every .yaml/.yml file, in file order. Typed views (the kubernetes-models
// interfaces) are handed out only for the kinds the tests look into; kubernetes-schema.ts validates
// every document against the Kubernetes schema first, which is what makes those casts honest.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const deployDir = join(repoRoot, "deploy");

/** One YAML document: `file` is relative to the repository root, `index` counts from 0. */
export interface ManifestDocument {
  readonly file: string;
  readonly index: number;
  readonly object: KubeObject;
}

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly [field: string]: unknown;
}

/** Parses one file's text; YAML errors and documents without apiVersion/kind throw with file and index. */
export function parseManifestText(text: string, file: string): ManifestDocument[] {
  const documents: ManifestDocument[] = [];
  parseAllDocuments(text).forEach((document, index) => {
    if (document.errors.length > 0) throw new Error(`${file}: document ${index}: ${document.errors[0]!.message}`);
    const value: unknown = document.toJS();
    if (value === null) return; // an empty document, e.g. after a trailing `---`
    const object = value as Partial<KubeObject>;
    if (typeof object.apiVersion !== "string" || typeof object.kind !== "string") {
      throw new Error(`${file}: document ${index}: expected a Kubernetes object with apiVersion and kind`);
    }
    documents.push({ file, index, object: object as KubeObject });
  });
  return documents;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return yamlFiles(path);
      return /\.ya?ml$/.test(entry.name) ? [path] : [];
    });
}

/** Every document under `dir` (default: deploy/). */
export function loadManifests(dir: string = deployDir): ManifestDocument[] {
  return yamlFiles(dir).flatMap((path) => parseManifestText(readFileSync(path, "utf8"), relative(repoRoot, path).replaceAll("\\", "/")));
}

export type Flavour = "gateway" | "sidecar";
export const flavours: readonly Flavour[] = ["gateway", "sidecar"];

/** The documents of one flavour (deploy/gateway/ or deploy/sidecar/). */
export function flavourManifests(flavour: Flavour, all: readonly ManifestDocument[] = loadManifests()): ManifestDocument[] {
  return all.filter((document) => document.file.startsWith(`deploy/${flavour}/`));
}

export function ofKind<T>(documents: readonly ManifestDocument[], kind: string): T[] {
  return documents.filter((document) => document.object.kind === kind).map((document) => document.object as unknown as T);
}

/** Both the app containers and the init containers (native sidecars are init containers). */
export function podContainers(spec: IPodSpec): IContainer[] {
  return [...(spec.initContainers ?? []), ...spec.containers];
}

/** The Deployment whose pods run a container named `vipr`, and that container; exactly one per flavour. */
export function viprWorkload(documents: readonly ManifestDocument[]): { deployment: IDeployment; pod: IPodSpec; vipr: IContainer } {
  const found = ofKind<IDeployment>(documents, "Deployment").flatMap((deployment) => {
    const pod = deployment.spec?.template.spec;
    const vipr = pod === undefined ? undefined : podContainers(pod).find((container) => container.name === "vipr");
    return pod === undefined || vipr === undefined ? [] : [{ deployment, pod, vipr }];
  });
  if (found.length !== 1) throw new Error(`expected one Deployment with a container named vipr, found ${found.length}`);
  return found[0]!;
}

/**
 * `vipr serve` flags from container args: `--flag value` and `--flag=value` forms, repeatable
 * flags collected in order. Example: ["serve", "--source", "kube", "--listen=0.0.0.0:8080"] gives
 * command "serve" and flags {source: ["kube"], listen: ["0.0.0.0:8080"]}.
 */
export function parseServeArgs(args: readonly string[]): { command: string | undefined; flags: Map<string, string[]> } {
  const flags = new Map<string, string[]>();
  const [command, ...rest] = args;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (!arg.startsWith("--")) throw new Error(`unexpected positional argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let value: string;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      const next = rest[i + 1];
      if (next === undefined || next.startsWith("--")) throw new Error(`flag --${name} has no value`);
      value = next;
      i++;
    }
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  return { command, flags };
}

/** "127.0.0.1:15000" -> 15000; IPv6 hosts in brackets work too ("[::]:9090"). */
export function portOf(address: string): number {
  const port = Number(address.slice(address.lastIndexOf(":") + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`no port in ${JSON.stringify(address)}`);
  return port;
}
