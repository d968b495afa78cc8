// Kubernetes manifests (YAML, multi-document, or JSON, including `kind: List` and `*List`
// wrappers) to plain objects, with a precise error for every document that cannot be used: file,
// document index and field. Pure: the caller reads the files. One bad document never drops the
// others (partial failure).
import { LineCounter, parseAllDocuments } from "yaml";
import type { KubeEndpointSlice, KubePod, KubeService } from "../../router/table/kubernetes-objects.ts";
import { GATEWAY_API_VERSIONS, type GatewayApiKind } from "./gateway-api-manifests.ts";

/** The kinds the file source routes with; others are reported and skipped. */
export type ManifestKind = "Service" | "EndpointSlice" | "Pod" | "ReplicationController" | "Deployment" | GatewayApiKind | "Secret";

export interface ManifestObject {
  readonly kind: ManifestKind;
  readonly object: Record<string, unknown>;
  readonly file: string;
  /** 0-based document index in the file (items of a List count as their List's index). */
  readonly index: number;
  /** Where the object is inside its document: "items[2]" for an item of a List; absent at the top. */
  readonly path?: string;
}

export interface ManifestProblem {
  readonly file: string;
  readonly index: number;
  /** A field path inside the document, "" for the document as a whole. */
  readonly field: string;
  readonly message: string;
  /** The object this problem refuses, for a field the table builder would not take
   * (manifest-fields.ts); absent for problems of a whole document (YAML, kind, name). */
  readonly object?: { readonly kind: ManifestKind; readonly namespace: string; readonly name: string };
}

export interface ParsedManifests {
  readonly objects: readonly ManifestObject[];
  readonly problems: readonly ManifestProblem[];
}

const apiVersions: Readonly<Record<ManifestKind, readonly string[]>> = {
  Service: ["v1"],
  EndpointSlice: ["discovery.k8s.io/v1"],
  Pod: ["v1"],
  ReplicationController: ["v1"],
  Deployment: ["apps/v1"],
  ...GATEWAY_API_VERSIONS,
  // TLS Secrets, for the certificateRefs of Gateway HTTPS listeners (gateway-api-manifests.ts).
  Secret: ["v1"],
};

/** "file.yaml: document 2: spec.ports: ...", documents counted from 1 as a reader counts them (index 1). */
export function formatProblem(problem: ManifestProblem): string {
  const field = problem.field === "" ? "" : `${problem.field}: `;
  return `${problem.file}: document ${problem.index + 1}: ${field}${problem.message}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function classify(value: unknown, file: string, index: number, field: string, out: { objects: ManifestObject[]; problems: ManifestProblem[] }): void {
  const problem = (at: string, message: string): void => void out.problems.push({ file, index, field: at, message });
  if (value === null || value === undefined) return; // an empty document ("---" at the end)
  if (!isRecord(value)) return problem(field, `expected a Kubernetes object (a mapping), got ${Array.isArray(value) ? "a list" : typeof value}`);
  const at = (name: string): string => (field === "" ? name : `${field}.${name}`);
  const kind = value["kind"];
  if (typeof kind !== "string" || kind === "") return problem(at("kind"), "missing; expected Service, EndpointSlice, Pod, ReplicationController or Deployment");
  if (kind === "List" || kind.endsWith("List")) {
    const items = value["items"];
    if (!Array.isArray(items)) return problem(at("items"), `a ${kind} needs an items list`);
    items.forEach((item, i) => classify(item, file, index, at(`items[${i}]`), out));
    return;
  }
  if (!(kind in apiVersions)) {
    return problem(at("kind"), `${JSON.stringify(kind)} is not routed by vipr; expected Service, EndpointSlice, Pod, ReplicationController or Deployment`);
  }
  const known = kind as ManifestKind;
  const apiVersion = value["apiVersion"];
  if (!apiVersions[known].includes(String(apiVersion))) {
    return problem(at("apiVersion"), `${JSON.stringify(apiVersion ?? null)} is not an apiVersion of ${kind}; expected ${apiVersions[known].join(" or ")}`);
  }
  const metadata = value["metadata"];
  if (!isRecord(metadata) || typeof metadata["name"] !== "string" || metadata["name"] === "") {
    return problem(at("metadata.name"), `a ${kind} needs a name`);
  }
  out.objects.push(field === "" ? { kind: known, object: value, file, index } : { kind: known, object: value, file, index, path: field });
}

/** Parses one file's text. JSON is YAML, so one parser reads both. */
export function parseManifests(text: string, file: string): ParsedManifests {
  const out = { objects: [] as ManifestObject[], problems: [] as ManifestProblem[] };
  // With prettyErrors off, errors carry only offsets (no linePos); the counter turns an offset
  // into the line and column in the file, 1-based as editors show them.
  const lines = new LineCounter();
  const documents = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  const list = Array.isArray(documents) ? documents : [documents];
  list.forEach((document, index) => {
    if (document.errors.length > 0) {
      for (const error of document.errors) {
        const line = lines.linePos(error.pos[0]);
        const where = ` (line ${line.line}, column ${line.col})`;
        out.problems.push({ file, index, field: "", message: `YAML: ${error.message.split("\n")[0]}${where}` });
      }
      return;
    }
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: 100 });
    } catch (error) {
      // An alias to no anchor, or too many aliases (a "billion laughs" document): a problem of
      // this document, not a reason to drop the others.
      out.problems.push({ file, index, field: "", message: `YAML: ${(error as Error).message}` });
      return;
    }
    classify(value, file, index, "", out);
  });
  return out;
}

/** The objects of the kinds the table builder takes directly. */
export function tableInputOf(objects: readonly ManifestObject[]): { services: KubeService[]; endpointSlices: KubeEndpointSlice[]; pods: KubePod[] } {
  const services: KubeService[] = [];
  const endpointSlices: KubeEndpointSlice[] = [];
  const pods: KubePod[] = [];
  for (const { kind, object } of objects) {
    if (kind === "Service") services.push(object as KubeService);
    else if (kind === "EndpointSlice") endpointSlices.push(object as KubeEndpointSlice);
    else if (kind === "Pod") pods.push(object as KubePod);
  }
  return { services, endpointSlices, pods };
}
